"""The federated credential's subject is the user-assigned identity the bindings use.

The credential lets the provider app be used by exactly one managed identity: its
subject must be that identity's principal (object) id, and its issuer the tenant that
identity lives in. The identity is found through the engine's dependencies (the subject
is an output of the identity) or by comparing principal ids once known.
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
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import UNKNOWN, get, is_unknown, text
from policies.relations import Stack, resolve_identity
from policies.resource_kinds import Kind

META = RuleMeta(
    name="federated-credential-subject",
    description=("Federated credentials name a user-assigned identity of this stack as subject, "
                 "issued by that identity's tenant."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "managed-identity",
                    "a user-assigned managed identity is attached to the multitenant app"),),
    remediation=("Set subject=uami.principal_id and issuer to "
                 "https://login.microsoftonline.com/<the identity's tenant id>/v2.0."),
    url=("https://learn.microsoft.com/entra/workload-id/"
         "workload-identity-federation-config-app-trust-managed-identity"),
)


def identity_tenant(identity: PolicyResource) -> Any:
    """The identity's tenant: its ``tenantId`` output or its provider's, whichever is known."""
    values = (get(identity.props, "tenantId"),
              get(identity.provider.props, "tenantId") if identity.provider else None)
    for value in values:
        if found := text(value):
            return found.lower()
    return UNKNOWN if any(is_unknown(v) for v in values) else None


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    stack = Stack(args.resources)
    for credential in stack.of_kind(Kind.FEDERATED_CREDENTIAL):
        identities = resolve_identity(stack, credential, "subject")
        if identities.undecided:
            yield Undecided("which identity the subject names", credential.urn)
            continue
        if not identities.targets:
            yield Violation(f"subject {get(credential.props, 'subject')!r} is not the principal "
                            "id of a user-assigned identity in this stack.", credential.urn)
            continue
        issuer = get(credential.props, "issuer")
        tenant = None if is_unknown(issuer) else issuer_tenant(text(issuer) or "")
        for identity in identities.targets:
            expected = identity_tenant(identity)
            if is_unknown(issuer) or is_unknown(expected):
                yield Undecided("the issuer and identity tenants to compare", credential.urn)
            elif expected and tenant != expected:
                yield Violation(f"issuer {issuer!r} is not the tenant {expected} of identity "
                                f"{identity.name}.", credential.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
