"""A picture of the plan: a Mermaid flowchart of the key chain, grouped by tenant.

Nodes are the resources a reviewer reasons about (vault, key, lock, grant, binding,
identity, federated credential, app, service principal, encrypted stores); edges are the
plan's own dependencies, followed through resources left out of the picture (a resource
group, the grant-propagation pause), so the chain reads vault -> key -> lock / grant ->
binding and identity -> federated credential -> app -> service principal. Resources are
grouped by the tenant of their provider. With a base plan, created, changed, replaced and
deleted nodes are styled apart and a legend says which is which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from cmkctl.plan.reader import PlanResource
from policies.props import get
from policies.resource_kinds import Kind, kind_of

SHOWN: Final = frozenset({
    Kind.VAULT, Kind.KEY, Kind.LOCK, Kind.ROLE_ASSIGNMENT, Kind.ACCESS_POLICY,
    Kind.USER_ASSIGNED_IDENTITY, Kind.FEDERATED_CREDENTIAL, Kind.IDENTITY_FEDERATED_CREDENTIAL,
    Kind.APPLICATION, Kind.APPLICATION_PASSWORD, Kind.SERVICE_PRINCIPAL, Kind.STORAGE_ACCOUNT,
    Kind.SQL_SERVER, Kind.SQL_SERVER_KEY, Kind.SQL_ENCRYPTION_PROTECTOR,
    Kind.DISK_ENCRYPTION_SET, Kind.SQL_MANAGED_INSTANCE, Kind.SQL_MANAGED_INSTANCE_KEY,
    Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR, Kind.SNOWFLAKE_EXECUTE,
})
STYLES: Final = {
    "create": "fill:#e6ffed,stroke:#22863a,color:#000",
    "update": "fill:#fff5b1,stroke:#b08800,color:#000",
    "replace": "fill:#ffdfb6,stroke:#d15704,stroke-width:3px,color:#000",
    "delete": "fill:#ffeef0,stroke:#cb2431,stroke-dasharray:5 5,color:#000",
}
"""Mermaid classDef per op; unchanged nodes keep the default style."""
_LEGEND: Final = {"create": "created", "update": "changed in place", "replace": "replaced",
                  "delete": "deleted"}


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(
        ">", "#gt;")


def _tenant(resource: PlanResource, providers: Mapping[str, PlanResource]) -> str:
    """The group label: the tenant id of the resource's explicit provider."""
    provider = providers.get(resource.provider_urn or "")
    if provider is None:
        return "default provider"
    tenant = get(provider.inputs, "tenantId")
    return f"tenant {tenant}" if isinstance(tenant, str) else f"provider {provider.name}"


def mermaid(resources: Sequence[PlanResource], ops: Mapping[str, str] | None = None,
            deleted: Sequence[PlanResource] = ()) -> str:
    """The flowchart of ``resources`` (and ``deleted`` ones from a base plan); ``ops`` maps
    URN to its op in a review (create / update / replace / delete / same)."""
    ops = dict(ops or {})
    for resource in deleted:
        ops[resource.urn] = "delete"
    everything = {r.urn: r for r in [*resources, *deleted]}
    providers = {r.urn: r for r in everything.values() if r.type.startswith("pulumi:providers:")}
    shown = [r for r in everything.values() if kind_of(r.type) in SHOWN]
    ids = {r.urn: f"n{index}" for index, r in enumerate(shown)}

    def shown_deps(urn: str, seen: set[str]) -> set[str]:
        """Nearest shown dependencies, looking through resources left out of the picture."""
        found: set[str] = set()
        resource = everything.get(urn)
        if resource is None:
            return found
        for dep in {*resource.dependencies,
                    *(u for us in resource.property_dependencies.values() for u in us)}:
            if dep in seen:
                continue
            seen.add(dep)
            found |= {dep} if dep in ids else shown_deps(dep, seen)
        return found

    lines = ["flowchart LR"]
    groups: dict[str, list[PlanResource]] = {}
    names: dict[str, set[str]] = {}
    for resource in shown:
        tenant = _tenant(resource, providers)
        groups.setdefault(tenant, []).append(resource)
        if resource.provider_urn in providers:
            names.setdefault(tenant, set()).add(resource.provider_urn.rsplit("::", 1)[-1])
    for index, (tenant, members) in enumerate(sorted(groups.items())):
        via = f" via {', '.join(sorted(names[tenant]))}" if tenant in names else ""
        lines.append(f'  subgraph t{index}["{_label(tenant + via)}"]')
        for resource in members:
            kind = kind_of(resource.type)
            title = kind.value if kind else resource.type
            lines.append(f'    {ids[resource.urn]}["{_label(title)}<br/>{_label(resource.name)}"]')
        lines.append("  end")
    for resource in shown:
        for dep in sorted(shown_deps(resource.urn, {resource.urn}), key=lambda u: int(ids[u][1:])):
            lines.append(f"  {ids[dep]} --> {ids[resource.urn]}")
    used = [op for op in STYLES if any(ops.get(r.urn) == op for r in shown)]
    for op in used:
        lines.append(f"  classDef {op} {STYLES[op]}")
        styled = [ids[r.urn] for r in shown if ops.get(r.urn) == op]
        lines.append(f"  class {','.join(styled)} {op}")
    if used:
        lines.append('  subgraph legend["legend"]')
        lines += [f'    legend_{op}["{_LEGEND[op]}"]:::{op}' for op in used]
        lines.append("  end")
    return "\n".join(lines)
