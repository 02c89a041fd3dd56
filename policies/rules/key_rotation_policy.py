"""Customer keys rotate automatically within the configured number of days.

Advisory: the vendor supports rotation through key versions, and consumers bound to a
versionless URI (or with auto-rotation on) follow it. Durations are ISO 8601 as Key Vault
takes them ('P90D', 'P1Y', 'P6M'); a year counts 365 days and a month 30, which is how
the check compares them with ``maxRotationDays``. A rotation triggered before expiry
happens ``expiryTime - timeBeforeExpiry`` after creation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.framework import (
    AZURE_POLICY_URL,
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    resource_rule,
)
from policies.props import UNKNOWN, elements, get, is_unknown, same, text
from policies.resource_kinds import Kind

GUID = "d8cf8476-a2ec-4916-896e-992351803c44"
_DURATION = re.compile(r"^P(?:(?P<y>\d+)Y)?(?:(?P<m>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?$")

META = RuleMeta(
    name="key-rotation-policy",
    description="Customer-managed keys have a rotation policy that rotates within N days.",
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    anchors=(Anchor("Azure Policy", GUID,
                    "Keys should have a rotation policy ensuring that their rotation is "
                    "scheduled within the specified number of days after creation"),),
    remediation=("Add properties.rotationPolicy.lifetimeActions with action.type rotate and "
                 "trigger.timeAfterCreate (or timeBeforeExpiry with attributes.expiryTime) "
                 "no later than maxRotationDays."),
    url=AZURE_POLICY_URL.format(GUID),
    parameters={
        "maxRotationDays": {
            "type": "integer", "minimum": 7, "default": 365,
            "description": "Latest accepted rotation, in days after the version is created.",
        },
    },
)


def duration_days(value: str) -> int | None:
    """Days in an ISO 8601 date duration, or ``None`` if it is not one."""
    match = _DURATION.match(value.strip().upper())
    if match is None or value.strip().upper() == "P":
        return None
    years, months, weeks, days = (int(match[g] or 0) for g in ("y", "m", "w", "d"))
    return years * 365 + months * 30 + weeks * 7 + days


def _rotation_day(action: Any, expiry: Any) -> Any:
    """After how many days this lifetime action rotates; None if it does not; UNKNOWN."""
    kind = get(action, "action", "type")
    if is_unknown(kind):
        return UNKNOWN
    if not ((found := text(kind)) and same(found, "rotate")):
        return None
    after = get(action, "trigger", "timeAfterCreate")
    before = get(action, "trigger", "timeBeforeExpiry")
    if is_unknown(after) or is_unknown(before):
        return UNKNOWN
    if (after_text := text(after)) is not None:
        return duration_days(after_text)
    if (before_text := text(before)) is not None:
        if is_unknown(expiry):
            return UNKNOWN
        total = duration_days(text(expiry) or "")
        lead = duration_days(before_text)
        return None if total is None or lead is None else total - lead
    return None


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    limit = int(config["maxRotationDays"])
    policy = get(args.props, "properties", "rotationPolicy")
    actions_value = get(policy, "lifetimeActions")
    if is_unknown(policy) or is_unknown(actions_value):
        yield Undecided("properties.rotationPolicy is unknown")
        return
    actions = elements(actions_value) or []
    expiry = get(policy, "attributes", "expiryTime")
    days = [_rotation_day(action, expiry) for action in actions]
    known = [d for d in days if isinstance(d, int)]
    if any(d <= limit for d in known):
        return
    if any(is_unknown(d) for d in days):
        yield Undecided("a rotation lifetime action is unknown")
    elif known:
        yield Violation(f"the earliest rotation is {min(known)} days after creation; "
                        f"at most {limit} is allowed.")
    else:
        yield Violation("properties.rotationPolicy has no rotate action with a readable "
                        "trigger.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
