"""The resources that consume a customer key, and which key each one consumes.

Storage names the key by vault URI and key name, SQL by key URL (server ``keyId`` and
``ServerKey.uri``), a disk encryption set by ``activeKey.keyUrl`` and Snowflake Tri-Secret
Secure by the arguments of ``SYSTEM$REGISTER_CMK_INFO``. Keys outside this stack (a split,
provider-side stack) resolve to nothing: their checks belong to the customer's stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import PolicyResource

from policies.props import UNKNOWN, get, is_unknown, same, text
from policies.relations import Resolution, Stack, dependencies_of, resolve_key_material
from policies.resource_kinds import Kind, checked_kind

STORAGE: Final = "storage"
SQL: Final = "sql"
DISK: Final = "disk"
SNOWFLAKE: Final = "snowflake"
SERVICES: Final = (STORAGE, SQL, DISK, SNOWFLAKE)

_REGISTER_CMK = re.compile(
    r"SYSTEM\$REGISTER_CMK_INFO\s*\(\s*'(?P<vault_uri>[^']*)'\s*,\s*'(?P<key>[^']*)'",
    re.IGNORECASE)


@dataclass(frozen=True)
class Binding:
    """One consumer of key material and the key(s) in this stack it resolves to."""

    resource: PolicyResource
    service: str
    keys: Resolution


def _storage_reference(props: Any) -> Any:
    source = get(props, "encryption", "keySource")
    if is_unknown(source):
        return UNKNOWN
    if not ((found := text(source)) and same(found, "Microsoft.Keyvault")):
        return None
    uri = get(props, "encryption", "keyVaultProperties", "keyVaultUri")
    name = get(props, "encryption", "keyVaultProperties", "keyName")
    if is_unknown(uri) or is_unknown(name):
        return UNKNOWN
    if (uri_text := text(uri)) and (name_text := text(name)):
        return f"{uri_text.rstrip('/')}/keys/{name_text}"
    return None


def _snowflake_reference(resource: PolicyResource) -> Any:
    statement = get(resource.props, "execute")
    if is_unknown(statement):
        deps = dependencies_of(resource, "execute") or []
        consumes = any(checked_kind(d.resource_type) in (Kind.KEY, Kind.VAULT) for d in deps)
        return UNKNOWN if consumes else None
    match = _REGISTER_CMK.search(text(statement) or "")
    if match is None:
        return None
    return f"{match['vault_uri'].rstrip('/')}/keys/{match['key']}"


def _candidates(resource: PolicyResource) -> tuple[str, str, Any] | None:
    """(service, property holding the reference, reference value) for a consumer."""
    props, kind = resource.props, checked_kind(resource.resource_type)
    found: tuple[str, str, Any] | None = None
    if kind is Kind.STORAGE_ACCOUNT:
        found = (STORAGE, "encryption", _storage_reference(props))
    elif kind is Kind.SQL_SERVER:
        found = (SQL, "keyId", get(props, "keyId"))
    elif kind is Kind.SQL_SERVER_KEY:
        key_type = get(props, "serverKeyType")
        found = (SQL, "uri", get(props, "uri") if is_unknown(key_type) or (
            (t := text(key_type)) and same(t, "AzureKeyVault")) else None)
    elif kind is Kind.DISK_ENCRYPTION_SET:
        found = (DISK, "activeKey", get(props, "activeKey", "keyUrl"))
    elif kind is Kind.SNOWFLAKE_EXECUTE:
        found = (SNOWFLAKE, "execute", _snowflake_reference(resource))
    if found is None or found[2] is None:
        return None
    return found


def bindings(stack: Stack) -> Iterator[Binding]:
    """Every consumer of key material in the stack, with the keys it resolves to."""
    for resource in stack.resources:
        found = _candidates(resource)
        if found is None:
            continue
        service, prop, reference = found
        material = resolve_key_material(stack, resource, prop, reference)
        keys = tuple(t for t in material.targets if checked_kind(t.resource_type) is Kind.KEY)
        # Resolving to a vault alone means the key name is not known yet.
        undecided = material.undecided or (bool(material.targets) and not keys)
        yield Binding(resource, service, Resolution(keys, undecided, material.contradicts))
