"""A picture of the plan: a Mermaid flowchart of the key chain, grouped by tenant.

Nodes are the resources a reviewer reasons about (vault, key, lock, grant, binding,
identity, federated credential, app, service principal, encrypted stores). By default the
edges are only the key chain -- vault -> key -> lock / grant -> binding and identity ->
federated credential -> app -> service principal -> grant -- taken from the plan's own
dependencies (in either direction, looking through resources left out of the picture such as
the resource group or the grant-propagation pause); ``all_edges`` draws every dependency
instead. A binding whose key comes from outside the stack (a provider-only stack) is drawn
from an external node named after the key URI. Resources are grouped by the tenant of their
provider, labelled by the side whose resources it holds ("customer tenant", "provider
tenant"). With a review, created, changed, replaced and deleted nodes are styled apart, and
data-loss, access-loss and weakening findings override the op with their own colours; a
legend says which is which. The layout is top-down so it stays readable in a narrow column.

Every label goes through :func:`cmkctl.review.safe_text.mermaid_label`: no name can end a
label, start a directive or reach the SVG as markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cmkctl.plan.reader import PlanResource
from cmkctl.review.safe_text import mermaid_label, shorten
from policies.props import get, is_unknown
from policies.resource_kinds import Kind, kind_of

BINDINGS: Final = frozenset({
    Kind.STORAGE_ACCOUNT, Kind.SQL_SERVER, Kind.DISK_ENCRYPTION_SET, Kind.SQL_MANAGED_INSTANCE,
    Kind.SNOWFLAKE_EXECUTE})
CONSUMERS: Final = BINDINGS | {Kind.SQL_SERVER_KEY, Kind.SQL_MANAGED_INSTANCE_KEY}
"""What names a key: the bindings, and the SQL server keys that carry its versioned URI."""
GRANTS: Final = frozenset({Kind.ROLE_ASSIGNMENT, Kind.ACCESS_POLICY})
SHOWN: Final = frozenset({
    Kind.VAULT, Kind.KEY, Kind.LOCK, *GRANTS, Kind.USER_ASSIGNED_IDENTITY,
    Kind.FEDERATED_CREDENTIAL, Kind.IDENTITY_FEDERATED_CREDENTIAL, Kind.APPLICATION,
    Kind.APPLICATION_PASSWORD, Kind.SERVICE_PRINCIPAL, *BINDINGS, Kind.SQL_SERVER_KEY,
    Kind.SQL_ENCRYPTION_PROTECTOR, Kind.SQL_MANAGED_INSTANCE_KEY,
    Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR,
})
CHAIN: Final = frozenset({
    (Kind.VAULT, Kind.KEY), (Kind.KEY, Kind.LOCK), (Kind.VAULT, Kind.LOCK),
    *((source, grant) for grant in GRANTS
      for source in (Kind.VAULT, Kind.KEY, Kind.SERVICE_PRINCIPAL)),
    *((grant, consumer) for grant in GRANTS for consumer in CONSUMERS),
    (Kind.USER_ASSIGNED_IDENTITY, Kind.FEDERATED_CREDENTIAL),
    (Kind.USER_ASSIGNED_IDENTITY, Kind.IDENTITY_FEDERATED_CREDENTIAL),
    (Kind.FEDERATED_CREDENTIAL, Kind.APPLICATION), (Kind.APPLICATION, Kind.SERVICE_PRINCIPAL),
    (Kind.APPLICATION, Kind.APPLICATION_PASSWORD),
    (Kind.SQL_SERVER, Kind.SQL_SERVER_KEY), (Kind.SQL_SERVER_KEY, Kind.SQL_ENCRYPTION_PROTECTOR),
    (Kind.SQL_MANAGED_INSTANCE, Kind.SQL_MANAGED_INSTANCE_KEY),
    (Kind.SQL_MANAGED_INSTANCE_KEY, Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR),
})
"""Kind pairs drawn by default, oriented along the chain (whichever way the dependency runs).
A binding is drawn from its key only when no grant leads to it."""
_CUSTOMER_SIDE: Final = frozenset({Kind.VAULT, Kind.KEY, Kind.LOCK, *GRANTS,
                                   Kind.SERVICE_PRINCIPAL})
_PROVIDER_SIDE: Final = frozenset({Kind.USER_ASSIGNED_IDENTITY, Kind.FEDERATED_CREDENTIAL,
                                   Kind.APPLICATION, *BINDINGS})

STYLES: Final = {
    "create": "fill:#dcfce7,stroke:#15803d,stroke-width:2px,color:#000",
    "update": "fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px,color:#000",
    "replace": "fill:#ffedd5,stroke:#c2410c,stroke-width:3px,color:#000",
    "delete": "fill:#f3f4f6,stroke:#374151,stroke-width:2px,stroke-dasharray:5 5,color:#000",
    "dataloss": "fill:#b91c1c,stroke:#450a0a,stroke-width:4px,color:#fff",
    "accessloss": "fill:#6d28d9,stroke:#2e1065,stroke-width:4px,color:#fff",
    "weakening": "fill:#f59e0b,stroke:#78350f,stroke-width:3px,color:#000",
}
"""Mermaid classDef per op and per risk (a risk wins over the op); unchanged nodes keep the
default style. Every fill has at least 4.5:1 contrast with its text colour."""
_LEGEND: Final = {"create": "created", "update": "changed in place", "replace": "replaced",
                  "delete": "deleted", "dataloss": "DATA LOSS", "accessloss": "ACCESS LOSS",
                  "weakening": "weakens protection"}
_RISK_CLASS: Final = {"data-loss": "dataloss", "access-loss": "accessloss",
                      "weakening": "weakening"}
_TITLES: Final = {
    Kind.VAULT: "key vault", Kind.USER_ASSIGNED_IDENTITY: "managed identity",
    Kind.IDENTITY_FEDERATED_CREDENTIAL: "identity federated credential",
    Kind.FEDERATED_CREDENTIAL: "federated credential", Kind.APPLICATION: "app",
    Kind.LOCK: "lock", Kind.SQL_ENCRYPTION_PROTECTOR: "SQL protector",
    Kind.SQL_MANAGED_INSTANCE_ENCRYPTION_PROTECTOR: "SQL MI protector",
    Kind.SQL_MANAGED_INSTANCE_KEY: "SQL MI key", Kind.SNOWFLAKE_EXECUTE: "Snowflake TSS",
}
"""Short node titles (a narrow node keeps the picture readable in a PR column)."""
NAME_WIDTH: Final = 26
"""Names are shortened in the middle to this many characters so a node stays narrow."""


FRONTMATTER: Final = ("---", "config:", "  flowchart:", "    nodeSpacing: 14",
                      "    rankSpacing: 30", "    padding: 6", "    wrappingWidth: 150",
                      "    subGraphTitleMargin:", "      top: 4", "      bottom: 12", "---")
"""Fixed Mermaid configuration (never from the plan): tight spacing so the picture keeps a
legible text size when GitHub scales it into a pull-request column."""


def _label(*lines: str) -> str:
    return "<br/>".join(mermaid_label(line) for line in lines)


def _side(kinds: set[Kind]) -> str:
    customer, provider = kinds & _CUSTOMER_SIDE, kinds & _PROVIDER_SIDE
    if customer and provider:
        return "customer and provider tenant"
    return "customer tenant" if customer else "provider tenant" if provider else "tenant"


def _groups(shown: Sequence[PlanResource],
            providers: Mapping[str, PlanResource]) -> dict[str, list[PlanResource]]:
    """Members per group label: the side (from what the group holds) and the tenant id."""
    by_tenant: dict[str, list[PlanResource]] = {}
    for resource in shown:
        provider = providers.get(resource.provider_urn or "")
        tenant = get(provider.inputs, "tenantId") if provider else None
        key = (f"tenant {tenant}" if isinstance(tenant, str) and not is_unknown(tenant)
               else f"provider {provider.name}" if provider else "default provider")
        by_tenant.setdefault(key, []).append(resource)
    labelled: dict[str, list[PlanResource]] = {}
    for key, members in sorted(by_tenant.items()):
        kinds = {k for r in members if (k := kind_of(r.type)) is not None}
        if key.startswith("tenant "):
            label = f"{_side(kinds)} {shorten(key[len('tenant '):], 13)}"
        elif key == "default provider":
            label = f"{_side(kinds)} (default provider)"
        else:
            label = key
        labelled.setdefault(label, []).extend(members)
    return labelled


_KEY_URL: Final = re.compile(r"^https://([^./]+)[^/]*/keys/([^/]+)", re.IGNORECASE)


def _external_key(binding: PlanResource) -> str | None:
    """``vault/key`` of the key a binding names in its inputs, or a note when unknown."""
    candidates: list[Any] = [get(binding.inputs, "activeKey", "keyUrl"),
                             get(binding.inputs, "keyId"), get(binding.inputs, "uri")]
    vault_uri = get(binding.inputs, "encryption", "keyVaultProperties", "keyVaultUri")
    key_name = get(binding.inputs, "encryption", "keyVaultProperties", "keyName")
    if isinstance(vault_uri, str) and isinstance(key_name, str):
        candidates.append(f"{vault_uri.rstrip('/')}/keys/{key_name}")
    for value in (c for c in candidates if c is not None):
        if is_unknown(value) or value == "[secret]":
            return "key URI known after apply"
        match = _KEY_URL.match(value) if isinstance(value, str) else None
        if match:
            return f"{match[1]}/{match[2]}"
    return None


def _grants_of_other_keys(consumer: str, linked: set[tuple[str, str]],
                          kinds: Mapping[str, Kind | None]) -> set[tuple[str, str]]:
    """Grant edges into ``consumer`` from grants of keys it does not use (a shared pause
    for role propagation makes every grant a dependency of every binding)."""
    keys = {d for d, u in linked if u == consumer and kinds[d] == Kind.KEY}
    grants = {d for d, u in linked if u == consumer and kinds[d] in GRANTS}
    own = {g for g in grants if any((k, g) in linked or (g, k) in linked for k in keys)}
    return {(g, consumer) for g in grants - own} if keys and own else set()


def mermaid(resources: Sequence[PlanResource], ops: Mapping[str, str] | None = None,
            deleted: Sequence[PlanResource] = (), *, risks: Mapping[str, str] | None = None,
            all_edges: bool = False) -> str:
    """The flowchart of ``resources`` (and ``deleted`` ones from a base plan); ``ops`` maps
    URN to its op in a review (create / update / replace / delete / same), ``risks`` URN to
    its worst finding (data-loss / access-loss / weakening)."""
    ops = dict(ops or {})
    for resource in deleted:
        ops[resource.urn] = "delete"
    everything = {r.urn: r for r in [*resources, *deleted]}
    providers = {r.urn: r for r in everything.values() if r.type.startswith("pulumi:providers:")}
    shown = [r for r in everything.values() if kind_of(r.type) in SHOWN]
    ids = {r.urn: f"n{index}" for index, r in enumerate(shown)}
    kinds = {r.urn: kind_of(r.type) for r in shown}

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

    linked = {(dep, r.urn) for r in shown for dep in shown_deps(r.urn, {r.urn})}
    edges: set[tuple[str, str]] = set()
    for dep, urn in linked:
        pair = (kinds[dep], kinds[urn])
        if all_edges or pair in CHAIN:
            edges.add((dep, urn))
        elif pair[::-1] in CHAIN:
            edges.add((urn, dep))
    external: dict[str, str] = {}
    if not all_edges:
        for consumer in (r for r in shown if kinds[r.urn] in CONSUMERS):
            edges -= _grants_of_other_keys(consumer.urn, linked, kinds)
            if any(b == consumer.urn and kinds[a] in GRANTS for a, b in edges):
                continue
            keys = [d for d, u in linked if u == consumer.urn and kinds[d] == Kind.KEY]
            edges |= {(key, consumer.urn) for key in keys}
            if not keys and (named := _external_key(consumer)) is not None:
                external[consumer.urn] = named

    lines = [*FRONTMATTER, "flowchart TD"]
    for index, (label, members) in enumerate(_groups(shown, providers).items()):
        lines.append(f'  subgraph t{index}["{mermaid_label(label)}"]')
        for resource in members:
            kind = kinds[resource.urn]
            title = _TITLES.get(kind, kind.value) if kind else resource.type
            lines.append(f'    {ids[resource.urn]}["'
                         f'{_label(title, shorten(resource.name, NAME_WIDTH))}"]')
        lines.append("  end")
    keys_outside = sorted(set(external.values()))
    if keys_outside:
        lines.append(f'  subgraph tx["{mermaid_label("customer tenant, outside this stack")}"]')
        lines += [f'    x{i}["{_label("key (from config)", shorten(k, NAME_WIDTH))}"]'
                  for i, k in enumerate(keys_outside)]
        lines.append("  end")
    order = {urn: index for index, urn in enumerate(ids)}
    for dep, urn in sorted(edges, key=lambda e: (order[e[0]], order[e[1]])):
        lines.append(f"  {ids[dep]} --> {ids[urn]}")
    for urn, key in external.items():
        lines.append(f"  x{keys_outside.index(key)} --> {ids[urn]}")
    return "\n".join(lines + _styles(shown, ids, ops, risks or {}))


def _styles(shown: Sequence[PlanResource], ids: Mapping[str, str], ops: Mapping[str, str],
            risks: Mapping[str, str]) -> list[str]:
    def style(urn: str) -> str | None:
        risk = _RISK_CLASS.get(risks.get(urn, ""))
        op = ops.get(urn)
        return risk or ("delete" if op == "read-replacement" else op if op in STYLES else None)

    styled = {r.urn: s for r in shown if (s := style(r.urn)) is not None}
    used = [name for name in STYLES if name in styled.values()]
    lines = []
    for name in used:
        lines.append(f"  classDef {name} {STYLES[name]}")
        lines.append(f"  class {','.join(ids[u] for u, s in styled.items() if s == name)} {name}")
    if used:
        lines.append('  subgraph legend["legend"]')
        lines += [f'    legend_{name}["{_LEGEND[name]}"]:::{name}' for name in used]
        lines.append("  end")
    return lines
