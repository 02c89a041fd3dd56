"""Organisation-level CMK: the organisation's key-encryption key for the provider's KMS.

The provider's key management service wraps its data keys with a key in the organisation's
own vault. The vault and key carry the same guards as the cross-tenant CMK vault. The KMS
reaches the key either through the provider's multitenant app (admin consent installs it
as a service principal here; nothing to renew) or through the organisation's own app
registration with a client secret or a certificate (which expire: their end dates are
exported). Either principal gets wrap, unwrap and get on the key, by role or access policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azuread as azuread

from components.config.setups import KmsAccess, OrganizationKeyConfig
from components.customer import vault_blocks as blocks
from components.customer.grant_terms import CRYPTO_SERVICE_ENCRYPTION_USER
from components.resource_group import resource_group
from components.setups.app_credentials import app_with_credential


@dataclass(frozen=True)
class OrganizationKeyArgs:
    config: OrganizationKeyConfig


class OrganizationKey(pulumi.ComponentResource):
    """Vault, key-encryption key, locks, and the KMS principal's wrap/unwrap grant."""

    key_uri: pulumi.Output[str]
    """Versionless key URI: the provider follows new versions (it checks hourly); give this
    with a rotation policy in place."""
    key_uri_with_version: pulumi.Output[str]
    """Versioned key URI: everything stays encrypted with this version until you change it."""
    vault_uri: pulumi.Output[str]
    principal_object_id: pulumi.Output[str]
    """Service principal the grant names (the provider's app, or the organisation's own)."""
    client_id: pulumi.Output[str] | None
    """Own app only: the Application (client) id to enter in the provider's Encryption page."""
    client_secret: pulumi.Output[str] | None
    """Client-secret access only: the generated secret, a Pulumi secret."""
    credential_end_date: str | None
    """Own app only: when its secret or certificate stops working (RFC 3339)."""

    def __init__(self, name: str, args: OrganizationKeyArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:organization:OrganizationKey", name, None, opts)
        cfg = args.config
        guard = pulumi.ResourceOptions(parent=self, protect=cfg.protect)
        self.client_id = self.client_secret = self.credential_end_date = None
        if cfg.access is KmsAccess.CONSENT:
            assert cfg.provider_app_client_id is not None  # config requires it for consent
            principal = azuread.ServicePrincipal(
                f"{name}-kms-sp",
                client_id=cfg.provider_app_client_id,
                use_existing=True,
                # Admin consent may have installed it already; other stacks may rely on it.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.principal_object_id = principal.object_id
        else:
            assert cfg.app is not None  # config requires it for clientSecret and certificate
            app = app_with_credential(name, cfg.app, "Provider KMS access to the organisation's "
                                      "key-encryption key (wrap/unwrap)", self)
            self.principal_object_id = app.principal_object_id
            self.client_id = app.client_id
            self.client_secret = app.client_secret
            self.credential_end_date = app.credential_end_date
        group_name = resource_group(name, cfg.target, self, cfg.protect)
        policies = [] if cfg.vault.rbac else [
            blocks.key_access_policy(cfg.target.tenant_id, self.principal_object_id)]
        holds, purpose = ("the organisation's key-encryption key",
                          "wraps the provider's data encryption keys")
        vault = (blocks.existing_vault(name, cfg.target, cfg.vault, holds, guard)
                 if cfg.vault.existing else
                 blocks.guarded_vault(name, cfg.target, cfg.vault, group_name, policies, holds,
                                      guard))
        key = (blocks.existing_key(name, cfg.key, vault, purpose, guard) if cfg.key.existing
               else blocks.guarded_key(name, cfg.key, vault, group_name, purpose, guard))
        if cfg.vault.rbac:
            # Revoking this grant locks every user out of the organisation's data.
            blocks.grant_role(f"{name}-grant-{cfg.key.name}", self.principal_object_id,
                              CRYPTO_SERVICE_ENCRYPTION_USER, cfg.target, key.id,
                              "Provider KMS: wrap and unwrap with this key only", guard)
        self.key_uri = key.key_uri
        self.key_uri_with_version = key.key_uri_with_version
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.register_outputs({
            "keyUri": self.key_uri,
            "keyUriWithVersion": self.key_uri_with_version,
            "vaultUri": self.vault_uri,
            "principalObjectId": self.principal_object_id,
        })
