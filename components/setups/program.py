"""Builds the credential-store and organisation-key set-ups and returns their stack outputs."""

from __future__ import annotations

import pulumi

from components.config.keys import Setup
from components.config.setups import CredentialStoreConfig, OrganizationKeyConfig
from components.providers import tenant_providers


def build_credential_store(cfg: CredentialStoreConfig) -> dict[str, pulumi.Input[object]]:
    """The store, and what the server's administrator copies into its settings tab."""
    # Imported here, as every component is: only the set-up a stack selects is loaded.
    from components.setups.credential_store import (  # noqa: PLC0415
        CredentialStore,
        CredentialStoreArgs,
    )

    tenant = tenant_providers("customer", cfg.target)
    store = CredentialStore("credential-store", CredentialStoreArgs(cfg),
                            opts=tenant.as_options())
    return {
        "setup": Setup.CREDENTIAL_STORE.value,
        "credentialStoreSettings": store.server_settings,
        "tenantId": cfg.target.tenant_id,
        "appClientId": store.client_id,
        "vaultName": store.vault_name,
        "vaultUri": store.vault_uri,
        "certificateThumbprint": store.certificate_thumbprint,
        "certificateEndDate": store.certificate_end_date,
        "secretIdentifiers": sorted(cfg.secrets),
    }


def build_organization_key(cfg: OrganizationKeyConfig) -> dict[str, pulumi.Input[object]]:
    """The key, and what the organisation administrator enters on the Encryption page."""
    from components.setups.organization_key import (  # noqa: PLC0415
        OrganizationKey,
        OrganizationKeyArgs,
    )

    tenant = tenant_providers("customer", cfg.target)
    key = OrganizationKey("organization-key", OrganizationKeyArgs(cfg), opts=tenant.as_options())
    access: dict[str, pulumi.Input[object]] = {
        "method": cfg.access.value,
        "tenantId": cfg.target.tenant_id,
        "principalObjectId": key.principal_object_id,
    }
    outputs: dict[str, pulumi.Input[object]] = {
        "setup": Setup.ORGANIZATION_KEY.value,
        # Versionless: the provider follows each new version (it checks hourly); versioned:
        # pinned to this version until the key identifier is edited.
        "keyUriVersionless": key.key_uri,
        "keyUri": key.key_uri_with_version,
        "vaultUri": key.vault_uri,
        "kmsAccess": access,
    }
    if key.client_id is not None:
        access["clientId"] = key.client_id
        access["credentialEndDate"] = key.credential_end_date
        outputs["appCredentialEndDate"] = key.credential_end_date
    if key.client_secret is not None:
        outputs["appClientSecret"] = key.client_secret
    return outputs
