"""The provider app's federated credential trusts exactly the provider tenant's token exchange.

The audience must be Entra's token-exchange audience and nothing else, and the issuer the
v2.0 endpoint of a tenant; when the credential's azuread provider declares ``tenantId``,
the issuer must be that tenant (the provider tenant, where the identity lives). Which
identity the subject names is checked against the stack by
``federated-credential-subject``.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.azure_refs import issuer_tenant
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import elements, get, is_unknown, text
from policies.resource_kinds import Kind

AUDIENCE: Final = "api://AzureADTokenExchange"

META = RuleMeta(
    name="federated-credential-claims",
    description=("Federated credentials accept only the api://AzureADTokenExchange audience from "
                 "the provider tenant's v2.0 issuer."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "federated-credential",
                    "the provider app uses its managed identity through a federated credential, "
                    "without secrets"),),
    remediation=("Set audiences to exactly [api://AzureADTokenExchange] and issuer to "
                 "https://login.microsoftonline.com/<provider tenant id>/v2.0."),
    url=("https://learn.microsoft.com/entra/workload-id/"
         "workload-identity-federation-config-app-trust-managed-identity"),
)


def _audiences(props: Any) -> Iterator[Finding]:
    value = get(props, "audiences")
    items = None if is_unknown(value) else elements(value)
    if is_unknown(value) or (items and any(is_unknown(i) for i in items)):
        yield Undecided("audiences is unknown")
    elif items != [AUDIENCE]:
        yield Violation(f"audiences is {items!r}; it must be exactly ['{AUDIENCE}'].")


def _issuer(args: ResourceValidationArgs) -> Iterator[Finding]:
    issuer = get(args.props, "issuer")
    if is_unknown(issuer):
        yield Undecided("issuer is unknown")
        return
    tenant = issuer_tenant(text(issuer) or "")
    if tenant is None:
        yield Violation(f"issuer {issuer!r} is not https://login.microsoftonline.com/"
                        "<tenant id>/v2.0.")
        return
    declared = get(args.provider.props, "tenantId") if args.provider else None
    if is_unknown(declared):
        yield Undecided("the provider's tenantId is unknown")
    elif (provider_tenant := text(declared)) and provider_tenant.lower() != tenant:
        yield Violation(f"issuer tenant {tenant} is not the provider tenant {provider_tenant} "
                        "of this credential's azuread provider.")


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _audiences(args.props)
    yield from _issuer(args)


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.FEDERATED_CREDENTIAL}), check)
