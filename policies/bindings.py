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

from policies.props import UNKNOWN, Verdict, all_of, any_of, get, is_unknown, same, text
from policies.relations import (
    Resolution,
    Stack,
    dependencies_of,
    output_matcher,
    resolve,
    resolve_key_material,
    verdict,
)
from policies.resource_kinds import Kind, checked_kind

STORAGE: Final = "storage"
SQL: Final = "sql"
DISK: Final = "disk"
SNOWFLAKE: Final = "snowflake"
SERVICES: Final = (STORAGE, SQL, DISK, SNOWFLAKE)

_REGISTER_CMK = re.compile(
    r"SYSTEM\$REGISTER_CMK_INFO\s*\(\s*'(?P<vault_uri>[^']*)'\s*,\s*'(?P<key>[^']*)'",
    re.IGNORECASE)
_PROTECTOR_ID = re.compile(r"/servers/(?P<server>[^/]+)/encryptionProtector/", re.IGNORECASE)


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


def uses_vault_key(props: Any) -> Verdict:
    """Whether a SQL server key or encryption protector is of type AzureKeyVault (None:
    unknown until apply)."""
    kind = get(props, "serverKeyType")
    if is_unknown(kind):
        return None
    return bool((found := text(kind)) and same(found, "AzureKeyVault"))


def _protector_server(protector: PolicyResource) -> Any:
    """The server name a protector belongs to: ``serverName``, else parsed from its id."""
    name = get(protector.props, "serverName")
    if name is not None:
        return name
    rid = get(protector.props, "id")
    if (found := text(rid)) and (match := _PROTECTOR_ID.search(found)):
        return match["server"]
    return UNKNOWN if is_unknown(rid) else None


def server_uses_customer_key(stack: Stack, server: PolicyResource) -> Verdict:
    """Whether the server is encrypted with a Key Vault key: ``keyId`` or an AzureKeyVault
    encryption protector (None: cannot tell before apply)."""
    key_id = get(server.props, "keyId")
    verdicts: list[Verdict] = [None if is_unknown(key_id) else text(key_id) is not None]
    for protector in stack.of_kind(Kind.SQL_ENCRYPTION_PROTECTOR):
        owner = resolve(protector, "serverName", _protector_server(protector),
                        stack.of_kind(Kind.SQL_SERVER), output_matcher("name", "serverName"))
        verdicts.append(all_of(verdict(owner, server), uses_vault_key(protector.props)))
    return any_of(verdicts)


def _candidates(resource: PolicyResource) -> tuple[str, str, Any] | None:
    """(service, property holding the reference, reference value) for a consumer."""
    props, kind = resource.props, checked_kind(resource.resource_type)
    found: tuple[str, str, Any] | None = None
    if kind is Kind.STORAGE_ACCOUNT:
        found = (STORAGE, "encryption", _storage_reference(props))
    elif kind is Kind.SQL_SERVER:
        found = (SQL, "keyId", get(props, "keyId"))
    elif kind is Kind.SQL_SERVER_KEY:
        found = (SQL, "uri", get(props, "uri") if uses_vault_key(props) is not False else None)
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
