"""The CMK app is multitenant and federation is its only credential.

Installing the app in the customer's tenant needs ``signInAudience`` AzureADMultipleOrgs
(the SDK's default is AzureADMyOrg). Any other credential is a secret that can leak and
lets its holder act as the app in every customer tenant that installed it: a password or
certificate on the app (inline, or as ApplicationPassword / ApplicationCertificate, found
by reference or by literal application id), a password or certificate on one of its
service principals, a federated credential other than the CMK one (token exchange, Entra
issuer, a managed identity of this stack as subject) — a CI system's, say — or a federated
credential on that managed identity itself, which lets its issuer become the identity.

The CMK app is identified by what it is used for (:mod:`policies.cmk_app`), so other
applications in the stack that legitimately hold credentials are not judged here.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.azure_refs import issuer_tenant
from policies.cmk_app import cmk_apps, cmk_identities, cmk_principals, is_token_exchange
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import get, is_unknown, same, text
from policies.relations import (
    Resolution,
    Stack,
    output_matcher,
    resolve,
    resolve_application,
    resolve_identity,
)
from policies.resource_kinds import Kind

META = RuleMeta(
    name="provider-app-no-secrets",
    description=("The CMK app is multitenant (AzureADMultipleOrgs) and has no credential but "
                 "its CMK federated credential: no password or certificate on it or its "
                 "service principals."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "no-secrets",
                    "multitenant app registration, with no secrets or certificates to manage"),),
    remediation=("Set sign_in_audience='AzureADMultipleOrgs'; drop the password block; delete "
                 "ApplicationPassword, ApplicationCertificate, ServicePrincipalPassword and "
                 "ServicePrincipalCertificate resources of the CMK app and any federated "
                 "credential on it other than the managed identity's token exchange."),
    url="https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant",
)

_APP_CREDENTIALS = (Kind.APPLICATION_PASSWORD, Kind.APPLICATION_CERTIFICATE)
_PRINCIPAL_CREDENTIALS = (Kind.SERVICE_PRINCIPAL_PASSWORD, Kind.SERVICE_PRINCIPAL_CERTIFICATE)


def _app(app: PolicyResource) -> Iterator[Finding]:
    audience = get(app.props, "signInAudience")
    if is_unknown(audience):
        yield Undecided("signInAudience is unknown", app.urn)
    elif not ((found := text(audience)) and same(found, "AzureADMultipleOrgs")):
        yield Violation(f"signInAudience is {audience!r}; the CMK app must be "
                        "AzureADMultipleOrgs to be installed in the customer's tenant.", app.urn)
    for block in ("password", "passwords"):
        value = get(app.props, block)
        if is_unknown(value):
            yield Undecided(f"{block} is unknown", app.urn)
        elif value:
            yield Violation(f"the CMK app has a {block} block: a secret that can act as the app "
                            "in every customer tenant.", app.urn)


def _owned(credential: PolicyResource, owner: Resolution, cmk: Mapping[str, PolicyResource],
           what: str) -> Iterator[Finding]:
    hits = [t for t in owner.targets if t.urn in cmk]
    if hits:
        yield Violation(f"{credential.resource_type.rsplit(':', 1)[-1]} {credential.name} adds "
                        f"a {what} to {hits[0].name}, part of the CMK app.", credential.urn)
    elif owner.undecided and cmk:
        yield Undecided(f"whether {credential.name} belongs to the CMK app", credential.urn)


def _federation(stack: Stack, credential: PolicyResource) -> Iterator[Finding]:
    """A federated credential on the CMK app that is not the managed identity's exchange."""
    issuer = get(credential.props, "issuer")
    if not is_token_exchange(credential) or (
            not is_unknown(issuer) and issuer_tenant(text(issuer) or "") is None):
        yield Violation(f"federated credential {credential.name} (issuer {issuer!r}) lets "
                        "that issuer act as the CMK app in every customer tenant; only the "
                        "managed identity's token exchange may.", credential.urn)
        return
    subject = resolve_identity(stack, credential, "subject")
    if subject.undecided or is_unknown(issuer):
        yield Undecided(f"whether {credential.name} federates a managed identity of this stack",
                        credential.urn)
    elif not subject.targets:
        yield Violation(f"federated credential {credential.name} has subject "
                        f"{get(credential.props, 'subject')!r}, not a managed identity of this "
                        "stack; it lets another principal act as the CMK app.", credential.urn)


def _identity_federation(stack: Stack) -> Iterator[Finding]:
    """A federated credential on the managed identity the CMK app federates: its issuer can
    act as the identity, and through it as the CMK app."""
    identities = cmk_identities(stack)
    candidates = stack.of_kind(Kind.USER_ASSIGNED_IDENTITY)
    for credential in stack.of_kind(Kind.IDENTITY_FEDERATED_CREDENTIAL):
        owner = resolve(credential, "resourceName", get(credential.props, "resourceName"),
                        candidates, output_matcher("name", "resourceName", "id"))
        hits = [i for i in owner.targets if i.urn in identities]
        if hits:
            yield Violation(f"federated credential {credential.name} (issuer "
                            f"{get(credential.props, 'issuer')!r}) on managed identity "
                            f"{hits[0].name} lets that issuer act as the identity, and through "
                            "it as the CMK app in every customer tenant.", credential.urn)
        elif owner.undecided and identities:
            yield Undecided(f"whether {credential.name} federates the CMK app's identity",
                            credential.urn)


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    apps = cmk_apps(stack)
    principals = cmk_principals(stack)
    for app in apps.values():
        yield from _app(app)
    for credential in stack.of_kind(*_APP_CREDENTIALS):
        yield from _owned(credential, resolve_application(stack, credential), apps, "credential")
    for credential in stack.of_kind(*_PRINCIPAL_CREDENTIALS):
        owner = resolve(credential, "servicePrincipalId",
                        get(credential.props, "servicePrincipalId"),
                        stack.of_kind(Kind.SERVICE_PRINCIPAL), output_matcher("id", "objectId"))
        yield from _owned(credential, owner, principals, "credential")
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        if any(a.urn in apps for a in resolve_application(stack, credential).targets):
            yield from _federation(stack, credential)
    yield from _identity_federation(stack)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
