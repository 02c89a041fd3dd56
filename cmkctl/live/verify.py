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

from cmkctl.live.auth import AuthError, choose, credential
from cmkctl.live.azure import Azure, arm_endpoint
from cmkctl.live.report import Report
from cmkctl.live.target import (
    DEFAULT_KEY_SIZES,
    Target,
    TargetError,
    from_key_uri,
    from_stack,
)
from cmkctl.live.verify_key import check_keys
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


def connect(kind: str, target: Target, environ: Mapping[str, str] = os.environ) -> Azure:
    return Azure(credential(kind, environ), arm_endpoint(target.suffix))


def run(request: Request, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        environ: Mapping[str, str] = os.environ, connector: Connect | None = None,
        root: Path | None = None, now: datetime | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        target = resolve(request, root)
        kind = choose(request.auth, environ)
    except (TargetError, AuthError) as error:
        print(f"cmkctl verify: {error}", file=stderr)
        return 2
    azure = (connector or (lambda k, t: connect(k, t, environ)))(kind, target)
    report = Report({**target.describe(), "credential": kind})
    vault = check_vault(azure, target, report)
    check_locks(azure, target, report)
    check_grant(azure, target, vault, report)
    check_keys(azure, target, report, now or datetime.now(UTC))
    print(report.to_json() if request.format == "json" else report.to_text(), file=stdout)
    return report.exit_code()
