"""One JSON audit line per key operation: who, when, what, before, after, and the outcome.

Printed to stdout and, with ``--audit-log FILE``, appended to that file (created 0600), so a
change to the customer's key leaves a record whether it was made, refused or only planned.
Who: the credential type and the claims of the token Azure issued to it (object id, user or
app id, tenant), decoded locally without verifying; the token itself is never written.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

CLAIMS = ("oid", "upn", "unique_name", "appid", "azp", "tid")
"""Token claims that identify the caller (Microsoft identity platform access tokens)."""


class AuditLogError(Exception):
    """The audit log cannot be written: nothing is changed without its record."""


def claims(token: str) -> dict[str, str]:
    """The identifying claims of a JWT access token; empty when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return {}
    if not isinstance(payload, dict):
        return {}
    return {name: str(payload[name]) for name in CLAIMS if payload.get(name)}


@dataclass
class Record:
    who: dict[str, str]
    when: datetime
    what: dict[str, Any]
    """``operation``, the key or vault, the version and the override flags given."""
    before: Any = None
    after: Any = None
    outcome: str = "planned"
    """``done``, ``dry-run``, ``refused``, ``unchanged`` or ``failed``."""
    reason: str = ""
    calls: list[str] = field(default_factory=list)

    def line(self) -> str:
        return json.dumps({"audit": "cmkctl key", "who": self.who,
                           "when": self.when.isoformat(timespec="seconds"), "what": self.what,
                           "outcome": self.outcome, "reason": self.reason, "calls": self.calls,
                           "before": self.before, "after": self.after}, sort_keys=False,
                          default=str)


def check_writable(path: str | None) -> None:
    """Fail before anything is read or changed when the audit log cannot be appended to."""
    if path is None:
        return
    target = Path(path)
    if target.is_dir():
        raise AuditLogError(f"--audit-log {path} is a directory; name a file")
    if not target.parent.is_dir():
        raise AuditLogError(f"--audit-log: directory {target.parent} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise AuditLogError(f"--audit-log {path} is not writable")


def emit(record: Record, stdout: TextIO, path: str | None) -> None:
    line = record.line()
    print(line, file=stdout)
    if path is not None:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as log:
            log.write(line + "\n")


def identity(kind: str, token_claims: Mapping[str, str]) -> dict[str, str]:
    return {"credential": kind, **token_claims} if token_claims else {
        "credential": kind, "claims": "the token is not a JWT; caller unknown"}
