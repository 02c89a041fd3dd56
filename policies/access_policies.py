"""Access-policy entries, wherever they live: inline on a vault or a standalone resource."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import PolicyResource

from policies.framework import GUID_ITEM
from policies.props import UNKNOWN, elements, get, is_unknown
from policies.relations import Resolution, Stack, principals_with_object_id, resolve_principal
from policies.resource_kinds import Kind, checked_kind

PERMISSION_LISTS: Final = ("keys", "secrets", "certificates", "storage")
ADMINISTRATORS: Final[Mapping[str, Any]] = {
    "type": "array",
    "items": GUID_ITEM,
    "uniqueItems": True, "default": [],
    "description": "Object ids of the top-level administrators who may hold purge rights.",
}
"""The configuration parameter both purge rules take."""
CMK_KEY_PERMISSIONS: Final = frozenset({"get", "wrapkey", "unwrapkey"})
"""What a CMK consumer needs on keys (lower case); nothing else is granted to the provider."""


@dataclass(frozen=True)
class Entry:
    """One access-policy entry: who (``object_id``) may do what (``permissions``)."""

    where: str
    """``properties.accessPolicies[i]`` or ``policy``, for messages."""
    object_id: Any
    permissions: dict[str, Any]
    """List name -> frozenset of lower-cased permissions, or :data:`UNKNOWN`."""

    @property
    def known(self) -> bool:
        return not any(is_unknown(v) for v in self.permissions.values())

    def grants_cmk(self) -> bool:
        """Keys get, wrapKey and unwrapKey are all granted (possibly among others)."""
        keys = self.permissions["keys"]
        return not is_unknown(keys) and ("all" in keys or keys >= CMK_KEY_PERMISSIONS)

    def exactly_cmk(self) -> bool:
        """Keys exactly get, wrapKey, unwrapKey and no secret, certificate or storage rights."""
        return self.known and self.permissions["keys"] == CMK_KEY_PERMISSIONS and not any(
            self.permissions[kind] for kind in PERMISSION_LISTS if kind != "keys")


def _entry(where: str, raw: Any) -> Entry:
    permissions: dict[str, Any] = {}
    for kind in PERMISSION_LISTS:
        value = get(raw, "permissions", kind)
        items = None if is_unknown(value) else elements(value) or []
        if items is None or any(is_unknown(i) for i in items):
            permissions[kind] = UNKNOWN
        else:
            permissions[kind] = frozenset(str(i).lower() for i in items)
    return Entry(where, get(raw, "objectId"), permissions)


def entries(resource_type: str, props: Any) -> Iterator[Entry | None]:
    """Entries of a vault or a standalone access policy; ``None`` stands for an unknown one."""
    if checked_kind(resource_type) is Kind.ACCESS_POLICY:
        raw = get(props, "policy")
        if is_unknown(raw):
            yield None
        elif raw is not None:
            yield _entry("policy", raw)
        return
    listed = get(props, "properties", "accessPolicies")
    if is_unknown(listed):
        yield None
        return
    for index, raw in enumerate(elements(listed) or []):
        yield None if is_unknown(raw) else _entry(f"properties.accessPolicies[{index}]", raw)


def entry_principals(stack: Stack, holder: PolicyResource, entry: Entry) -> Resolution:
    """The service principals an entry grants: by dependency for a standalone policy."""
    if checked_kind(holder.resource_type) is Kind.ACCESS_POLICY:
        return resolve_principal(stack, holder, "policy", entry.object_id)
    return principals_with_object_id(stack, entry.object_id, holder, "properties")
