"""What both sides of a cross-tenant stack share: services, tenant targets, names and dates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from components.config import azure_names as names
from components.config.cloud import region_fix, region_problem
from components.config.reader import ConfigReader
from policies.clouds import PUBLIC, Cloud
from policies.key_compatibility import KEY_TYPES as PACK_KEY_TYPES
from policies.key_compatibility import SERVICE_KEY_SIZES as KEY_SIZES_BY_SERVICE


class Service(StrEnum):
    """Provider services that can be encrypted with the customer's key."""

    STORAGE = "storage"
    SQL = "sql"
    DISK = "disk"
    SNOWFLAKE = "snowflake"


SERVICE_KEY_SIZES: Mapping[Service, frozenset[int]] = {
    service: KEY_SIZES_BY_SERVICE[service.value] for service in Service
}


KEY_TYPES = PACK_KEY_TYPES


_STACK_NAME = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class TenantTarget:
    """Where one side's resources live; credentials come from ARM_* variables, OIDC or ESC."""

    tenant_id: str
    subscription_id: str
    location: str
    """ARM short region name, e.g. ``westeurope``."""
    resource_group: str
    resource_group_existing: bool
    """True: use this resource group as it is; False: create (and own) it."""
    cloud: Cloud = PUBLIC
    """The Azure cloud of the whole stack (``azureEnvironment``): providers, issuer, key URIs."""


def read_target(reader: ConfigReader, side: str, cloud: Cloud = PUBLIC) -> TenantTarget | None:
    why = f"the {side} tenant"
    tenant = reader.text(
        f"{side}TenantId",
        "<tenant guid>",
        required=True,
        check=names.guid_problem,
        why_required=why,
    )
    subscription = reader.text(
        f"{side}SubscriptionId",
        "<subscription guid>",
        required=True,
        check=names.guid_problem,
        why_required=why,
    )
    location = reader.text(
        f"{side}Location", "westeurope", required=True, check=names.region_problem, why_required=why
    )
    group = reader.text(
        f"{side}ResourceGroup",
        f"rg-{side}-cmk",
        required=True,
        check=names.resource_group_problem,
        why_required=why,
    )
    existing = reader.boolean(f"{side}ResourceGroupExisting", False)
    if location is not None and (problem := region_problem(location, cloud)):
        reader.fail(f"{side}Location", problem, region_fix(f"{side}Location", cloud))
        location = None
    if tenant is None or subscription is None or location is None or group is None:
        return None
    return TenantTarget(
        tenant.lower(), subscription.lower(), names.normalise_region(location), group, existing,
        cloud,
    )


_GO_MIDNIGHT_UTC = " 00:00:00 +0000 UTC"
"""What the Pulumi CLI passes for an unquoted date: yaml.v3 reads ``2028-11-30`` as a
``time.Time`` and Pulumi stores its ``String()`` (``2028-11-30 00:00:00 +0000 UTC``)."""


def expiry_date(value: str) -> date:
    """``YYYY-MM-DD``, quoted or not (see ``_GO_MIDNIGHT_UTC``); ValueError otherwise."""
    text = value.removesuffix(_GO_MIDNIGHT_UTC)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a real date ({error})") from None


def date_problem(value: str) -> str | None:
    try:
        parsed = expiry_date(value)
    except ValueError as error:
        return str(error)
    today = datetime.now(UTC).date()
    if parsed <= today:
        # Key Vault's ``exp``: on or after it the key must not wrap new keys.
        return (f"{parsed.isoformat()} is not in the future (today is {today.isoformat()}); "
                "a key created already expired could not wrap any service's data key")
    if parsed.year > today.year + 10:
        return (f"{parsed.isoformat()!r} is more than ten years away; pick a date within the "
                "key's lifetime")
    return None


def stack_problem(value: str) -> str | None:
    if _STACK_NAME.match(value):
        return None
    return f"{value!r} is not a fully qualified stack name (org/project/stack)"
