"""A disk encryption set on the customer's key, across tenants.

The SDK documents ``activeKey.keyUrl`` as a fully versioned URL, version required even
when rotation is on: following new versions is ``rotationToLatestKeyVersionEnabled``,
never a versionless URL. ``activeKey.sourceVault`` is left out: it must be in the set's
subscription, which a vault in another tenant never is. Disks need the vault in their
region; the config check compares the regions before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import compute

from components.config.common import Service
from components.config.provider import DiskSpec
from components.provider.binding import BindingArgs, checked_key


@dataclass(frozen=True)
class DiskCmkArgs:
    binding: BindingArgs
    spec: DiskSpec


class DiskCmk(pulumi.ComponentResource):
    """Disk encryption set: user-assigned identity, federated client id, customer key."""

    encryption_set_id: pulumi.Output[str]
    """ARM id that disks, snapshots and VM scale sets name to be encrypted with the key."""

    def __init__(self, name: str, args: DiskCmkArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:provider:DiskCmk", name, None, opts)
        binding = args.binding
        key = checked_key(binding, Service.DISK)
        encryption_set = compute.DiskEncryptionSet(
            f"{name}-encryption-set",
            disk_encryption_set_name=args.spec.encryption_set_name,
            resource_group_name=binding.resource_group_name,
            location=binding.location,
            identity=compute.EncryptionSetIdentityArgs(
                type=compute.DiskEncryptionSetIdentityType.USER_ASSIGNED,
                user_assigned_identities=[binding.identity.identity_id],
            ),
            encryption_type=args.spec.encryption_type,
            active_key=compute.KeyForDiskEncryptionSetArgs(key_url=key.apply(str)),
            federated_client_id=binding.identity.app_client_id,
            rotation_to_latest_key_version_enabled=binding.follow_latest,
            opts=binding.options(self),
        )
        self.encryption_set_id = encryption_set.id
        self.register_outputs({"encryptionSetId": self.encryption_set_id})
