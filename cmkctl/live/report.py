"""The verify report: one result per check, rendered as text or JSON, and the exit code.

A check either passed, failed (the deployment is wrong: the fix says what to change) or
could not be checked (verify itself was stopped: a 403, a firewall, a missing argument).
Only required checks decide the exit code; advisory ones are reported all the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    COULD_NOT_CHECK = "could-not-check"


@dataclass(frozen=True)
class Check:
    """One line of the report; ``reason`` and ``fix`` never contain key or secret material."""

    id: str
    """Stable identifier, e.g. ``vault.purge-protection`` or ``key[cmk].enabled``."""
    title: str
    status: Status
    reason: str
    fix: str = ""
    required: bool = True


@dataclass
class Report:
    target: dict[str, str]
    """What was verified (URIs, ids, principal): identifiers only."""
    checks: list[Check] = field(default_factory=list)

    def add(self, check: Check) -> None:
        self.checks.append(check)

    @property
    def ok(self) -> bool:
        return all(c.status is Status.PASS for c in self.checks if c.required)

    def exit_code(self) -> int:
        """0 only when every required check passed; 1 otherwise."""
        return 0 if self.ok else 1

    def to_json(self) -> str:
        counts = {s.value: sum(1 for c in self.checks if c.status is s) for s in Status}
        return json.dumps(
            {"target": self.target, "ok": self.ok, "summary": counts,
             "checks": [{**asdict(c), "status": c.status.value} for c in self.checks]},
            indent=2)

    def to_text(self) -> str:
        lines = [f"{k}: {v}" for k, v in self.target.items()]
        width = max((len(c.id) for c in self.checks), default=0)
        for check in self.checks:
            mark = {Status.PASS: "PASS ", Status.FAIL: "FAIL ",
                    Status.COULD_NOT_CHECK: "NOCHK"}[check.status]
            advisory = "" if check.required else " (advisory)"
            lines.append(f"{mark}  {check.id:<{width}}  {check.title}{advisory}: {check.reason}")
            if check.status is not Status.PASS and check.fix:
                lines.append(f"       {'':<{width}}  fix: {check.fix}")
        failed = [c for c in self.checks if c.required and c.status is not Status.PASS]
        lines.append("verified: every required check passed" if not failed else
                     f"NOT verified: {len(failed)} required check(s) failed or could not run")
        return "\n".join(lines)
