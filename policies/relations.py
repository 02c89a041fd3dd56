"""Relating stack resources to the vaults, keys and principals they point at.

A known value decides: a subject, scope or key URL names a resource by its id, URL or
principal id, whatever the engine recorded about dependencies. Dependencies
(``propertyDependencies``, or ``dependencies`` when the engine recorded no per-property
detail) decide only what the value leaves unknown, as during a first preview. A known
value that names something other than the resource its property was computed from is a
*contradiction* (``subject = uami.client_id`` depends on the identity but is not its
principal id; ``scope = rg.id`` computed beside a vault is not the vault): the resolution
carries it, and ``references-match-dependencies`` reports it naming both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import PolicyResource

from policies.azure_refs import KeyMaterialRef, arm_ref, key_url_ref, vault_url_name
from policies.props import UNKNOWN, Verdict, get, is_unknown, same, text
from policies.resource_kinds import Kind, checked_kind

Matcher = Callable[[PolicyResource, str], bool | None]
"""Whether a candidate is the one a known reference string names; ``None`` if not known yet."""


@dataclass(frozen=True)
class Resolution:
    """The resources a reference designates, or undecided until apply."""

    targets: tuple[PolicyResource, ...] = ()
    undecided: bool = False
    contradicts: tuple[PolicyResource, ...] = ()
    """Resources the property was computed from that its known value does not name."""

    def designates(self, resource: PolicyResource) -> bool:
        return any(target.urn == resource.urn for target in self.targets)


class Stack:
    """The stack's resources with lookups by kind (every checked spelling of it)."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)

    def of_kind(self, *kinds: Kind) -> list[PolicyResource]:
        return [r for r in self.resources if checked_kind(r.resource_type) in kinds]


Props = str | tuple[str, ...]
"""The input property (or properties, for a reference built from several) holding a reference."""


def dependencies_of(resource: PolicyResource, prop: Props) -> list[PolicyResource] | None:
    """Resources ``prop`` was computed from; ``None`` when the engine recorded nothing at all."""
    if resource.property_dependencies:
        props = (prop,) if isinstance(prop, str) else prop
        return [dep for p in props for dep in resource.property_dependencies.get(p, [])]
    return list(resource.dependencies) or None


def _precise(resource: PolicyResource) -> bool:
    """Whether dependencies are recorded per property (only then can a value contradict one)."""
    return bool(resource.property_dependencies)


def match_value(value: Any, candidates: Sequence[PolicyResource], matches: Matcher) -> Resolution:
    """Which ``candidates`` a reference names, by value alone."""
    if not candidates:
        return Resolution()
    if is_unknown(value):
        return Resolution(undecided=True)
    reference = text(value)
    if reference is None:
        return Resolution()
    verdicts = [(c, matches(c, reference)) for c in candidates]
    hits = tuple(c for c, verdict in verdicts if verdict)
    return Resolution(hits, undecided=not hits and any(v is None for _, v in verdicts))


def resolve(resource: PolicyResource, prop: Props, value: Any,
            candidates: Sequence[PolicyResource], matches: Matcher) -> Resolution:
    """Which ``candidates`` the reference in ``resource.prop`` (read as ``value``) names."""
    if not candidates:
        return Resolution()
    deps = dependencies_of(resource, prop)
    dep_urns = {dep.urn for dep in deps or []}
    from_deps = tuple(c for c in candidates if c.urn in dep_urns)
    if is_unknown(value):
        if from_deps:
            return Resolution(from_deps)
        # Computed from other resources only: it cannot name one of these.
        return Resolution(undecided=not deps)
    by_value = match_value(value, candidates, matches)
    if by_value.undecided:
        # The value is known but the candidates' own ids are not yet: dependencies decide.
        return Resolution(from_deps) if from_deps else by_value
    contradicts = tuple(c for c in from_deps if not by_value.designates(c)) \
        if _precise(resource) else ()
    return Resolution(by_value.targets, contradicts=contradicts)


_AUTHORIZATION_CHILD = re.compile(
    r"/providers/Microsoft\.Authorization/(?:locks|roleAssignments)/[^/]+$", re.IGNORECASE)
SCOPE_PROPS: Final = ("scope", "resourceGroupName", "resourceProviderNamespace",
                      "parentResourcePath", "resourceType", "resourceName")
"""Where a lock or grant names its target: ``scope`` (by scope, role assignments) or the
path parameters of ``ManagementLockAtResourceLevel``."""
_PATH_PARAMETERS: Final = SCOPE_PROPS[1:]


def _resource_path(props: Any) -> Any:
    """``ManagementLockAtResourceLevel``'s target as an ARM path, from its path parameters."""
    values = [get(props, p) for p in _PATH_PARAMETERS]
    if any(is_unknown(v) for v in values):
        return UNKNOWN
    group, namespace, parent, kind, name = (text(v) for v in values)
    if not (group and namespace and kind and name):
        return None
    middle = f"{parent.strip('/')}/" if parent else ""
    return f"/resourceGroups/{group}/providers/{namespace}/{middle}{kind}/{name}"


def scope_of(resource: PolicyResource) -> Any:
    """A lock's or role assignment's target: ``scope``, the resource-level lock's path
    parameters, or its id when the outputs hold neither."""
    scope = get(resource.props, "scope")
    if scope is not None:
        return scope
    path = _resource_path(resource.props)
    if path is not None:
        return path
    rid = get(resource.props, "id")
    if (found := text(rid)) and _AUTHORIZATION_CHILD.search(found):
        return _AUTHORIZATION_CHILD.sub("", found)
    return UNKNOWN if is_unknown(rid) else None


def _lower_text(value: Any) -> str | None:
    found = text(value)
    return found.lower() if found else None


def vault_name(vault: PolicyResource) -> Any:
    """A vault's name (lower case), :data:`UNKNOWN`, or ``None``."""
    props = vault.props
    saw_unknown = False
    for value in (get(props, "name"), get(props, "vaultName")):
        saw_unknown |= is_unknown(value)
        if name := _lower_text(value):
            return name
    rid, uri = get(props, "id"), get(props, "properties", "vaultUri")
    if (rid_text := text(rid)) and (ref := arm_ref(rid_text)) and ref.key is None:
        return ref.vault
    if (uri_text := text(uri)) and (name := vault_url_name(uri_text)):
        return name
    return UNKNOWN if saw_unknown or is_unknown(rid) or is_unknown(uri) else None


def _key_hints(key: PolicyResource) -> tuple[KeyMaterialRef | None, bool]:
    """A full reference from the key's own id or URIs, and whether any of them is unknown."""
    unknown = False
    parsers = (("id", arm_ref), ("keyUri", key_url_ref), ("keyUriWithVersion", key_url_ref))
    for prop, parse in parsers:
        value = get(key.props, prop)
        unknown |= is_unknown(value)
        if (found := text(value)) and (ref := parse(found)) and ref.key:
            return KeyMaterialRef(ref.vault, ref.key), unknown
    return None, unknown


def _named_vault(vault: PolicyResource, name: str) -> bool | None:
    own = vault_name(vault)
    return None if own is None or is_unknown(own) else bool(own == name.lower())


def vault_of_key(stack: Stack, key: PolicyResource) -> Resolution:
    """The vault in this stack that holds ``key``."""
    hint, unknown = _key_hints(key)
    value: Any = get(key.props, "vaultName")
    if text(value) is None and not is_unknown(value):
        value = hint.vault if hint else (UNKNOWN if unknown else None)
    return resolve(key, "vaultName", value, stack.of_kind(Kind.VAULT), _named_vault)


def key_identity(stack: Stack, key: PolicyResource) -> Any:
    """The key as a :class:`KeyMaterialRef`, :data:`UNKNOWN`, or ``None``."""
    hint, unknown = _key_hints(key)
    if hint:
        return hint
    name_value = get(key.props, "name")
    if text(name_value) is None:
        name_value = get(key.props, "keyName")
    vault_value: Any = get(key.props, "vaultName")
    if text(vault_value) is None:
        vaults = vault_of_key(stack, key)
        vault_value = vault_name(vaults.targets[0]) if vaults.targets else (
            UNKNOWN if vaults.undecided else vault_value)
    if (name := _lower_text(name_value)) and (vault := _lower_text(vault_value)):
        return KeyMaterialRef(vault, name)
    if unknown or is_unknown(name_value) or is_unknown(vault_value):
        return UNKNOWN
    return None


def resolve_key_material(stack: Stack, resource: PolicyResource, prop: Props,
                         value: Any) -> Resolution:
    """The key, else the vault, that an ARM id or key URL in ``resource.prop`` designates.

    A key wins over its vault: a scope built as ``vault.id + "/keys/" + key.name`` depends
    on both but names the key.
    """

    def matches(candidate: PolicyResource, reference: str) -> bool | None:
        ref = arm_ref(reference) or key_url_ref(reference)
        if ref is None:
            return False
        if checked_kind(candidate.resource_type) is Kind.KEY:
            if ref.key is None:
                return False
            own = key_identity(stack, candidate)
            if own is None or is_unknown(own):
                return None
            return bool(own.vault == ref.vault and own.key == ref.key)
        if ref.key is not None:
            return False
        return _named_vault(candidate, ref.vault)

    keys = resolve(resource, prop, value, stack.of_kind(Kind.KEY), matches)
    if keys.targets:
        return keys
    vaults = resolve(resource, prop, value, stack.of_kind(Kind.VAULT), matches)
    # A value naming the vault that holds a key it was computed from is broader, not wrong.
    key_conflicts = tuple(k for k in keys.contradicts
                          if not any(vaults.designates(v) for v in vault_of_key(stack, k).targets))
    return Resolution(vaults.targets, undecided=not vaults.targets and (
        keys.undecided or vaults.undecided), contradicts=key_conflicts + vaults.contradicts)


def resolve_scope(stack: Stack, resource: PolicyResource) -> Resolution:
    """The key, else the vault, a lock or role assignment applies to."""
    return resolve_key_material(stack, resource, SCOPE_PROPS, scope_of(resource))


def output_matcher(*props: str) -> Matcher:
    """Matches a candidate whose output ``props`` (first known one) equals the reference."""

    def matches(candidate: PolicyResource, reference: str) -> bool | None:
        saw_unknown = False
        for prop in props:
            value = get(candidate.props, prop)
            saw_unknown |= is_unknown(value)
            if (own := text(value)) and same(own.rsplit("/", 1)[-1], reference.rsplit("/", 1)[-1]):
                return True
        return None if saw_unknown else False

    return matches


_PRINCIPAL = output_matcher("objectId", "id")


def resolve_principal(stack: Stack, resource: PolicyResource, prop: str, value: Any) -> Resolution:
    """The service principals (the provider app installed here) an object id designates."""
    return resolve(resource, prop, value, stack.of_kind(Kind.SERVICE_PRINCIPAL), _PRINCIPAL)


def principals_with_object_id(stack: Stack, value: Any, holder: PolicyResource,
                              prop: str) -> Resolution:
    """Service principals named by an entry inside the list property ``holder.prop``.

    Dependencies are recorded for the whole property, not per entry; an unknown object id
    is attributed only when the property depends on a single resource, a service principal.
    """
    if is_unknown(value):
        deps = dependencies_of(holder, prop) or []
        if len(deps) == 1 and checked_kind(deps[0].resource_type) is Kind.SERVICE_PRINCIPAL:
            return Resolution((deps[0],))
    return match_value(value, stack.of_kind(Kind.SERVICE_PRINCIPAL), _PRINCIPAL)


def resolve_application(stack: Stack, resource: PolicyResource) -> Resolution:
    """The application an ``applicationId`` (``/applications/<object id>``) designates."""
    return resolve(resource, "applicationId", get(resource.props, "applicationId"),
                   stack.of_kind(Kind.APPLICATION), output_matcher("id", "objectId"))


def resolve_identity(stack: Stack, resource: PolicyResource, prop: str) -> Resolution:
    """The user-assigned identities whose principal id ``resource.prop`` holds."""
    return resolve(resource, prop, get(resource.props, prop),
                   stack.of_kind(Kind.USER_ASSIGNED_IDENTITY), output_matcher("principalId"))


def resolve_vault_by_name(stack: Stack, resource: PolicyResource) -> Resolution:
    """The vault a standalone access policy's ``vaultName`` designates."""
    return resolve(resource, "vaultName", get(resource.props, "vaultName"),
                   stack.of_kind(Kind.VAULT), _named_vault)


def verdict(resolution: Resolution, resource: PolicyResource | None = None) -> Verdict:
    """Whether the resolution designates ``resource`` (any target if ``None``), three-valued."""
    hit = resolution.designates(resource) if resource is not None else bool(resolution.targets)
    return True if hit else (None if resolution.undecided else False)
