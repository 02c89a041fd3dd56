"""Explicit providers per tenant, so nothing lands in whatever tenant the CLI defaults to."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_azuread as azuread

from components.config.common import TenantTarget


@dataclass(frozen=True)
class TenantProviders:
    """The azure-native (ARM) and azuread (Graph) providers of one tenant."""

    arm: azure_native.Provider
    graph: azuread.Provider

    def as_options(self) -> pulumi.ResourceOptions:
        """Options for a component whose children must all use this tenant."""
        return pulumi.ResourceOptions(providers=[self.arm, self.graph])


def tenant_providers(side: str, target: TenantTarget) -> TenantProviders:
    """Providers pinned to ``target``; credentials come from ARM_* variables, OIDC or ESC."""
    arm = azure_native.Provider(
        f"{side}-arm",
        tenant_id=target.tenant_id,
        subscription_id=target.subscription_id,
        location=target.location,
    )
    graph = azuread.Provider(f"{side}-graph", tenant_id=target.tenant_id)
    return TenantProviders(arm=arm, graph=graph)
