"""The config change that settles a rule's finding, for this program's stacks.

The pack speaks of ARM properties (``properties.enableRbacAuthorization``) because it judges
any program; a reader of the fleet comment fixes a stack file. Each entry is the key the
program reads (``components/config/keys.py``) and a value it accepts
(``components/config/customer.py`` and ``provider.py``); a rule missing here keeps the
pack's own remediation.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CONFIG_FIXES: Mapping[str, str] = MappingProxyType({
    "vault-rbac-authorization": "pulumi config set vaultPermissionModel rbac",
    "vault-network-firewall": "pulumi config set vaultPublicNetworkAccess Disabled",
    "vault-soft-delete-retention": "pulumi config set vaultRetentionDays 90",
    "key-material-protected": "pulumi config set protectKeyMaterial true",
    "cmk-chain-protected": "pulumi config set protectProviderResources true",
})
"""Rule name -> the command that fixes the stack file."""
