"""Resources a stack reads rather than manages (``vaultExisting``, ``keyExisting``), as the
pack's rules should see them.

The engine runs resource policies only on resources it registers (``GenerateReadSteps`` in
pulumi/pulumi ``pkg/resource/deploy/step_generator.go`` calls no analyzer), and hands read
resources to stack policies with ``protect`` false and nothing that marks them as read
(``AnalyzeResources`` there). ``cmkctl check`` sees the ``read`` step, so it judges a read
vault or key by what Azure returned (its outputs, in the shape the program would have sent),
counts it as safe from this stack's deletes (a read is never deleted: the protect rules
have nothing to guard), and names the command that fixes the existing vault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cmkctl.plan.reader import PlanResource
from policies.resource_kinds import Kind, checked_kind

KEY_PROPERTIES: Final = ("kty", "keySize", "keyOps", "attributes", "rotationPolicy", "curveName",
                         "releasePolicy")
"""``KeyProperties`` the provider returns flattened among the key's outputs."""

AZ_FIXES: Final[Mapping[str, str]] = {
    "vault-soft-delete": "az keyvault update --resource-group {group} --name {vault} "
                         "--enable-soft-delete true",
    "vault-purge-protection": "az keyvault update --resource-group {group} --name {vault} "
                              "--enable-purge-protection true  (irreversible: see "
                              "docs/onboarding.md, Bring your own vault)",
    "vault-network-firewall": "az keyvault update --resource-group {group} --name {vault} "
                              "--bypass AzureServices --default-action Deny",
    "vault-rbac-authorization": "az keyvault update --resource-group {group} --name {vault} "
                                "--enable-rbac-authorization true",
}
"""The Azure CLI command that fixes an existing vault for each vault rule it can fail
(Microsoft Learn: "Azure Key Vault soft-delete", "Configure Azure Key Vault networking
settings"). Soft-delete retention is set when a vault is created and has no such fix."""


def observed(resource: PlanResource) -> dict[str, Any]:
    """What a resource rule judges: the program's inputs, or for a read resource what Azure
    returned, with a key's flattened properties nested under ``properties`` again."""
    if not resource.read:
        return resource.inputs
    if checked_kind(resource.type) is Kind.KEY:
        nested = {k: resource.outputs[k] for k in KEY_PROPERTIES if k in resource.outputs}
        return {**resource.outputs, "properties": nested}
    return resource.outputs


def fix_for(policy: str, resource: PlanResource) -> str | None:
    """The command that fixes a read vault failing ``policy``, or None."""
    template = AZ_FIXES.get(policy)
    if template is None or not resource.read or checked_kind(resource.type) is not Kind.VAULT:
        return None
    parts = str(resource.outputs.get("id") or "").split("/")
    if len(parts) < 9 or parts[3].lower() != "resourcegroups":
        return None
    return template.format(group=parts[4], vault=parts[8])
