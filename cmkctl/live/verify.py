"""``cmkctl verify``: check a deployed customer key end to end, read-only.

Order: arguments and credentials are checked before any network call (exit 2 on a problem),
then the vault as deployed, its locks, the provider app's grant and each key with a round
trip. Exit 0 only when every required check passed, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from cmkctl.live.auth import AuthError, choose_sides
from cmkctl.live.azure import Azure, UnreachableError, quiet_sdk_logs
from cmkctl.live.azure import connect as azure_for
from cmkctl.live.progress import progress
from cmkctl.live.report import Report
from cmkctl.live.target import (
    DEFAULT_KEY_SIZES,
    Target,
    TargetError,
    from_key_uri,
    from_stack,
)
from cmkctl.live.verify_key import check_keys
from cmkctl.live.verify_provider import StoreExpectation, check_identity, check_stores
from cmkctl.live.verify_vault import check_grant, check_locks, check_vault

Connect = Callable[[str, Target], Azure]
"""Credential type and target -> how to reach Azure (tests substitute a loopback fake)."""


@dataclass(frozen=True)
class Request:
    stack: str | None
    key_uri: str | None
    vault_id: str | None = None
    principal_object_id: str | None = None
    auth: str | None = None
    format: str = "text"
    key_sizes: tuple[int, ...] = ()
    consumers: tuple[str, ...] = ()
    """Stores (ARM ids) to check against ``key_uri`` on the provider side."""
    app_client_id: str | None = None
    identity_id: str | None = None
    """With ``consumers``: the user-assigned identity (ARM id) the stores must use."""
    provider_auth: str | None = None


def resolve(request: Request, root: Path | None = None) -> Target:
    if bool(request.stack) == bool(request.key_uri):
        raise TargetError("pass exactly one of --stack S or --key-uri URI")
    if request.stack:
        if request.key_sizes:
            raise TargetError("--key-size applies to --key-uri; with --stack the sizes come "
                              "from the stack's keySize and services")
        return from_stack(request.stack, request.vault_id, request.principal_object_id, root)
    assert request.key_uri is not None
    sizes = frozenset(request.key_sizes) or DEFAULT_KEY_SIZES
    return from_key_uri(request.key_uri, request.vault_id, request.principal_object_id, sizes)


def provider_expectations(request: Request, target: Target,
                          root: Path | None) -> tuple[list[StoreExpectation], str | None]:
    """The provider's stores to check (from the stack's provider side or ``--consumer``) and
    the identity they must use (None when only flags name the stores)."""
    from cmkctl.live.consumers import parse_consumer_id, parse_identity_id  # noqa: PLC0415
    from cmkctl.live.provider_side import provider_of  # noqa: PLC0415

    if request.stack:
        if request.consumers or request.identity_id:
            raise TargetError("--consumer and --identity-id apply to --key-uri; with --stack the "
                              "stores and identity come from the stack's provider side")
        side = provider_of(request.stack, root, request.app_client_id)
        if side is None:
            return [], None
        return [StoreExpectation(s.ref, s.key, side.follow_latest, side.identity_id,
                                 side.app_client_id) for s in side.stores], side.identity_id
    key = target.keys[0].uri
    identity = parse_identity_id(request.identity_id) if request.identity_id else None
    return [StoreExpectation(parse_consumer_id(c), key, None, identity,
                             request.app_client_id.lower() if request.app_client_id else None)
            for c in request.consumers], identity


def connect(kind: str, target: Target, environ: Mapping[str, str] = os.environ) -> Azure:
    return azure_for(kind, target.suffix, environ)


def run(request: Request, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        environ: Mapping[str, str] = os.environ, connector: Connect | None = None,
        root: Path | None = None, now: datetime | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        target = resolve(request, root)
        stores, identity = provider_expectations(request, target, root)
        kind, provider_kind = choose_sides(request.auth, request.provider_auth, environ)
    except (TargetError, AuthError) as error:
        print(f"cmkctl verify: {error}", file=stderr)
        return 2
    quiet_sdk_logs()
    connect_to = connector or (lambda k, t: connect(k, t, environ))
    azure = connect_to(kind, target)
    described = {**target.describe(), "credential": kind}
    if stores:
        described["provider credential"] = ("the same identity" if provider_kind == kind
                                            else provider_kind)
    report = Report(described)
    try:
        with progress(stderr) as step:
            step(f"reading vault {target.vault_name}")
            vault = check_vault(azure, target, report)
            step("reading locks")
            check_locks(azure, target, report)
            step("reading the provider app's grant")
            check_grant(azure, target, vault, report)
            step("checking the keys (versions, rotation policy, round trip)")
            check_keys(azure, target, report, now or datetime.now(UTC))
            if stores:
                provider = connect_to(provider_kind, target) if provider_kind != kind else azure
                step("reading the provider's stores")
                if identity:
                    check_identity(provider, identity, report)
                check_stores(provider, stores, report)
    except UnreachableError as error:
        print(f"cmkctl verify: {error}", file=stderr)
        return 1
    print(report.to_json() if request.format == "json" else report.to_text(), file=stdout)
    return report.exit_code()
