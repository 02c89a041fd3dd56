"""Customer keys are usable and stay in the vault: enabled, not exportable, not expired.

A disabled or expired key cannot unwrap (Storage and SQL lose access to the data within
minutes; SQL refuses an expired TDE protector), and an exportable key's private part can
leave the vault, which defeats holding it there. Omitted attributes are ARM's defaults
(enabled, not exportable). ``expires`` is seconds since the epoch; a value that is not a
finite number is a violation.
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

from policies.arm_defaults import arm_read, finite_number
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import get, is_unknown
from policies.resource_kinds import Kind

META = RuleMeta(
    name="key-state",
    description="Customer-managed keys are enabled, not exportable and not already expired.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    anchors=(Anchor("Vendor CMK prerequisites", "key-usable",
                    "the key must be enabled and not expired for the services to use it"),),
    remediation=("Leave properties.attributes.enabled true and exportable false, and set "
                 "attributes.expires in the future (or rotate to a new key first)."),
    url="https://learn.microsoft.com/azure/key-vault/keys/about-keys-details",
)

_ATTRIBUTES = ("properties", "attributes")


def _flag(props: Any, name: str, wanted: bool, why: str) -> Iterator[Finding]:
    read = arm_read(Kind.KEY, props, *_ATTRIBUTES, name)
    if is_unknown(read.value):
        yield Undecided(f"properties.attributes.{name} is unknown")
    elif read.value is not wanted:
        yield Violation(f"properties.attributes.{name} is {read.value!r}; {why}")


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _flag(args.props, "enabled", True,
                     "a disabled key cannot unwrap and every bound store loses access.")
    yield from _flag(args.props, "exportable", False,
                     "the private key could leave the vault.")
    expires = get(args.props, *_ATTRIBUTES, "expires")
    if is_unknown(expires):
        yield Undecided("properties.attributes.expires is unknown")
    elif expires is not None:
        when = finite_number(expires)
        if when is None:
            yield Violation(f"properties.attributes.expires is {expires!r}, not a finite number "
                            "of seconds since the epoch.")
        elif when <= time.time():
            yield Violation(f"properties.attributes.expires ({when:.0f}) has passed: the key "
                            "is expired.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
