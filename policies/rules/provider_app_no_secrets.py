"""The provider app is multitenant and has no password: federation is its only credential.

Installing the app in the customer's tenant needs ``signInAudience`` AzureADMultipleOrgs
(the SDK's default is AzureADMyOrg). A password, inline or as an ApplicationPassword for
the app, is a secret that can leak and expire, which the federated credential exists to
avoid. Every Application in the stack is treated as the provider app.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import get, is_unknown, same, text
from policies.relations import Stack, resolve_application
from policies.resource_kinds import Kind

META = RuleMeta(
    name="provider-app-no-secrets",
    description="Provider apps are multitenant (AzureADMultipleOrgs) and have no password.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "no-secrets",
                    "multitenant app registration, with no secrets or certificates to manage"),),
    remediation=("Set sign_in_audience='AzureADMultipleOrgs', drop the password block and "
                 "delete ApplicationPassword resources for the app."),
    url="https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant",
)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    for app in stack.of_kind(Kind.APPLICATION):
        audience = get(app.props, "signInAudience")
        if is_unknown(audience):
            yield Undecided("signInAudience is unknown", app.urn)
        elif not ((found := text(audience)) and same(found, "AzureADMultipleOrgs")):
            yield Violation(f"signInAudience is {audience!r}; the app must be "
                            "AzureADMultipleOrgs to be installed in the customer's tenant.",
                            app.urn)
        password = get(app.props, "password")
        if is_unknown(password):
            yield Undecided("password is unknown", app.urn)
        elif password:
            yield Violation("the application has a password block.", app.urn)
    for secret in stack.of_kind(Kind.APPLICATION_PASSWORD):
        owner = resolve_application(stack, secret)
        if owner.targets:
            yield Violation(f"ApplicationPassword {secret.name} adds a password to "
                            f"{owner.targets[0].name}.", secret.urn)
        elif owner.undecided:
            yield Undecided("which application the password belongs to", secret.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
