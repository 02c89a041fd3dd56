"""What every ``cmkctl key`` operation shares: the request, the plan it builds, its refusals.

A planner reads the current state and returns a :class:`Plan` (the exact calls, the state
before, how to perform them and what happens next) or raises :class:`RefusedError`; the
runner (``key_ops``) turns either into output, an exit code and an audit line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cmkctl.live.azure import Azure
from cmkctl.live.consumers import Binding, ConsumerRef, read_using
from cmkctl.live.provider_side import Expected
from cmkctl.live.rotation import VersionInfo, versions
from cmkctl.live.target import TargetError, VaultRef
from components.config.key_uri import KeyUri


class RefusedError(Exception):
    """A guard stopped the operation: nothing was changed."""

    def __init__(self, reason: str, override: str = "") -> None:
        super().__init__(reason)
        self.reason, self.override = reason, override


@dataclass(frozen=True)
class Request:
    operation: str
    key_uri: str | None = None
    vault_id: str | None = None
    """recover: a soft-deleted vault (ARM id) instead of a key."""
    stack: str | None = None
    consumers: tuple[str, ...] = ()
    app_client_id: str | None = None
    revoke: bool = False
    force: bool = False
    confirm: str | None = None
    dry_run: bool = False
    audit_log: str | None = None
    auth: str | None = None
    provider_auth: str | None = None
    tenant_id: str | None = None
    azure_environment: str | None = None
    """recover --vault-id: the vault's cloud (an ARM id does not say; a key URI does)."""
    principal_object_id: str | None = None
    backup: str | None = None


@dataclass(frozen=True)
class Call:
    """One request the operation sends, shown exactly (a backup blob only by size and digest)."""

    method: str
    url: str
    body: Mapping[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.url}" + (f" {json.dumps(self.body)}" if self.body else "")


@dataclass
class Plan:
    calls: list[Call]
    before: Any
    perform: Callable[[], Any]
    """Makes the calls; returns the state after."""
    notes: list[str] = field(default_factory=list)
    """What happens next: who picks up what, what stops working, what to re-create."""
    unchanged: str = ""
    """Set when the key is already as asked: nothing is sent."""


@dataclass
class Context:
    azure: Azure
    provider: Azure
    key: KeyUri | None
    vault: VaultRef | None
    stores: list[Expected | ConsumerRef]
    request: Request
    now: datetime



def backup_file(path: str | None) -> Path:
    if not path:
        raise TargetError("--backup FILE is required (a blob written by cmkctl backup-key)")
    blob = Path(path)
    if not blob.is_file():
        raise TargetError(f"--backup {path} is not a file")
    if not os.access(blob, os.R_OK):
        raise TargetError(f"--backup {path} is not readable by this user")
    return blob


def store_ref(store: Expected | ConsumerRef) -> ConsumerRef:
    return store.ref if isinstance(store, Expected) else store


def bindings_of(context: Context) -> tuple[list[Binding], list[str]]:
    assert context.key is not None
    return read_using(context.provider, [store_ref(s) for s in context.stores], context.key)


def versions_of(context: Context) -> list[VersionInfo]:
    """The key's versions; a missing key is a refusal that says where it went."""
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    assert context.key is not None
    with context.azure.keys(context.key.vault_uri) as client:
        found = versions(listed(client, context.key.name))
        if found:
            return found
        try:
            deleted = client.get_deleted_key(context.key.name)
        except ResourceNotFoundError:
            raise RefusedError(f"key {context.key.name} is neither in vault "
                               f"{context.key.vault} nor among its deleted keys (purged, or "
                               "never created)",
                               f"restore it from its backup: cmkctl key restore --key-uri "
                          f"{context.key.versionless} --backup <blob>") from None
    raise RefusedError(f"key {context.key.name} is soft-deleted (on "
                  f"{iso(deleted.deleted_date)}, purged on {iso(deleted.scheduled_purge_date)})",
                  f"recover it first: cmkctl key recover --key-uri {context.key.versionless}")


def listed(client: Any, name: str) -> list[Any]:
    """The key's versions; none when Key Vault answers 404 (no such key)."""
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    try:
        return list(client.list_properties_of_key_versions(name))
    except ResourceNotFoundError:
        return []


def iso(when: datetime | None) -> str:
    return when.isoformat() if when else "an unknown date"


def call_url(context: Context, path: str) -> str:
    assert context.key is not None
    with context.azure.keys(context.key.vault_uri) as client:
        version = client.api_version
    return f"{context.key.vault_uri}{path}?api-version={version}"


def chosen(context: Context, found: list[VersionInfo]) -> VersionInfo:
    assert context.key is not None
    wanted = context.key.version
    if wanted is None:
        return found[-1]
    match = next((v for v in found if v.version == wanted), None)
    if match is None:
        raise RefusedError(f"key {context.key.name} has no version {wanted}",
                      "list the versions: cmkctl key status --key-uri "
                      f"{context.key.versionless}")
    return match


