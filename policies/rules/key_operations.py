"""Customer keys permit wrapKey and unwrapKey, the only operations a CMK consumer performs.

Omitting keyOps would permit every operation of the key type; the rule wants the list
declared, and wrapKey plus unwrapKey in it, or the services cannot use the key at all.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import elements, get, is_unknown
from policies.resource_kinds import Kind

REQUIRED = ("wrapKey", "unwrapKey")

META = RuleMeta(
    name="key-wrap-operations",
    description="Customer-managed keys declare keyOps including wrapKey and unwrapKey.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "wrap-unwrap",
                    "wrap key and unwrap key must be permitted on the key"),),
    remediation="Set properties.keyOps to include wrapKey and unwrapKey (e.g. exactly those two).",
    url="https://learn.microsoft.com/azure/key-vault/keys/about-keys-details",
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    value = get(args.props, "properties", "keyOps")
    if is_unknown(value):
        yield Undecided("properties.keyOps is unknown")
        return
    ops = elements(value)
    if ops is None:
        yield Violation("properties.keyOps is not set; declare wrapKey and unwrapKey.")
        return
    missing = [op for op in REQUIRED if op not in ops]
    if missing and any(is_unknown(op) for op in ops):
        yield Undecided("an entry of properties.keyOps is unknown")
    elif missing:
        yield Violation(f"properties.keyOps lacks {', '.join(missing)}.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
