"""Bindings refuse a key URI their service cannot use, naming where the URI came from.

Config URIs are refused by the config check; these run each binding on a URI that only
becomes known at run time (another stack's export), through the real recorder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cmkctl.plan.recorder import Recording, record

VERSIONLESS = "https://kv-a.vault.azure.net/keys/k"
SOURCE = "customerStack acme/dedicated-cmk/customer output {service}KeyUri"
PROGRAM = """
import pulumi
from pulumi_azure_native import resources

from components.provider.binding import BindingArgs, FederatedIdentity
from components.config.provider import DiskSpec, SqlSpec, StorageSpec
from components.provider.disk import DiskCmk, DiskCmkArgs
from components.provider.sql import SqlCmk, SqlCmkArgs
from components.provider.storage import StorageCmk, StorageCmkArgs

trust = resources.ResourceGroup("trust", resource_group_name="rg")
binding = BindingArgs(
    pulumi.Output.from_input({uri!r}), {source!r},
    FederatedIdentity("/subscriptions/s/resourceGroups/rg/providers/"
                      "Microsoft.ManagedIdentity/userAssignedIdentities/id", "app", trust),
    {follow_latest!r}, "rg", "westeurope", True)
if {service!r} == "storage":
    StorageCmk("storage", StorageCmkArgs(binding, StorageSpec("stx", "Standard_ZRS")))
elif {service!r} == "sql":
    SqlCmk("sql", SqlCmkArgs(binding, SqlSpec("sql-x", "admins", "g", "Group"), "t"))
else:
    DiskCmk("disk", DiskCmkArgs(binding, DiskSpec("des-x", "EncryptionAtRestWithCustomerKey")))
"""


def run_binding(tmp_path: Path, service: str, uri: str, *, follow_latest: bool) -> Recording:
    source = SOURCE.format(service=service)
    (tmp_path / "__main__.py").write_text(
        PROGRAM.format(uri=uri, source=source, follow_latest=follow_latest, service=service)
    )
    return record("test", {}, root=tmp_path)


@pytest.mark.parametrize(
    ("service", "follow_latest", "reason"),
    [
        ("sql", True, "has no version; server keys are named <vault>_<key>_<version>"),
        (
            "disk",
            True,
            "has no version; a disk encryption set takes a versioned key URL even when it rotates",
        ),
        ("storage", False, "has no version but keyVersionPolicy is pinned"),
    ],
)
def test_versionless_uri_from_another_stack_is_refused(
    tmp_path: Path, service: str, follow_latest: bool, reason: str
) -> None:
    expected = f"{SOURCE.format(service=service)}: {VERSIONLESS} {reason}"
    with pytest.raises(Exception, match=re.escape(expected)):
        run_binding(tmp_path, service, VERSIONLESS, follow_latest=follow_latest)


def test_a_value_that_is_no_key_uri_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        Exception,
        match=(
            r"customerStack acme/dedicated-cmk/customer output sqlKeyUri: 'https://kv-a\.vault\."
            r"azure\.net/secrets/s' is not a key URI"
        ),
    ):
        run_binding(tmp_path, "sql", "https://kv-a.vault.azure.net/secrets/s", follow_latest=True)


def test_storage_follows_a_versionless_uri_from_another_stack(tmp_path: Path) -> None:
    rec = run_binding(tmp_path, "storage", VERSIONLESS, follow_latest=True)
    properties = rec.get("azure-native:storage:StorageAccount", "storage-account").inputs[
        "encryption"
    ]["keyVaultProperties"]
    assert properties == {"keyVaultUri": "https://kv-a.vault.azure.net/", "keyName": "k"}
