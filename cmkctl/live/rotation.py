"""When an older key version may be disabled: the one rule ``key status`` and ``key disable`` share.

The vendor documents: after a rotation, keep the previous version enabled for 24 hours
(services pick up a new version about once a day), and never while a store still uses it.
So a version may be disabled only when every named consumer is on a newer version, has been
for at least 24 hours, and the newest enabled version itself is at least 24 hours old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cmkctl.live.consumers import Binding

GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class VersionInfo:
    version: str
    created: datetime | None
    enabled: bool
    expires: datetime | None

    def describe(self) -> dict[str, Any]:
        return {"version": self.version, "enabled": self.enabled,
                "created": self.created.isoformat() if self.created else None,
                "expires": self.expires.isoformat() if self.expires else None}


def versions(properties: list[Any]) -> list[VersionInfo]:
    """Key Vault's version list (KeyProperties), oldest first."""
    found = [VersionInfo(str(p.version), p.created_on, bool(p.enabled), p.expires_on)
             for p in properties]
    return sorted(found, key=lambda v: v.created or datetime.min.replace(tzinfo=UTC))


def newest_enabled(found: list[VersionInfo]) -> VersionInfo | None:
    enabled = [v for v in found if v.enabled]
    return enabled[-1] if enabled else None


def hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def disable_blockers(target: str, found: list[VersionInfo], bindings: list[Binding],
                     unread: list[str], now: datetime, named: int) -> list[str]:
    """Why ``target`` (not the newest enabled version) must stay enabled; empty when it may go.

    ``bindings`` are the named stores that use the key as deployed, ``unread`` those that could
    not be read, ``named`` how many stores were named at all.
    """
    reasons = []
    newest = newest_enabled(found)
    if newest is not None and newest.created is not None and now - newest.created < GRACE:
        reasons.append(f"the newest version {newest.version} was created "
                       f"{hours(now - newest.created)} ago (less than 24 h): services pick up a "
                       "new version about once a day")
    if not bindings and not unread:
        reasons.append(
            f"no consumer was named, so nothing shows who still uses {target} (pass --stack with "
            "the provider side, or --consumer <ARM id> for each store)" if not named else
            f"none of the {named} named store(s) encrypts with this key as deployed, so nothing "
            f"shows who still uses {target}")
    reasons += [f"{name}: its key version could not be read" for name in unread]
    for binding in bindings:
        label = binding.ref.label
        if binding.in_use is None:
            reasons.append(f"{label} does not report which version it uses")
        elif binding.in_use == target:
            reasons.append(f"{label} is on version {target}")
        elif binding.since is not None and now - binding.since < GRACE:
            reasons.append(f"{label} moved to version {binding.in_use} only "
                           f"{hours(now - binding.since)} ago (less than 24 h)")
        if binding.problem:
            reasons.append(f"{label} reports {binding.problem}")
    return reasons
