"""Customer keys are RSA (software or HSM) of an allowed size, 2048 bits by default.

Every consuming service wraps with RSA; the vendor asks for RSA 2048. The SDK documents
``keySize`` as 2048, 3072 or 4096 for RSA, 2048 when omitted (the ARM default, which
this rule applies). Which sizes each service accepts
is the ``consumed-key-size-per-service`` rule's data.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.arm_defaults import arm_read, finite_number
from policies.framework import (
    AZURE_POLICY_URL,
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    resource_rule,
)
from policies.key_compatibility import KEY_TYPES, PREREQUISITE_KEY_SIZES
from policies.props import get, is_unknown, same, text
from policies.resource_kinds import Kind

META = RuleMeta(
    name="key-type-and-size",
    description="Customer-managed keys are RSA or RSA-HSM keys of an allowed size.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(
        Anchor("Vendor CMK prerequisites", "rsa-2048", "the key is an RSA 2048-bit key"),
        Anchor("Azure Policy", "75c4f823-d65c-4f29-a733-01d0077fdbcb",
               "Keys should be the specified cryptographic type RSA or EC (related)"),
        Anchor("Azure Policy", "82067dbb-e53b-4e06-b631-546d197452d9",
               "Keys using RSA cryptography should have a specified minimum key size (related)"),
    ),
    remediation=("Create the key with properties.kty RSA or RSA-HSM and properties.keySize in "
                 "allowedKeySizes. Type and size cannot change: create a new key and re-point "
                 "the consumers."),
    url=AZURE_POLICY_URL.format("75c4f823-d65c-4f29-a733-01d0077fdbcb"),
    parameters={
        "allowedKeyTypes": {
            "type": "array", "items": {"type": "string", "enum": ["RSA", "RSA-HSM"]},
            "minItems": 1, "uniqueItems": True, "default": list(KEY_TYPES),
            "description": "Accepted properties.kty values.",
        },
        "allowedKeySizes": {
            "type": "array", "items": {"type": "integer", "enum": [2048, 3072, 4096]},
            # The vendor prerequisite; config validation refuses other sizes unless the stack
            # declares its pack allows them (allowKeySizeBeyondPrerequisite).
            "minItems": 1, "uniqueItems": True, "default": sorted(PREREQUISITE_KEY_SIZES),
            "description": "Accepted properties.keySize values in bits.",
        },
    },
)


def check(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    types = [str(t) for t in config["allowedKeyTypes"]]
    sizes = [int(s) for s in config["allowedKeySizes"]]
    kty = get(args.props, "properties", "kty")
    if is_unknown(kty):
        yield Undecided("properties.kty is unknown")
    elif not ((found := text(kty)) and any(same(found, t) for t in types)):
        yield Violation(f"properties.kty is {kty!r}; allowed: {', '.join(types)}.")
    read = arm_read(Kind.KEY, args.props, "properties", "keySize")
    size = finite_number(read.value)
    if is_unknown(read.value):
        yield Undecided("properties.keySize is unknown")
    elif size is None or size not in sizes:
        shown = "not set" if read.value is None else f"{size:g}" if size is not None \
            else repr(read.value)
        yield Violation(f"properties.keySize is {shown}{read.note}; allowed: "
                        f"{', '.join(str(s) for s in sizes)}.")

def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.KEY}), check)
