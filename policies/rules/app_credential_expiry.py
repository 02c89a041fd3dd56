"""App credentials (client secrets, certificates) that expire within N days, or have no end.

The organisation-level CMK document warns that when the credentials of a custom app
registration expire, users are blocked from signing in; a credential store whose
certificate expired can no longer read its secrets. Advisory: renew (add the next
credential) before the end date. A credential without an explicit end date gets one Entra
picks (about two years), which no preview can show, so it is flagged too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import get, is_unknown, text
from policies.resource_kinds import Kind

META = RuleMeta(
    name="app-credential-expiry",
    description="App client secrets and certificates end more than N days from now.",
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Vendor CMK prerequisites", "credential-expiry",
                    "credentials of a custom app registration expire; if they are not renewed "
                    "in time, users are blocked from signing in"),),
    remediation=("Add the next certificate or secret (a new credential resource with a later "
                 "end date), switch the consumer over, then remove the old one; set end_date "
                 "explicitly so the date is reviewed."),
    url="https://learn.microsoft.com/entra/identity-platform/howto-create-service-principal-portal",
    parameters={"withinDays": {
        "type": "integer", "minimum": 0, "default": 30,
        "description": "Flag credentials whose end date is this many days away or less.",
    }},
)

KINDS = frozenset({Kind.APPLICATION_PASSWORD, Kind.APPLICATION_CERTIFICATE,
                   Kind.SERVICE_PRINCIPAL_PASSWORD, Kind.SERVICE_PRINCIPAL_CERTIFICATE})
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0}


def _relative(value: str, now: datetime) -> datetime | None:
    """Go duration (``240h``, ``2400h30m``) the azuread provider takes, from now."""
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return now + timedelta(seconds=sum(float(n) * _UNIT[u] for n, u in parts))


def _absolute(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _end(props: Any, now: datetime) -> Any:
    """The end as a datetime, the unknown marker, ``None`` (not set) or a string (unreadable)."""
    end, relative = get(props, "endDate"), get(props, "endDateRelative")
    if is_unknown(end) or is_unknown(relative):
        return end if is_unknown(end) else relative
    if found := text(end):
        return _absolute(found) or found
    if found := text(relative):
        return _relative(found, now) or found
    return None


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    now = datetime.now(UTC)
    end = _end(args.props, now)
    if is_unknown(end):
        yield Undecided("the credential's end date is unknown")
    elif end is None:
        yield Violation("the credential has no end date; Entra picks one (about two years) "
                        "that no preview shows. Set end_date.")
    elif isinstance(end, str):
        yield Violation(f"end date {end!r} is not an RFC 3339 date or a duration.")
    elif end <= now:
        yield Violation(f"the credential expired on {end:%Y-%m-%d}; sign-ins with it fail.")
    elif end - now <= timedelta(days=int(config["withinDays"])):
        yield Violation(f"the credential expires on {end:%Y-%m-%d}, within "
                        f"{config['withinDays']} days; add its successor now.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, KINDS, check)
