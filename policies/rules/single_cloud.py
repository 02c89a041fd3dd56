"""Everything in a stack is in one Azure cloud: providers, issuers, audiences, key URLs, regions.

A managed identity's token is only exchanged in its own cloud ("Accessing resources in
another cloud is not supported. Token requests to other clouds will fail", Microsoft's
workload identity docs), so a binding whose key, issuer or provider is in another cloud
never reaches its key. The cloud of each piece of evidence comes from the plan itself, not
from the stack's config (see :mod:`policies.clouds`): the azure-native and azuread
providers' ``environment`` (unset is the public cloud), the federated credential's issuer
host and audience, the DNS suffix of every vault, key and managed-HSM URL, and every
resource's ``location``.
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

from policies.clouds import (
    CLOUDS,
    Cloud,
    issuer_parts,
    of_arm_environment,
    of_graph_environment,
    of_key_vault_url,
    of_region,
)
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.props import elements, get, is_unknown, text
from policies.resource_kinds import Kind, checked_kind

META = RuleMeta(
    name="single-cloud",
    description=("Providers, federated credentials, key URLs and regions of a stack are all in "
                 "one Azure cloud (public, usgovernment or china)."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "cloud-boundary",
                    "the Key Vault is hosted in the cloud the service runs in (Azure Government "
                    "for the Public Sector offering)"),),
    remediation=("Set azureEnvironment once for the stack; every provider, issuer, audience, "
                 "key URI and region then follows it."),
    url=("https://learn.microsoft.com/entra/workload-id/"
         "workload-identity-federation-config-app-trust-managed-identity"),
)

_PROVIDER_CLOUD = {
    "pulumi:providers:azure-native": of_arm_environment,
    "pulumi:providers:azuread": of_graph_environment,
}


def _provider_evidence(resource: PolicyResource) -> Iterator[tuple[Cloud | None, str]]:
    provider = resource.provider
    reader = _PROVIDER_CLOUD.get(provider.resource_type) if provider else None
    if provider is None or reader is None:
        return
    value = get(provider.props, "environment")
    if is_unknown(value):
        yield None, f"provider {provider.name}'s environment"
        return
    cloud = reader(text(value))
    if cloud is None:
        raise ValueError(f"provider {provider.name} has environment {value!r}, not one of "
                         f"the clouds {', '.join(CLOUDS)}")
    yield cloud, f"provider {provider.name} (environment {text(value) or 'unset'})"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and not is_unknown(value):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _value_evidence(resource: PolicyResource) -> Iterator[tuple[Cloud | None, str]]:
    props = resource.props
    if checked_kind(resource.resource_type) == Kind.FEDERATED_CREDENTIAL:
        issuer = text(get(props, "issuer"))
        if issuer and (parts := issuer_parts(issuer)):
            yield parts[0], f"{resource.name} issuer {issuer}"
        for audience in elements(get(props, "audiences")) or []:
            for cloud in CLOUDS.values():
                if isinstance(audience, str) and audience.lower() == cloud.audience.lower():
                    yield cloud, f"{resource.name} audience {audience}"
    location = get(props, "location")
    # "global" is ARM's location of non-regional resources, in every cloud.
    if isinstance(location, str) and not is_unknown(location) and location.lower() != "global":
        yield of_region(location), f"{resource.name} location {location}"
    for value in _strings(_plain(props)):
        if value.startswith("https://") and (holder := of_key_vault_url(value)):
            yield holder, f"{resource.name} key material {value}"


def _plain(props: Any) -> Any:
    """The property bag as plain values, unknowns left out (they name no cloud)."""
    if isinstance(props, Mapping):
        return {k: _plain(get(props, k)) for k in props}
    if isinstance(props, (list, tuple)):
        return [_plain(v) for v in elements(props) or []]
    return None if is_unknown(props) else props


def check(args: StackValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    found: dict[str, list[str]] = {}
    undecided: list[str] = []
    for resource in args.resources:
        try:
            evidence = [*_provider_evidence(resource), *_value_evidence(resource)]
        except ValueError as error:
            yield Violation(f"{error}.", resource.urn)
            continue
        for cloud, what in evidence:
            if cloud is None:
                undecided.append(what)
            elif what not in found.setdefault(cloud.name, []):
                found[cloud.name].append(what)
    if len(found) > 1:
        parts = "; ".join(f"{CLOUDS[name].title}: {', '.join(sorted(whats)[:5])}"
                          + (f" and {len(whats) - 5} more" if len(whats) > 5 else "")
                          for name, whats in sorted(found.items()))
        yield Violation(f"this stack mixes clouds ({parts}); a cross-tenant key binding cannot "
                        "cross clouds.")
    elif undecided:
        yield Undecided(f"the cloud of {', '.join(sorted(set(undecided)))}")


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
