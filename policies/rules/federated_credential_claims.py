"""The provider app's federated credential trusts exactly the provider tenant's token exchange.

The audience must be the token-exchange audience of the credential's cloud and nothing else,
and the issuer the v2.0 endpoint of a tenant in that cloud. The cloud is the one the
credential's azuread provider declares (``environment``; unset is the public cloud): a
public-cloud issuer or audience on a Government provider is refused, since a managed
identity's token is only exchanged within its own cloud. When the provider declares
``tenantId``, the issuer must be that tenant (the provider tenant, where the identity lives).
Which identity the subject names is checked against the stack by
``federated-credential-subject``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.clouds import Cloud, issuer_parts, of_graph_environment
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import elements, get, is_unknown, text
from policies.resource_kinds import Kind

META = RuleMeta(
    name="federated-credential-claims",
    description=("Federated credentials accept only their cloud's token-exchange audience "
                 "(api://AzureADTokenExchange in the public cloud) from the provider tenant's "
                 "v2.0 issuer in that cloud."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "federated-credential",
                    "the provider app uses its managed identity through a federated credential, "
                    "without secrets"),),
    remediation=("Set audiences to exactly [<the cloud's audience>] (public "
                 "api://AzureADTokenExchange, usgovernment api://AzureADTokenExchangeUSGov, china "
                 "api://AzureADTokenExchangeChina) and issuer to https://<the cloud's login host>/"
                 "<provider tenant id>/v2.0."),
    url=("https://learn.microsoft.com/entra/workload-id/"
         "workload-identity-federation-config-app-trust-managed-identity"),
)


def provider_cloud(args: ResourceValidationArgs) -> Cloud | str | None:
    """The cloud of the credential's azuread provider; a string says why it is not known."""
    declared = get(args.provider.props, "environment") if args.provider else None
    if is_unknown(declared):
        return None
    if declared is not None and not isinstance(declared, str):
        return f"the provider's environment {declared!r} is not a string"
    cloud = of_graph_environment(declared)
    return cloud if cloud else f"the provider's environment {declared!r} is not a known cloud"


def _audiences(props: Any, cloud: Cloud) -> Iterator[Finding]:
    value = get(props, "audiences")
    items = None if is_unknown(value) else elements(value)
    if is_unknown(value) or (items and any(is_unknown(i) for i in items)):
        yield Undecided("audiences is unknown")
    elif items != [cloud.audience]:
        yield Violation(f"audiences is {items!r}; it must be exactly ['{cloud.audience}'] "
                        f"({cloud.title}).")


def _issuer(args: ResourceValidationArgs, cloud: Cloud) -> Iterator[Finding]:
    issuer = get(args.props, "issuer")
    if is_unknown(issuer):
        yield Undecided("issuer is unknown")
        return
    parts = issuer_parts(text(issuer) or "")
    if parts is None:
        yield Violation(f"issuer {issuer!r} is not https://{cloud.login_host}/<tenant id>/v2.0.")
        return
    issuer_cloud, tenant = parts
    if issuer_cloud != cloud:
        yield Violation(f"issuer {issuer!r} is of {issuer_cloud.title}, but this credential's "
                        f"provider is in {cloud.title}; use https://{cloud.login_host}/"
                        f"{tenant}/v2.0.")
    declared = get(args.provider.props, "tenantId") if args.provider else None
    if is_unknown(declared):
        yield Undecided("the provider's tenantId is unknown")
    elif (provider_tenant := text(declared)) and provider_tenant.lower() != tenant:
        yield Violation(f"issuer tenant {tenant} is not the provider tenant {provider_tenant} "
                        "of this credential's azuread provider.")


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    cloud = provider_cloud(args)
    if cloud is None:
        yield Undecided("the provider's environment is unknown")
        return
    if isinstance(cloud, str):
        yield Violation(f"{cloud}; it must be one of global, usgovernment or china.")
        return
    yield from _audiences(args.props, cloud)
    yield from _issuer(args, cloud)


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.FEDERATED_CREDENTIAL}), check)
