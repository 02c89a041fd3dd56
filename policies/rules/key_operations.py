"""Customer keys permit wrapKey and unwrapKey and nothing else.

A key-encryption key is only ever used to wrap and unwrap the services' data encryption
keys. Any other operation (encrypt, decrypt, sign, verify, import, release) widens what a
holder of a grant can do with the customer's key; an omitted ``keyOps`` means every
operation (the ARM default), so it fails too. The allowed set is configurable; wrapKey
and unwrapKey are always required, or the services cannot use the key at all.

One consumer uses more: Snowflake Tri-Secret Secure wraps, unwraps, signs and verifies with
its key (Snowflake's Azure customer-managed key documentation). A key tagged
``tri-secret-secure: snowflake`` may also permit ``snowflakeKeyOperations``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.arm_defaults import ALL_KEY_OPERATIONS, arm_read
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, resource_rule
from policies.props import elements, get, is_unknown, text
from policies.resource_kinds import Kind

REQUIRED = ("wrapKey", "unwrapKey")
SNOWFLAKE_TAG = ("tri-secret-secure", "snowflake")
"""The tag the program puts on a key Snowflake Tri-Secret Secure uses."""

META = RuleMeta(
    name="key-wrap-operations",
    description=("Customer-managed keys permit wrapKey and unwrapKey and no operation outside "
                 "the allowed set."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "wrap-unwrap",
                    "wrap key and unwrap key must be permitted on the key"),),
    remediation=("Set properties.keyOps to exactly [wrapKey, unwrapKey]. keyOps cannot change on "
                 "an existing key: create a new key and rotate the bindings to it."),
    url="https://learn.microsoft.com/azure/key-vault/keys/about-keys-details",
    parameters={
        "allowedOperations": {
            "type": "array", "items": {"type": "string", "enum": list(ALL_KEY_OPERATIONS)},
            "minItems": 2, "uniqueItems": True, "default": list(REQUIRED),
            "description": "Operations a key may permit (wrapKey and unwrapKey are required).",
        },
        "snowflakeKeyOperations": {
            "type": "array", "items": {"type": "string", "enum": list(ALL_KEY_OPERATIONS)},
            "uniqueItems": True, "default": ["sign", "verify"],
            "description": ("Further operations allowed on a key tagged tri-secret-secure: "
                            "snowflake (Snowflake signs and verifies with its key)."),
        },
    },
)


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    allowed = {str(op).lower() for op in config["allowedOperations"]}
    tag = text(get(args.props, "tags", SNOWFLAKE_TAG[0]))
    if tag is not None and tag.lower() == SNOWFLAKE_TAG[1]:
        allowed |= {str(op).lower() for op in config["snowflakeKeyOperations"]}
    read = arm_read(Kind.KEY, args.props, "properties", "keyOps")
    if is_unknown(read.value):
        yield Undecided("properties.keyOps is unknown")
        return
    ops = elements(read.value)
    if ops is None:
        yield Violation(f"properties.keyOps is {read.value!r}, not a list; declare "
                        "[wrapKey, unwrapKey].")
        return
    if any(is_unknown(op) for op in ops):
        yield Undecided("an entry of properties.keyOps is unknown")
        return
    given = {str(op).lower() for op in ops}
    missing = [op for op in REQUIRED if op.lower() not in given]
    extra = sorted(str(op) for op in ops if str(op).lower() not in allowed)
    if missing:
        yield Violation(f"properties.keyOps lacks {', '.join(missing)}.")
    if extra:
        yield Violation(f"properties.keyOps{read.note} permits {', '.join(extra)}; a "
                        "key-encryption key needs only wrapKey and unwrapKey.")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
