"""Credential store: a secrets vault the process-mining server reads with a certificate.

The server signs in as an app registration using the private key of a self-signed
certificate (``python -m cmkctl cert``); the app holds only the public certificate. The app's
service principal may read secrets and nothing else. The vault has the same guards as the
CMK vault (soft delete, purge protection, lock, firewall), and the stack output is the
``CredentialStore`` block to paste into the server settings, as valid JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

from components.config.setups import CredentialStoreConfig
from components.customer import vault_blocks as blocks
from components.resource_group import resource_group
from components.setups.app_credentials import app_with_credential

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
"""Built-in role "Key Vault Secrets User": read secret contents, nothing else."""
SECRET_PERMISSIONS = ("get",)
"""Access-policy mode: the document's "Secret permissions - Get", and nothing more."""


@dataclass(frozen=True)
class CredentialStoreArgs:
    config: CredentialStoreConfig


class CredentialStore(pulumi.ComponentResource):
    """Vault, secrets, the reader app with its certificate, and the server settings block."""

    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    client_id: pulumi.Output[str]
    """Application (client) id: the block's ClientId."""
    server_settings: pulumi.Output[str]
    """``{"CredentialStore": {...}}`` as JSON, ready for the server's settings tab."""
    certificate_end_date: str
    """When the app's certificate stops working (RFC 3339); renew before it."""
    certificate_thumbprint: str
    secret_ids: dict[str, pulumi.Output[str]]
    """Identifier -> ARM id of each secret (never its value)."""

    def __init__(self, name: str, args: CredentialStoreArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:credentials:CredentialStore", name, None, opts)
        cfg = args.config
        guard = pulumi.ResourceOptions(parent=self, protect=cfg.protect)
        app = app_with_credential(
            name, cfg.app, "Reads the process-mining credential store (secret get only)", self)
        assert app.thumbprint is not None  # the credential store's app always has a certificate
        group_name = resource_group(name, cfg.target, self, cfg.protect)
        policies = [] if cfg.vault.rbac else [keyvault.AccessPolicyEntryArgs(
            tenant_id=cfg.target.tenant_id,
            object_id=app.principal_object_id,
            permissions=keyvault.PermissionsArgs(secrets=list(SECRET_PERMISSIONS)),
        )]
        vault = blocks.guarded_vault(name, cfg.target, cfg.vault, group_name, policies,
                                     "the process-mining credential store", guard)
        if cfg.vault.rbac:
            blocks.grant_role(f"{name}-secrets-reader", app.principal_object_id,
                              KEY_VAULT_SECRETS_USER, cfg.target, vault.id,
                              "Process-mining server: read secrets of this vault only", guard)
        self.secret_ids = {
            identifier: keyvault.Secret(
                f"{name}-secret-{identifier}",
                secret_name=identifier,
                vault_name=vault.name,
                resource_group_name=group_name,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(value.reveal()),
                    attributes=keyvault.SecretAttributesArgs(enabled=True),
                ),
                # Soft delete keeps a removed secret recoverable; the value stays in config.
                opts=pulumi.ResourceOptions(parent=self),
            ).id
            for identifier, value in sorted(cfg.secrets.items())
        }
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.client_id = app.client_id
        self.certificate_end_date = app.credential_end_date
        self.certificate_thumbprint = app.thumbprint
        self.server_settings = pulumi.Output.all(app.client_id, vault.name).apply(
            lambda values: settings_block(cfg.target.tenant_id, values[0], values[1],
                                          cfg.server_certificate_file))
        self.register_outputs({
            "vaultName": self.vault_name,
            "vaultUri": self.vault_uri,
            "clientId": self.client_id,
            "serverSettings": self.server_settings,
            "certificateEndDate": self.certificate_end_date,
        })


def settings_block(tenant_id: str, client_id: str, vault_name: str, certificate_file: str) -> str:
    """The server's ``CredentialStore`` entry as JSON (the document's example misses a comma)."""
    return json.dumps({"CredentialStore": {
        "Type": "AzureKeyVault",
        "TenantId": tenant_id,
        "ClientId": client_id,
        "VaultName": vault_name,
        "CertificateFile": certificate_file,
    }}, indent=4)
