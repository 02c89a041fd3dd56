"""``cmkctl key rotate|disable|enable|recover|restore``: guarded changes to the customer's key.

Each run checks its arguments and the audit log before any call, reads the current state,
then either refuses (a guard: exit 3, with the override and what it risks), prints the
exact calls it would make (``--dry-run``: exit 0), or makes them. Every run that reached
Azure prints one audit line. Bad arguments exit 2; an Azure error exits 1. Nothing here
deletes or purges a key, a version or a vault: there is no code path for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from cmkctl.live.audit import AuditLogError, Record, check_writable, claims, emit, identity
from cmkctl.live.auth import AuthError, choose_sides
from cmkctl.live.azure import Azure, UnreachableError, connect, explain, quiet_sdk_logs
from cmkctl.live.consumers import ConsumerRef, parse_consumer_id, same_key
from cmkctl.live.key_plan import Context, Plan, RefusedError, Request, backup_file
from cmkctl.live.key_recovery import plan_recover, plan_restore
from cmkctl.live.key_versions import plan_disable, plan_enable, plan_rotate
from cmkctl.live.progress import progress
from cmkctl.live.provider_side import Expected, from_stack
from cmkctl.live.target import TargetError, VaultRef, parse_vault_id, principal, vault_key_uri
from components.config.key_uri import KeyUri
from policies.clouds import CLOUDS, PUBLIC

__all__ = ["EXIT_REFUSED", "OPERATIONS", "Connect", "Request", "connect_sides", "run",
           "stores_named"]

OPERATIONS = ("rotate", "disable", "enable", "recover", "restore")
EXIT_REFUSED = 3

Connect = Callable[[str, str], Azure]
"""Credential type and vault DNS suffix -> how to reach Azure (tests: the loopback fake)."""


def run(request: Request, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        environ: Mapping[str, str] = os.environ, connector: Connect | None = None,
        root: Path | None = None, now: datetime | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    name = f"cmkctl key {request.operation}"
    try:
        key, vault, stores = _arguments(request, root)
        check_writable(request.audit_log)
        kind, provider_kind = choose_sides(request.auth, request.provider_auth, environ)
    except (TargetError, AuthError, AuditLogError) as error:
        print(f"{name}: {error}", file=stderr)
        return 2
    quiet_sdk_logs()
    suffix = key.suffix if key else CLOUDS[request.azure_environment or PUBLIC.name].vault_suffix
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
    try:
        scope = (f"https://{context.key.suffix}/.default" if context.key
                 else f"{azure.arm}/.default")
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
    if request.azure_environment is not None and not vault_mode:
        raise TargetError("--azure-environment is for recover --vault-id only; a key URI names "
                          "its cloud")
    if request.azure_environment is not None and request.azure_environment not in CLOUDS:
        raise TargetError(f"--azure-environment {request.azure_environment!r} is not one of "
                          f"{', '.join(CLOUDS)}")
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
        backup_file(request.backup)
    return key, vault, stores_named(request.consumers, request.stack, key, root,
                                    request.app_client_id)


PLANNERS: dict[str, Callable[[Context], Plan]] = {
    "rotate": plan_rotate, "disable": plan_disable, "enable": plan_enable,
    "recover": plan_recover, "restore": plan_restore}

