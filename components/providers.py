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
    """Providers pinned to ``target`` and its cloud; credentials come from ARM_* variables,
    OIDC or ESC. The cloud is always named: left unset, both SDKs take ``ARM_ENVIRONMENT``
    from the shell, so a stack would follow whatever cloud the operator's shell is set to
    (``public``, what they send then, is what public stacks always had)."""
    arm = azure_native.Provider(
        f"{side}-arm",
        tenant_id=target.tenant_id,
        subscription_id=target.subscription_id,
        location=target.location,
        environment=target.cloud.arm_environment,
    )
    graph = azuread.Provider(f"{side}-graph", tenant_id=target.tenant_id,
                             environment=target.cloud.graph_environment)
    return TenantProviders(arm=arm, graph=graph)
