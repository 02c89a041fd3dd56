"""``cmkctl key rotate|disable|enable|recover|restore``: guarded changes to the customer's key.

Each run checks its arguments and the audit log before any call, reads the current state,
then either refuses (a guard: exit 3, with the override and what it risks), prints the
exact calls it would make (``--dry-run``: exit 0), or makes them. Every run that reached
Azure prints one audit line. Bad arguments exit 2; an Azure error exits 1. Nothing here
deletes or purges a key, a version or a vault: there is no code path for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from cmkctl.live.audit import AuditLogError, Record, check_writable, claims, emit, identity
from cmkctl.live.auth import AuthError, choose
from cmkctl.live.azure import Azure, UnreachableError, connect, explain, quiet_sdk_logs
from cmkctl.live.consumers import (
    Binding,
    ConsumerRef,
    parse_consumer_id,
    read_using,
    same_key,
)
from cmkctl.live.progress import progress
from cmkctl.live.provider_side import Expected, from_stack
from cmkctl.live.rotation import VersionInfo, disable_blockers, newest_enabled, versions
from cmkctl.live.target import TargetError, VaultRef, parse_vault_id, principal, vault_key_uri
from components.config.key_uri import KeyUri

OPERATIONS = ("rotate", "disable", "enable", "recover", "restore")
EXIT_REFUSED = 3
REVOCATION_DELAY = "within about ten minutes"
"""How soon Storage, SQL and disks lose access after the key is disabled (data-loss table)."""
PICKUP = {"storage": "within about a day", "disk": "within about a day",
          "sql": "within about an hour"}
"""When a store that follows new versions moves to one (DESIGN: Storage checks about daily,
SQL's autoRotationEnabled switches within about an hour; disks are given the day too)."""
VAULT_SKU = {"family": "A", "name": "standard"}
"""Sent with ``createMode: recover`` as ``az keyvault recover`` does ("tenantId and sku
shouldn't be required", azure-cli keyvault/custom.py recover_vault)."""

Connect = Callable[[str, str], Azure]
"""Credential type and vault DNS suffix -> how to reach Azure (tests: the loopback fake)."""


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


def run(request: Request, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        environ: Mapping[str, str] = os.environ, connector: Connect | None = None,
        root: Path | None = None, now: datetime | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    name = f"cmkctl key {request.operation}"
    try:
        key, vault, stores = _arguments(request, root)
        check_writable(request.audit_log)
        kind = choose(request.auth, environ)
        provider_kind = choose(request.provider_auth, environ) if request.provider_auth else kind
    except (TargetError, AuthError, AuditLogError) as error:
        print(f"{name}: {error}", file=stderr)
        return 2
    quiet_sdk_logs()
    suffix = key.suffix if key else "vault.azure.net"
    azure, provider = connect_sides(kind, provider_kind, suffix, environ, connector)
    context = Context(azure, provider, key, vault, stores, request, now or datetime.now(UTC))
    record = Record(who={"credential": kind}, when=context.now, what=_what(request, key, vault))
    try:
        return _execute(context, record, kind, stdout, stderr)
    except UnreachableError as error:
        record.outcome, record.reason = "failed", str(error)
        print(f"{name}: {error}", file=stderr)
        emit(record, stdout, request.audit_log)
        return 1


def _execute(context: Context, record: Record, kind: str, stdout: TextIO,
             stderr: TextIO) -> int:
    """Read, guard, then dry-run or perform; every outcome is audited."""
    from azure.core.exceptions import AzureError  # noqa: PLC0415 - loaded only when run

    request, azure = context.request, context.azure
    name = f"cmkctl key {request.operation}"
    suffix = context.key.suffix if context.key else "vault.azure.net"
    try:
        scope = f"https://{suffix}/.default" if context.key else f"{azure.arm}/.default"
        with progress(stderr) as step:
            step("signing in")
            record.who = identity(kind, claims(azure.credential.get_token(scope).token))
            step("reading the current state")
            plan = PLANNERS[request.operation](context)
    except RefusedError as refusal:
        record.outcome, record.reason = "refused", refusal.reason
        print(f"{name}: refused: {refusal.reason}" + (
            f"\n  override: {refusal.override}" if refusal.override else ""), file=stderr)
        emit(record, stdout, request.audit_log)
        return EXIT_REFUSED
    except AzureError as error:
        return _failed(record, error, "reading the current state", context, stdout, stderr)
    record.before, record.calls = plan.before, [str(c) for c in plan.calls]
    if plan.unchanged:
        record.outcome, record.reason, record.after = "unchanged", plan.unchanged, plan.before
        print(plan.unchanged, file=stdout)
    elif request.dry_run:
        record.outcome = "dry-run"
        print("dry run: nothing sent; these calls would be made:", file=stdout)
        for call in plan.calls:
            print(f"  {call}", file=stdout)
        if plan.notes:
            print("once sent:", file=stdout)
        for note in plan.notes:
            print(f"  {note.strip()}", file=stdout)
    else:
        try:
            with progress(stderr) as step:
                step(f"{request.operation}: sending {len(plan.calls)} call(s)")
                record.after = plan.perform()
        except AzureError as error:
            return _failed(record, error, f"sending the {request.operation} request",
                           context, stdout, stderr)
        record.outcome = "done"
        for note in plan.notes:
            print(note, file=stdout)
        problem = record.after.get("problem") if isinstance(record.after, dict) else None
        if problem:
            record.reason = problem
            print(f"{name}: {problem}", file=stderr)
            emit(record, stdout, request.audit_log)
            return 1
    emit(record, stdout, request.audit_log)
    return 0


def connect_sides(kind: str, provider_kind: str, suffix: str, environ: Mapping[str, str],
                  connector: Connect | None) -> tuple[Azure, Azure]:
    """The vault side and the provider side: one identity for both unless ``--provider-auth``
    names another credential type."""
    build = connector or (lambda k, s: connect(k, s, environ))
    azure = build(kind, suffix)
    return azure, build(provider_kind, suffix) if provider_kind != kind else azure


def stores_named(consumers: tuple[str, ...], stack: str | None, key: KeyUri | None,
                 root: Path | None, app_client_id: str | None) -> list[Expected | ConsumerRef]:
    """Stores from ``--consumer`` ids and the provider side of ``--stack`` (those on ``key``)."""
    stores: list[Expected | ConsumerRef] = [parse_consumer_id(c) for c in consumers]
    if stack:
        side = from_stack(stack, root, app_client_id)
        stores += [s for s in side.stores if key is None or same_key(s.key, key)]
    return stores


def _failed(record: Record, error: Exception, doing: str, context: Context, stdout: TextIO,
            stderr: TextIO) -> int:
    vault = context.key.vault if context.key else context.vault.name if context.vault else ""
    failure = explain(error, doing, vault)
    record.outcome, record.reason = "failed", failure.reason
    print(f"cmkctl key {context.request.operation}: {failure.reason}\n  fix: {failure.fix}",
          file=stderr)
    emit(record, stdout, context.request.audit_log)
    return 1


def _what(request: Request, key: KeyUri | None, vault: VaultRef | None) -> dict[str, Any]:
    what: dict[str, Any] = {"operation": request.operation}
    if key is not None:
        what["key"] = str(key)
    if vault is not None:
        what["vault"] = vault.id
    flags = [f for f, on in (("--revoke", request.revoke), ("--force", request.force),
                             ("--dry-run", request.dry_run)) if on]
    if flags:
        what["flags"] = flags
    if request.backup:
        what["backup"] = request.backup
    return what


def _arguments(request: Request, root: Path | None) -> tuple[KeyUri | None, VaultRef | None,
                                                            list[Expected | ConsumerRef]]:
    if request.operation not in OPERATIONS:
        raise TargetError(f"unknown operation {request.operation!r}")
    vault_mode = request.operation == "recover" and request.vault_id is not None
    if vault_mode == bool(request.key_uri):
        raise TargetError("pass --key-uri" if request.operation != "recover" else
                          "pass exactly one of --key-uri (a deleted key) or --vault-id (a "
                          "deleted vault)")
    key = vault_key_uri(request.key_uri) if request.key_uri else None
    vault = parse_vault_id(request.vault_id) if request.vault_id else None
    if vault_mode and not request.tenant_id:
        raise TargetError("--tenant-id is required to recover a vault (the customer tenant "
                          "the vault belongs to)")
    principal(request.principal_object_id)
    if request.confirm is not None:
        expected = f"{key.vault}/{key.name}" if key else vault.name if vault else ""
        if request.confirm.lower() != expected.lower():
            raise TargetError(f"--confirm {request.confirm!r} does not name this key; it must be "
                              f"{expected!r}")
    if request.operation == "restore":
        _backup_file(request.backup)
    return key, vault, stores_named(request.consumers, request.stack, key, root,
                                    request.app_client_id)


def _backup_file(path: str | None) -> Path:
    if not path:
        raise TargetError("--backup FILE is required (a blob written by cmkctl backup-key)")
    blob = Path(path)
    if not blob.is_file():
        raise TargetError(f"--backup {path} is not a file")
    if not os.access(blob, os.R_OK):
        raise TargetError(f"--backup {path} is not readable by this user")
    return blob


def _ref(store: Expected | ConsumerRef) -> ConsumerRef:
    return store.ref if isinstance(store, Expected) else store


def _bindings(context: Context) -> tuple[list[Binding], list[str]]:
    assert context.key is not None
    return read_using(context.provider, [_ref(s) for s in context.stores], context.key)


def _versions(context: Context) -> list[VersionInfo]:
    """The key's versions; a missing key is a refusal that says where it went."""
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    assert context.key is not None
    with context.azure.keys(context.key.vault_uri) as client:
        found = versions(_listed(client, context.key.name))
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
                  f"{_iso(deleted.deleted_date)}, purged on {_iso(deleted.scheduled_purge_date)})",
                  f"recover it first: cmkctl key recover --key-uri {context.key.versionless}")


def _listed(client: Any, name: str) -> list[Any]:
    """The key's versions; none when Key Vault answers 404 (no such key)."""
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    try:
        return list(client.list_properties_of_key_versions(name))
    except ResourceNotFoundError:
        return []


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else "an unknown date"


def _url(context: Context, path: str) -> str:
    assert context.key is not None
    with context.azure.keys(context.key.vault_uri) as client:
        version = client.api_version
    return f"{context.key.vault_uri}{path}?api-version={version}"


def _chosen(context: Context, found: list[VersionInfo]) -> VersionInfo:
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


def _set_enabled(context: Context, version: str, enabled: bool) -> Callable[[], Any]:
    assert context.key is not None
    key = context.key

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            updated = client.update_key_properties(key.name, version, enabled=enabled)
        return {"version": updated.properties.version, "enabled": updated.properties.enabled}

    return perform


def _plan_rotate(context: Context) -> Plan:
    key = context.key
    assert key is not None
    found = _versions(context)
    bindings, unread = _bindings(context)
    newest = found[-1]
    confirmed = context.request.force and context.request.confirm is not None
    if not newest.enabled and not confirmed:
        raise RefusedError(
            f"the newest version {newest.version} is disabled (temporary revocation?): a rotation "
            "creates a new enabled version, which gives every store that follows new versions "
            "access to the key again",
            f"--force --confirm {key.vault}/{key.name} (restores access for stores that follow "
            "new versions; to lift a revocation on purpose, prefer cmkctl key enable)")

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            rotated = client.rotate_key(key.name)
        return {"version": rotated.properties.version, "enabled": rotated.properties.enabled}

    notes = [f"rotated: {key.versionless} has a new version; keep {newest.version} enabled at "
             "least 24 h and until every store is on the new one (cmkctl key status)"]
    notes += _pickup(context, bindings, unread)
    return Plan([Call("POST", _url(context, f"keys/{key.name}/rotate"))],
                {"versions": [v.describe() for v in found]}, perform, notes)


def _pickup(context: Context, bindings: list[Binding], unread: list[str]) -> list[str]:
    if not bindings and not unread:
        return ["no store was named (--stack or --consumer): stores that follow new versions "
                "pick this one up within about a day; pinned ones stay on their version until "
                "their key URI changes"]
    settings = {_ref(s).id.lower(): s.config_key for s in context.stores
                if isinstance(s, Expected)}
    notes = []
    for binding in bindings:
        label = binding.ref.label
        if binding.follows_latest:
            notes.append(f"  {label}: follows new versions, moves {PICKUP[binding.ref.service]}")
        else:
            where = settings.get(binding.ref.id.lower(), "its key URI")
            notes.append(f"  {label}: pinned to version {binding.in_use}; change {where} to the "
                         "new version and run pulumi up")
    notes += [f"  {label}: could not be read" for label in unread]
    return notes


def _plan_disable(context: Context) -> Plan:
    key = context.key
    assert key is not None
    request = context.request
    found = _versions(context)
    target = _chosen(context, found)
    before = {"versions": [v.describe() for v in found]}
    perform = _set_enabled(context, target.version, False)
    call = Call("PATCH", _url(context, f"keys/{key.name}/{target.version}"),
                {"attributes": {"enabled": False}})
    if not target.enabled:
        return Plan([], before, perform, unchanged=f"version {target.version} is already disabled")
    bindings, unread = _bindings(context)
    confirm = f"--confirm {key.vault}/{key.name}"
    if target == newest_enabled(found):
        users = ", ".join(b.ref.label for b in bindings) or "every store encrypted with it"
        if not (request.revoke and request.confirm is not None):
            raise RefusedError(
                f"version {target.version} is the newest enabled version: disabling it revokes "
                f"access; {users} stop working {REVOCATION_DELAY}",
                f"--revoke {confirm} (temporary revocation; undo with cmkctl key enable)")
        notes = [f"revoked: version {target.version} is disabled; {users} lose access "
                 f"{REVOCATION_DELAY}. Undo: cmkctl key enable --key-uri "
                 f"{key.versionless}/{target.version}"]
        return Plan([call], before, perform, notes)
    blockers = disable_blockers(target.version, found, bindings, unread, context.now,
                                len(context.stores))
    notes = [f"disabled version {target.version}; it stays in the vault (backups restore with it "
             f"once re-enabled: cmkctl key enable --key-uri {key.versionless}/{target.version})"]
    if blockers:
        if not (request.force and request.confirm is not None):
            raise RefusedError(f"version {target.version} may still be in use: "
                          + "; ".join(blockers),
                          f"--force {confirm} (risks: a store still on {target.version} loses "
                          f"access {REVOCATION_DELAY}; backups made under it cannot be restored "
                          "while it is disabled)")
        notes.insert(0, "forced past: " + "; ".join(blockers))
    return Plan([call], before, perform, notes)


def _plan_enable(context: Context) -> Plan:
    key = context.key
    assert key is not None
    found = _versions(context)
    target = _chosen(context, found)
    before = {"versions": [v.describe() for v in found]}
    perform = _set_enabled(context, target.version, True)
    if target.enabled:
        return Plan([], before, perform, unchanged=f"version {target.version} is already enabled")
    call = Call("PATCH", _url(context, f"keys/{key.name}/{target.version}"),
                {"attributes": {"enabled": True}})
    return Plan([call], before, perform,
                [f"enabled version {target.version}: stores on it regain access when they next "
                 "reach the key; check with cmkctl verify"])


def _plan_recover(context: Context) -> Plan:
    return _recover_vault(context) if context.vault is not None else _recover_key(context)


def _recover_key(context: Context) -> Plan:
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    key = context.key
    assert key is not None
    with context.azure.keys(key.vault_uri) as client:
        try:
            deleted = client.get_deleted_key(key.name)
        except ResourceNotFoundError:
            present = _listed(client, key.name)
            if present:
                raise RefusedError(f"key {key.name} is not deleted ({len(present)} versions in "
                                   f"vault {key.vault}); there is nothing to recover") from None
            raise RefusedError(f"key {key.name} is neither in vault {key.vault} nor among its "
                               "deleted keys: purged (or never created)",
                          f"restore it from its backup: cmkctl key restore --key-uri "
                          f"{key.versionless} --backup <blob>") from None
    before = {"deleted": _iso(deleted.deleted_date),
              "scheduledPurge": _iso(deleted.scheduled_purge_date)}

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            recovered = client.begin_recover_deleted_key(key.name, _polling_interval=0).result()
        return {"version": recovered.properties.version, "enabled": recovered.properties.enabled}

    notes = [f"recovered: key {key.name} (deleted {before['deleted']}, would have been purged "
             f"{before['scheduledPurge']}) is back with all its versions; its lock is not "
             "(locks go with deletion): run pulumi up on the customer stack, then cmkctl verify"]
    return Plan([Call("POST", _url(context, f"deletedkeys/{key.name}/recover"))], before,
                perform, notes)


def _recover_vault(context: Context) -> Plan:
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    from cmkctl.live.report import Report  # noqa: PLC0415
    from cmkctl.live.target import KEY_TYPES, KeyTarget, Target  # noqa: PLC0415
    from cmkctl.live.verify_vault import check_grant, check_locks  # noqa: PLC0415

    vault = context.vault
    assert vault is not None
    with context.azure.vaults(vault.subscription) as client:
        try:
            client.vaults.get(vault.resource_group, vault.name)
        except ResourceNotFoundError:
            pass
        else:
            raise RefusedError(f"vault {vault.name} exists; there is nothing to recover")
        deleted = next((d for d in client.vaults.list_deleted()
                        if d.properties is not None
                        and str(d.properties.vault_id).lower() == vault.id.lower()), None)
        api = client._config.api_version
    if deleted is None:
        raise RefusedError(f"vault {vault.name} is not among the subscription's deleted vaults: "
                           "purged (or never created); its keys can only come back from backup "
                           "blobs",
                      "create a vault in the same subscription and geography (pulumi up) and "
                      "cmkctl key restore each key from its backup")
    props = deleted.properties
    assert props is not None  # matched on props.vault_id above
    body = {"location": props.location, "properties": {
        "tenantId": context.request.tenant_id, "sku": VAULT_SKU, "createMode": "recover"}}
    before = {"deleted": _iso(props.deletion_date),
              "scheduledPurge": _iso(props.scheduled_purge_date), "location": props.location}

    def perform() -> Any:
        from azure.mgmt.keyvault.models import VaultCreateOrUpdateParameters  # noqa: PLC0415

        with context.azure.vaults(vault.subscription) as client:
            recovered = client.vaults.begin_create_or_update(
                vault.resource_group, vault.name, VaultCreateOrUpdateParameters(body),
                polling_interval=0).result()
        report = Report({})
        vault_uri = str(recovered.properties.vault_uri)
        with context.azure.keys(vault_uri) as keys_client:
            names = sorted({str(p.name) for p in keys_client.list_properties_of_keys()})
        suffix = vault_uri.split(".", 1)[1].rstrip("/")
        keys = tuple(KeyTarget(KeyUri(vault.name, suffix, name, None), frozenset(), KEY_TYPES)
                     for name in names)
        target = Target(vault.name, vault_uri, vault, keys,
                        principal(context.request.principal_object_id))
        check_locks(context.azure, target, report)
        check_grant(context.azure, target, recovered, report)
        missing = [c for c in report.checks if c.status.value != "pass"]
        notes.extend(f"  {c.id}: {c.reason}" + (f" (fix: {c.fix})" if c.fix else "")
                     for c in missing)
        notes.append("  re-create what is missing with pulumi up on the customer stack (or the "
                     "fixes above), then cmkctl verify" if missing else
                     "  locks and grants are in place; run cmkctl verify")
        return {"vaultUri": recovered.properties.vault_uri,
                "checks": {c.id: c.status.value for c in report.checks}}

    url = (f"{context.azure.arm}{vault.id}?api-version={api}")
    notes = [f"recovered vault {vault.name} (deleted {before['deleted']}, would have been purged "
             f"{before['scheduledPurge']}) with its keys; locks and role assignments are not "
             "recovered with it:"]
    return Plan([Call("PUT", url, body)], before, perform, notes)


def _plan_restore(context: Context) -> Plan:
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    key = context.key
    assert key is not None
    blob_path = _backup_file(context.request.backup)
    blob = blob_path.read_bytes()
    record = _sidecar(blob_path)
    digest = hashlib.sha256(blob).hexdigest()
    if record is not None:
        if record.get("blobSha256") not in (None, digest):
            raise RefusedError(f"{blob_path} does not match its record {blob_path}.json (sha256 "
                          f"{digest}, recorded {record.get('blobSha256')}): the blob was changed "
                          "or swapped")
        if str(record.get("key", key.name)).lower() != key.name.lower():
            raise RefusedError(f"the backup holds key {record.get('key')!r}, not {key.name!r}; a "
                          "restored key keeps its name (pass the --key-uri of that name)")
    with context.azure.keys(key.vault_uri) as client:
        present = _listed(client, key.name)
        if present:
            raise RefusedError(f"vault {key.vault} already has a key named {key.name} "
                          f"({len(present)} versions); a restore never replaces a key")
        try:
            deleted = client.get_deleted_key(key.name)
        except ResourceNotFoundError:
            deleted = None
    if deleted is not None:
        raise RefusedError(f"vault {key.vault} has a soft-deleted key named {key.name} (deleted "
                      f"{_iso(deleted.deleted_date)})",
                      f"recover it instead: cmkctl key recover --key-uri {key.versionless}")

    def perform() -> Any:
        with context.azure.keys(key.vault_uri) as client:
            restored = client.restore_key_backup(blob)
        after = {"version": restored.properties.version, "enabled": restored.properties.enabled}
        expected = (record or {}).get("publicKeySha256")
        if expected:
            actual = public_key_digest(restored.key)
            after["publicKeySha256"] = actual
            if actual == expected:
                notes.append("public key matches the backup's record")
            else:
                after["problem"] = (f"the restored key's public key ({actual}) differs from the "
                                    f"backup's record ({expected}): this is not the key the "
                                    "record describes; check the blob before relying on it")
        else:
            notes.append("no public-key digest recorded with this backup: compare the key id "
                         "with the consumers' (cmkctl verify)")
        return after

    notes = [f"restored key {key.name} into {key.vault_uri} (same name, so the same key id); "
             "re-create its lock and grants with pulumi up, then cmkctl verify"]
    call = Call("POST", _url(context, "keys/restore"),
                {"value": f"<{blob_path.name}: {len(blob)} bytes, sha256 {digest}>"})
    return Plan([call], {"key": None, "backupSha256": digest}, perform, notes)


def _sidecar(blob: Path) -> dict[str, Any] | None:
    """The record backup-key writes beside a blob (identifiers and digests only), if any."""
    path = blob.with_name(blob.name + ".json")
    if not path.is_file():
        return None
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise RefusedError(f"{path} is not the JSON record backup-key writes") from None
    return loaded if isinstance(loaded, dict) else None


def public_key_digest(jwk: Any) -> str:
    """sha256 over the RSA modulus and exponent: the same digest backup-key records."""
    return hashlib.sha256(bytes(jwk.n or b"") + b"." + bytes(jwk.e or b"")).hexdigest()


PLANNERS: dict[str, Callable[[Context], Plan]] = {
    "rotate": _plan_rotate, "disable": _plan_disable, "enable": _plan_enable,
    "recover": _plan_recover, "restore": _plan_restore}
