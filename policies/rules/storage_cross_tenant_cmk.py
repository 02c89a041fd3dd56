"""Storage accounts encrypt with the customer's key through the federated identity.

Cross-tenant storage encryption needs four things together: key source Key Vault, a key
(vault URI and key name), a user-assigned identity listed on the account, and the
provider app's client id as ``encryptionFederatedIdentityClientId``. ``keyVersion`` is
left to the program: omitting it lets storage follow rotation.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.checks import require_one_of, require_text, user_assigned_identity
from policies.framework import Anchor, Finding, RuleMeta, resource_rule
from policies.resource_kinds import Kind

GUID = "6fac406b-40ca-413b-bf8e-0bf964659c25"
_IDENTITY = ("encryption", "encryptionIdentity", "encryptionUserAssignedIdentity")

META = RuleMeta(
    name="storage-cross-tenant-cmk",
    description=("Storage accounts use a customer-managed key through a user-assigned identity "
                 "and the provider app's federated client id."),
    level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    anchors=(
        Anchor("Azure Policy", GUID, "Storage accounts should use customer-managed key for "
                                     "encryption"),
        Anchor("Checkov", "CKV2_AZURE_1",
               "Ensure storage for critical data are encrypted with Customer Managed Key"),
    ),
    remediation=("Set encryption.keySource=Microsoft.Keyvault, encryption.keyVaultProperties "
                 "{keyVaultUri, keyName}, identity {type: UserAssigned, userAssignedIdentities: "
                 "[uami id]} and encryption.encryptionIdentity {encryptionUserAssignedIdentity: "
                 "uami id, encryptionFederatedIdentityClientId: provider app client id}."),
    url=("https://learn.microsoft.com/azure/storage/common/"
         "customer-managed-keys-configure-cross-tenant-new-account"),
)


def check(args: ResourceValidationArgs, _config: Mapping[str, Any]) -> Iterator[Finding]:
    props = args.props
    yield from require_one_of(props, ("encryption", "keySource"), ("Microsoft.Keyvault",))
    yield from require_text(props, "encryption", "keyVaultProperties", "keyVaultUri")
    yield from require_text(props, "encryption", "keyVaultProperties", "keyName")
    yield from user_assigned_identity(props, _IDENTITY)
    yield from require_text(props, "encryption", "encryptionIdentity",
                            "encryptionFederatedIdentityClientId")


def build() -> ResourceValidationPolicy:
    return resource_rule(META, frozenset({Kind.STORAGE_ACCOUNT}), check)
