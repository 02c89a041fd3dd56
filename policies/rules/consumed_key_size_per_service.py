"""Each consumed key has a size its consuming service accepts.

One key may serve several services, and they disagree. Sizes per service are data (the
``serviceKeySizes`` parameter). The installed SDKs say nothing per service (the Key
Vault SDK lists 2048, 3072 and 4096 for RSA), so the defaults follow the services'
own documentation:

- storage: RSA and RSA-HSM keys of 2048, 3072 and 4096 bits (Azure Storage CMK overview);
- sql: RSA or RSA-HSM, 2048 or 3072 bits only (Azure SQL TDE with CMK requirements);
- disk: software and HSM RSA keys of 2048, 3072 and 4096 bits (managed disks CMK limits);
- snowflake: 2048 or 4096. Snowflake's Azure announcement describes an RSA 4096-bit key
  and the vendor's prerequisites ask RSA 2048 for every service including Snowflake;
  3072 appears in neither, so it is left out.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from policies.arm_defaults import Read, arm_read, finite_number
from policies.bindings import SERVICES, bindings
from policies.framework import Anchor, Finding, RuleMeta, Undecided, Violation, stack_rule
from policies.key_compatibility import SERVICE_KEY_SIZES
from policies.props import get, is_unknown
from policies.relations import Stack
from policies.resource_kinds import Kind

_SIZES = {"type": "array", "items": {"type": "integer", "enum": [2048, 3072, 4096]},
          "minItems": 1, "uniqueItems": True}

META = RuleMeta(
    name="consumed-key-size-per-service",
    description="Every consumed key has a size accepted by each service that consumes it.",
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(Anchor("Vendor CMK prerequisites", "one-key-or-per-service",
                    "one key for all services or one key per service"),),
    remediation=("Use a key size every consumer accepts (2048 is accepted by all four), or give "
                 "the service a key of its own."),
    url=("https://learn.microsoft.com/azure/azure-sql/database/"
         "transparent-data-encryption-byok-overview"),
    parameters={
        "serviceKeySizes": {
            "type": "object",
            "properties": {service: _SIZES for service in SERVICES},
            "additionalProperties": False,
            # One table for config validation and the pack (policies/key_compatibility.py).
            "default": {svc: sorted(sizes) for svc, sizes in SERVICE_KEY_SIZES.items()},
            "description": "Accepted RSA key sizes per consuming service.",
        },
    },
)


def key_size(props: Any) -> Read:
    """Key size from outputs (flattened) or inputs (under ``properties``); an omitted RSA
    size is ARM's default."""
    flattened = get(props, "keySize") is not None or get(props, "kty") is not None
    return arm_read(Kind.KEY, {"properties": props} if flattened else props,
                    "properties", "keySize")


def check(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterator[Finding]:
    accepted = {**META.parameters["serviceKeySizes"]["default"], **config["serviceKeySizes"]}
    for binding in bindings(Stack(args.resources)):
        if binding.keys.undecided and not binding.keys.targets:
            yield Undecided(f"which key {binding.resource.name} consumes", binding.resource.urn)
        sizes = [int(s) for s in accepted[binding.service]]
        for key in binding.keys.targets:
            read = key_size(key.props)
            size = finite_number(read.value)
            if is_unknown(read.value):
                yield Undecided(f"the size of key {key.name}", key.urn)
            elif size is None or size not in sizes:
                shown = f"{size:g} bits{read.note}" if size is not None else "of no stated size"
                yield Violation(f"key {key.name} is {shown} but {binding.service} "
                                f"({binding.resource.name}) accepts "
                                f"{', '.join(str(s) for s in sizes)} bits.", key.urn)


def build() -> StackValidationPolicy:
    return stack_rule(META, check)
