"""Wires the two tenants together from a validated config and returns the stack outputs.

Order across tenants: the provider's app and identity first (the customer installs that
app), then the customer's vault, keys and grants, then a pause for the grants to
propagate, then the provider's bindings. Split stacks run the same components, with the
other party's values taken from config or a stack reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from components.config.common import Service
from components.config.key_uri import KeyUri, parse_key_uri
from components.config.provider import ProviderConfig
from components.config.stack import StackConfig
from components.customer.grant_terms import (
    CRYPTO_SERVICE_ENCRYPTION_USER,
    GRANTED_KEY_PERMISSIONS,
    SNOWFLAKE_DATA_ACTIONS,
    SNOWFLAKE_KEY_PERMISSIONS,
)
from components.provider.binding import BindingArgs
from components.providers import TenantProviders, tenant_providers
from components.role_propagation import wait_after

if TYPE_CHECKING:
    from components.customer.vault import CustomerKeyVault
    from components.provider.identity import ProviderIdentity

CRYPTO_SERVICE_ENCRYPTION_USER_NAME = "Key Vault Crypto Service Encryption User"


@dataclass(frozen=True)
class _Key:
    """Where one bound service's key comes from and what must finish before binding it."""

    uri: KeyUri | pulumi.Output[str]
    source: str
    scope: pulumi.Input[str]
    """What the customer grants on: the key's ARM id when known, else its versionless URI."""
    after: tuple[pulumi.Resource, ...] = ()


def build(config: StackConfig) -> dict[str, pulumi.Input[object]]:
    """Create every resource the mode asks for; the dict is what the stack exports.

    Each component's module (and with it the provider SDK module it registers resources
    of) is imported only when the config selects that component: a stack loads the SDK
    modules its resources need, not every one the program could use.
    """
    if config.credential_store is not None:
        from components.setups.program import build_credential_store  # noqa: PLC0415

        return build_credential_store(config.credential_store)
    if config.organization_key is not None:
        from components.setups.program import build_organization_key  # noqa: PLC0415

        return build_organization_key(config.organization_key)
    outputs: dict[str, pulumi.Input[object]] = {"mode": config.mode.value}
    provider_tenant: TenantProviders | None = None
    identity: ProviderIdentity | None = None
    if config.provider is not None:
        from components.provider.identity import (  # noqa: PLC0415
            ProviderIdentity,
            ProviderIdentityArgs,
        )

        provider_tenant = tenant_providers("provider", config.provider.target)
        identity = ProviderIdentity("provider", ProviderIdentityArgs(config.provider),
                                    opts=provider_tenant.as_options())
    vault: CustomerKeyVault | None = None
    if config.customer is not None:
        from components.customer.vault import CustomerKeyVault, CustomerVaultArgs  # noqa: PLC0415

        customer_tenant = tenant_providers("customer", config.customer.target)
        vault = CustomerKeyVault(
            "customer",
            CustomerVaultArgs(config.customer, _provider_app_client_id(config, identity)),
            opts=customer_tenant.as_options(),
        )
        outputs.update(customer_exports(config, vault))
    if config.provider is not None and provider_tenant is not None and identity is not None:
        keys = _keys(config, config.provider, vault)
        outputs.update(_bind(config.provider, identity, provider_tenant, keys))
        outputs["providerAppClientId"] = identity.app_client_id
        outputs["providerIdentityId"] = identity.identity_id
        outputs["customerGrant"] = customer_grant(
            identity.app_client_id,
            {s: k.scope for s, k in keys.items() if s != Service.SNOWFLAKE})
        if Service.SNOWFLAKE in keys:
            outputs["snowflakeGrant"] = snowflake_grant(keys[Service.SNOWFLAKE].scope)
    return outputs


def _provider_app_client_id(config: StackConfig,
                            identity: ProviderIdentity | None) -> pulumi.Input[str]:
    customer = config.customer
    assert customer is not None
    if identity is not None:
        return identity.app_client_id
    if customer.provider_app_client_id:
        return customer.provider_app_client_id
    if customer.provider_stack:
        reference = pulumi.StackReference(customer.provider_stack)
        return stack_output(reference, f"providerStack {customer.provider_stack}",
                            "providerAppClientId")
    raise AssertionError("config validation guarantees a provider app in customer mode")


def _keys(config: StackConfig, provider: ProviderConfig,
          vault: CustomerKeyVault | None) -> dict[Service, _Key]:
    """The key of every bound service, from this stack's vault, config or the customer's stack."""
    bound = provider.bound_services
    if vault is not None:
        customer = config.customer
        assert customer is not None
        chosen = {s: customer.service_keys[s] for s in bound}
        grants = {_grant_label(s, name): grant for s, name in chosen.items()
                  if (grant := _grant_of(vault, s, name)) is not None}
        wait = wait_after("grant-propagation", grants, provider.role_propagation_seconds)
        return {
            service: _Key(vault.keys[name].versioned_uri, f"customer vault key {name!r}",
                          vault.keys[name].id,
                          (*([g] if (g := _grant_of(vault, service, name)) else []),
                           *([wait] if wait else [])))
            for service, name in chosen.items()
        }
    if provider.customer_stack and bound:
        reference = pulumi.StackReference(provider.customer_stack)
        keys: dict[Service, _Key] = {}
        for service in bound:
            export = f"{service.value}KeyUri"
            source = f"customerStack {provider.customer_stack}"
            uri = stack_output(reference, source, export)
            if service == Service.DISK and provider.vault_location is None:
                uri = _same_region(uri, stack_output(reference, source, "vaultLocation"),
                                   source, provider.target.location)
            keys[service] = _Key(uri, f"customerStack {provider.customer_stack} output {export}",
                                 uri.apply(_versionless))
        return keys
    return {s: _Key(provider.key_uris[s], f"{s.value}KeyUri", provider.key_uris[s].versionless)
            for s in bound}


def _grant_of(vault: CustomerKeyVault, service: Service, name: str) -> pulumi.Resource | None:
    """What ``service`` waits for on key ``name``: Snowflake's own grant, else the app's."""
    key = vault.keys[name]
    return key.snowflake_grant if service == Service.SNOWFLAKE else key.grant


def _grant_label(service: Service, name: str) -> str:
    return f"{name}-snowflake" if service == Service.SNOWFLAKE else name


class StackOutputError(pulumi.RunError):
    """A referenced stack lacks an output, or its value contradicts this stack."""


def stack_output(reference: pulumi.StackReference, source: str,
                 export: str) -> pulumi.Output[str]:
    """Output ``export`` of the referenced stack (``source``: the config key and stack that
    named it), or a clear error naming both when that stack lacks it."""

    def pick(outputs: Mapping[str, object]) -> str:
        if export not in outputs:
            has = ", ".join(sorted(outputs)) or "no outputs yet (run pulumi up on it first)"
            raise StackOutputError(f"{source}: that stack has no output {export!r}; it has {has}")
        return str(outputs[export])

    return reference.outputs.apply(pick)


def _same_region(uri: pulumi.Output[str], vault_region: pulumi.Output[str], source: str,
                 location: str) -> pulumi.Output[str]:
    """The disk key, once the customer's vault region (their ``vaultLocation`` output) is
    known to be the disk encryption set's: Azure requires the same region."""

    def check(args: list[str]) -> str:
        key, region = args
        if region != location:
            raise StackOutputError(
                f"{source}: the vault is in {region!r} but "
                f"providerLocation is {location!r}; disk encryption sets need the vault in "
                f"their region (pulumi config set providerLocation {region})"
            )
        return key

    return pulumi.Output.all(uri, vault_region).apply(check)


def _versionless(uri: str) -> str:
    """The key without its version: a grant covers the key, every version included."""
    parsed = parse_key_uri(uri)
    return parsed.versionless if parsed else uri


def _bind(provider: ProviderConfig, identity: ProviderIdentity, tenant: TenantProviders,
          keys: Mapping[Service, _Key]) -> dict[str, pulumi.Input[object]]:
    """One binding component per configured service; returns their exported ids."""
    def args(service: Service) -> BindingArgs:
        key = keys[service]
        return BindingArgs(key.uri, key.source, identity.federated,
                           provider.follow_latest_key_version, identity.resource_group_name,
                           provider.target.location, provider.protect, key.after)

    opts = tenant.as_options()
    exports: dict[str, pulumi.Input[object]] = {}
    if provider.storage:
        from components.provider.storage import StorageCmk, StorageCmkArgs  # noqa: PLC0415

        account = StorageCmk("storage", StorageCmkArgs(args(Service.STORAGE), provider.storage),
                             opts=opts)
        exports["storageAccountId"] = account.account_id
    if provider.sql:
        from components.provider.sql import SqlCmk, SqlCmkArgs  # noqa: PLC0415

        server = SqlCmk("sql", SqlCmkArgs(args(Service.SQL), provider.sql,
                                          provider.target.tenant_id), opts=opts)
        exports["sqlServerId"] = server.server_id
    if provider.disk:
        from components.provider.disk import DiskCmk, DiskCmkArgs  # noqa: PLC0415

        encryption_set = DiskCmk("disk", DiskCmkArgs(args(Service.DISK), provider.disk), opts=opts)
        exports["diskEncryptionSetId"] = encryption_set.encryption_set_id
    if provider.snowflake:
        from components.provider.snowflake_tss import SnowflakeTss, SnowflakeTssArgs  # noqa: PLC0415

        key = keys[Service.SNOWFLAKE]
        tss = SnowflakeTss("snowflake", SnowflakeTssArgs(provider.snowflake, key.uri, key.source,
                                                         key.after))
        exports.update({f"snowflake{k[0].upper()}{k[1:]}": v for k, v in tss.outputs().items()})
    return exports


def customer_grant(app_client_id: pulumi.Input[str],
                   scopes: Mapping[Service, pulumi.Input[str]]) -> dict[str, object]:
    """The grant the customer makes, readable as a stack output: who, which role, on what."""
    return {
        "principal": {"appClientId": app_client_id, "type": "ServicePrincipal",
                      "install": pulumi.Output.concat("az ad sp create --id ", app_client_id)},
        "role": {"name": CRYPTO_SERVICE_ENCRYPTION_USER_NAME,
                 "id": CRYPTO_SERVICE_ENCRYPTION_USER},
        "accessPolicyAlternative": {"keys": list(GRANTED_KEY_PERMISSIONS)},
        "scopes": {service.value: scope for service, scope in scopes.items()},
    }


def snowflake_grant(scope: pulumi.Input[str]) -> dict[str, object]:
    """The grant the customer makes to Snowflake (not the provider app) after consent."""
    return {
        "principal": "snowflakeServicePrincipalName, in the customer tenant after consent",
        "roleDataActions": list(SNOWFLAKE_DATA_ACTIONS),
        "accessPolicyAlternative": {"keys": list(SNOWFLAKE_KEY_PERMISSIONS)},
        "scope": scope,
        "then": "pulumi config set snowflakeServicePrincipalObjectId <its object id>",
    }


def customer_exports(config: StackConfig,
                     vault: CustomerKeyVault) -> dict[str, pulumi.Input[object]]:
    """What the customer shares with the provider: versioned key URIs, one per service."""
    customer = config.customer
    assert customer is not None
    exports: dict[str, pulumi.Input[object]] = {
        # A provider stack reading this one checks its disk encryption set's region with it.
        "vaultLocation": vault.vault_location,
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
