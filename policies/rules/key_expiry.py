"""Customer keys carry an expiry date, so a forgotten key does not stay valid forever.

Advisory: an expired key keeps decrypting for storage and the vendor's services, but SQL
refuses a TDE protector whose expiry has passed, so expiry and rotation go together. A key
expiring within ``warnWithinDays`` is reported too (an already expired key is a mandatory
``key-state`` violation).
"""

import time
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.arm_defaults import finite_number
from policies.framework import (
    AZURE_POLICY_URL,
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    resource_rule,
)
from policies.props import get, is_unknown
from policies.resource_kinds import Kind

GUID = "152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0"

META = RuleMeta(
    name="key-expiry",
    description=("Customer-managed keys have an expiration date that is not within the "
                 "warning window."),
    level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    anchors=(
        Anchor("Checkov", "CKV_AZURE_40", "Ensure that the expiration date is set on all keys"),
        Anchor("Azure Policy", GUID, "Key Vault keys should have an expiration date"),
    ),
    remediation=("Set properties.attributes.expires (seconds since the epoch) and a rotation "
                 "policy that rotates well before it."),
    url=AZURE_POLICY_URL.format(GUID),
    parameters={
        "warnWithinDays": {
            "type": "integer", "minimum": 0, "maximum": 3650, "default": 30,
            "description": "Report a key that expires within this many days.",
        },
    },
)

SECONDS_PER_DAY = 86400


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    value = get(args.props, "properties", "attributes", "expires")
    when = finite_number(value)
    window = int(config["warnWithinDays"])
    if is_unknown(value):
        yield Undecided("properties.attributes.expires is unknown")
    elif when is None or when <= 0:
        yield Violation("properties.attributes.expires is not set.")
    elif when <= time.time() + window * SECONDS_PER_DAY:
        days = max(0.0, (when - time.time()) / SECONDS_PER_DAY)
        yield Violation(f"the key expires in {days:.0f} day(s), within {window}; rotate to a "
                        "new key or extend the expiry first.")

def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
