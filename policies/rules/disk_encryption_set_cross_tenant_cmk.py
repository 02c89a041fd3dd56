"""Disk encryption sets use the customer's key across tenants.

The encryption type must involve the customer key, ``federatedClientId`` names the
provider app, and ``activeKey.sourceVault`` must be absent: the SDK documents it as
unusable when the vault's subscription differs, which is always the case across tenants.
The SDK also documents ``activeKey.keyUrl`` as fully versioned even with automatic
rotation, so a versionless URL is a violation too.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.azure_refs import key_url_ref
from policies.checks import require_one_of, require_text, user_assigned_identity
from policies.framework import (
    Anchor,
    Finding,
    RuleMeta,
    Undecided,
    Violation,
    resource_rule,
)
from policies.props import get, is_unknown, text
from policies.resource_kinds import Kind

GUID = "ca91455f-eace-4f96-be59-e6e2c35b4816"
CMK_TYPES = ("EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys")

META = RuleMeta(
    name="disk-encryption-set-cross-tenant-cmk",
    description=("Disk encryption sets use a customer key type, a versioned key URL, a "
                 "user-assigned identity and the provider app's federated client id, "
                 "without sourceVault."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(
        Anchor("Azure Policy", GUID,
               "Managed disks should be double encrypted with both platform-managed and "
               "customer-managed keys (related: this rule also accepts customer key only)"),
        Anchor("Vendor CMK prerequisites", "disk-cmk", "disks encrypted with the customer key"),
    ),
    remediation=("Set encryptionType to EncryptionAtRestWithCustomerKey or "
                 "EncryptionAtRestWithPlatformAndCustomerKeys, activeKey.keyUrl to the versioned "
                 "key URL (rotationToLatestKeyVersionEnabled for rotation), identity UserAssigned, "
                 "federatedClientId to the provider app's client id, and drop "
                 "activeKey.sourceVault."),
    url="https://learn.microsoft.com/azure/virtual-machines/disks-cross-tenant-customer-managed-keys",
)


def _key_url(props: Any) -> Iterator[Finding]:
    url = get(props, "activeKey", "keyUrl")
    if is_unknown(url):
        yield Undecided("activeKey.keyUrl is unknown")
    elif (found := text(url)) is None:
        yield Violation("activeKey.keyUrl is not set.")
    elif (ref := key_url_ref(found)) is None or ref.version is None:
        yield Violation(f"activeKey.keyUrl {found} is not a versioned key URL.")
    source_vault = get(props, "activeKey", "sourceVault")
    if is_unknown(source_vault):
        yield Undecided("activeKey.sourceVault is unknown")
    elif source_vault is not None and not (isinstance(source_vault, Mapping)
                                           and len(source_vault) == 0):
        yield Violation("activeKey.sourceVault is set; it cannot point across tenants.")


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from require_one_of(args.props, ("encryptionType",), CMK_TYPES)
    yield from _key_url(args.props)
    yield from user_assigned_identity(args.props)
    yield from require_text(args.props, "federatedClientId")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.DISK_ENCRYPTION_SET}), check)
