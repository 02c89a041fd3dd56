"""Relating stack resources to the vaults, keys and principals they point at.

During a first preview ids and principal ids are unknown, so a reference is resolved from
what the engine recorded first (``propertyDependencies``, or ``dependencies`` when the
engine recorded no per-property detail) and only then by comparing known values. The
answer is a :class:`Resolution`: the designated resources, or "undecided" when neither
the dependencies nor the values can tell yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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

    def designates(self, resource: PolicyResource) -> bool:
        return any(target.urn == resource.urn for target in self.targets)


class Stack:
    """The stack's resources with lookups by kind (every checked spelling of it)."""

    def __init__(self, resources: Sequence[PolicyResource]) -> None:
        self.resources = list(resources)

    def of_kind(self, *kinds: Kind) -> list[PolicyResource]:
        return [r for r in self.resources if checked_kind(r.resource_type) in kinds]


def dependencies_of(resource: PolicyResource, prop: str) -> list[PolicyResource] | None:
    """Resources ``prop`` was computed from; ``None`` when the engine recorded nothing at all."""
    if prop in resource.property_dependencies:
        return list(resource.property_dependencies[prop])
    if resource.property_dependencies:
        return []
    return list(resource.dependencies) or None


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


def resolve(resource: PolicyResource, prop: str, value: Any,
            candidates: Sequence[PolicyResource], matches: Matcher) -> Resolution:
    """Which ``candidates`` the reference in ``resource.prop`` (read as ``value``) names."""
    if not candidates:
        return Resolution()
    deps = dependencies_of(resource, prop)
    if deps:
        dep_urns = {dep.urn for dep in deps}
        hits = tuple(c for c in candidates if c.urn in dep_urns)
        if hits:
            return Resolution(hits)
    if is_unknown(value):
        # Computed from other resources only: it cannot name one of these.
        return Resolution(undecided=not deps)
    return match_value(value, candidates, matches)


_AUTHORIZATION_CHILD = re.compile(
    r"/providers/Microsoft\.Authorization/(?:locks|roleAssignments)/[^/]+$", re.IGNORECASE)


def scope_of(resource: PolicyResource) -> Any:
    """A lock's or role assignment's scope; from its id when outputs omit ``scope`` (locks)."""
    scope = get(resource.props, "scope")
    if scope is not None:
        return scope
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


def resolve_key_material(stack: Stack, resource: PolicyResource, prop: str,
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
    if vaults.targets:
        return vaults
    return Resolution(undecided=keys.undecided or vaults.undecided)


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
