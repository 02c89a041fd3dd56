"""Customer keys carry an expiry date, so a forgotten key does not stay valid forever.

Advisory: an expired key keeps decrypting for storage and the vendor's services, but SQL
refuses a TDE protector whose expiry has passed, so expiry and rotation go together.
"""

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
from policies.props import get, is_unknown
from policies.resource_kinds import Kind

GUID = "152b15f7-8e1f-4c1f-ab71-8c010ba5dbc0"

META = RuleMeta(
    name="key-expiry",
    description="Customer-managed keys have an expiration date.",
    level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    anchors=(
        Anchor("Checkov", "CKV_AZURE_40", "Ensure that the expiration date is set on all keys"),
        Anchor("Azure Policy", GUID, "Key Vault keys should have an expiration date"),
    ),
    remediation=("Set properties.attributes.expires (seconds since the epoch) and a rotation "
                 "policy that rotates well before it."),
    url=AZURE_POLICY_URL.format(GUID),
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    value = get(args.props, "properties", "attributes", "expires")
    if is_unknown(value):
        yield Undecided("properties.attributes.expires is unknown")
    elif not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        yield Violation("properties.attributes.expires is not set.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
