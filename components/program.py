"""Wires the two tenants together from a validated config and returns the stack outputs."""

from __future__ import annotations

import pulumi

from components.config import StackConfig
from components.customer_vault import CustomerKeyVault, CustomerVaultArgs
from components.providers import tenant_providers


def build(config: StackConfig) -> dict[str, pulumi.Input[object]]:
    """Create every resource the mode asks for; the dict is what the stack exports."""
    outputs: dict[str, pulumi.Input[object]] = {"mode": config.mode.value}
    customer = config.customer
    if customer is not None:
        providers = tenant_providers("customer", customer.target)
        vault = CustomerKeyVault(
            "customer",
            CustomerVaultArgs(customer, _provider_app_client_id(config)),
            opts=providers.as_options(),
        )
        outputs.update(customer_exports(config, vault))
    return outputs


def _provider_app_client_id(config: StackConfig) -> pulumi.Input[str]:
    customer = config.customer
    assert customer is not None
    if customer.provider_app_client_id:
        return customer.provider_app_client_id
    if customer.provider_stack:
        reference = pulumi.StackReference(customer.provider_stack)
        return reference.require_output("providerAppClientId").apply(str)
    raise AssertionError("config validation guarantees a provider app in customer mode")


def customer_exports(config: StackConfig, vault: CustomerKeyVault) -> dict[str, pulumi.Input[object]]:
    """What the customer shares with the provider: versioned key URIs, one per service."""
    customer = config.customer
    assert customer is not None
    exports: dict[str, pulumi.Input[object]] = {
        "vaultId": vault.vault_id,
        "vaultUri": vault.vault_uri,
        "providerServicePrincipalObjectId": vault.service_principal_object_id,
    }
    for service, key_name in customer.service_keys.items():
        key = vault.keys[key_name]
        exports[f"{service.value}KeyUri"] = key.versioned_uri
        exports[f"{service.value}KeyUriVersionless"] = key.versionless_uri
    exports["keyIds"] = {name: key.id for name, key in vault.keys.items()}
    return exports


