"""The provider tenant's identity: multitenant app, user-assigned identity, federated credential.

The customer installs the app and grants it their key; the provider's resources run as the
user-assigned identity, which the federated credential lets act as the app without any
secret. One app usually serves many environments, so it is created here or reused by
client id; every stack adds its own identity and credential (at most 20 per app).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import managedidentity

from components.config.provider import ProviderConfig
from components.provider.binding import FederatedIdentity
from components.resource_group import resource_group

MULTITENANT = "AzureADMultipleOrgs"
"""Sign-in audience that lets other tenants install the app as a service principal."""


class NotMultitenantError(ValueError):
    """The configured app cannot be installed in the customer's tenant."""


def _multitenant_id(app: azuread.GetApplicationResult) -> str:
    """Object id of an existing app, refused unless other tenants can install it."""
    if app.sign_in_audience != MULTITENANT:
        raise NotMultitenantError(
            f"providerAppClientId: app {app.client_id} has sign-in audience "
            f"{app.sign_in_audience!r}; the customer can only install an {MULTITENANT} app")
    return app.object_id



@dataclass(frozen=True)
class ProviderIdentityArgs:
    config: ProviderConfig


class ProviderIdentity(pulumi.ComponentResource):
    """The app the customer trusts, and the identity the provider's resources act as."""

    app_client_id: pulumi.Output[str]
    """What the customer installs and grants; every binding's federated client id."""
    app_object_id: pulumi.Output[str]
    """Object id of the app in the provider tenant (the credential hangs off it)."""
    identity_id: pulumi.Output[str]
    """ARM id of the user-assigned identity attached to every bound resource."""
    identity_principal_id: pulumi.Output[str]
    """Object id of the identity: the federated credential's subject."""
    resource_group_name: pulumi.Output[str]
    """Resource group of the identity, shared with the bound resources."""
    federated: FederatedIdentity

    def __init__(self, name: str, args: ProviderIdentityArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("dedicated-cmk:provider:Identity", name, None, opts)
        cfg = args.config
        # Guarded: deleting the identity or its credential cuts every binding off the key,
        # and a resource group this stack created is deleted with everything in it.
        child = pulumi.ResourceOptions(parent=self, protect=cfg.protect)
        self.app_client_id, self.app_object_id = self._app(name, cfg)
        self.resource_group_name = resource_group(name, cfg.target, self, cfg.protect)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=cfg.identity_name,
            resource_group_name=self.resource_group_name,
            location=cfg.target.location,
            opts=child,
        )
        credential = azuread.ApplicationFederatedIdentityCredential(
            f"{name}-federated-credential",
            application_id=self.app_object_id.apply(lambda oid: f"/applications/{oid}"),
            # Unique per identity: many stacks add their credential to the same app.
            display_name=identity.principal_id.apply(lambda pid: f"cmk-{pid}"),
            description=f"Lets managed identity {cfg.identity_name} act as this app for "
                        "cross-tenant customer-managed keys",
            # The token issuer and the only audience Entra accepts for a managed identity
            # used as a federated credential, both of the stack's cloud (policies/clouds.py).
            issuer=cfg.target.cloud.issuer(cfg.target.tenant_id),
            subject=identity.principal_id,
            audiences=[cfg.target.cloud.audience],
            opts=child,
        )
        self.identity_id = identity.id
        self.identity_principal_id = identity.principal_id
        self.federated = FederatedIdentity(identity.id, self.app_client_id, credential)
        self.register_outputs({
            "appClientId": self.app_client_id,
            "appObjectId": self.app_object_id,
            "identityId": self.identity_id,
            "identityPrincipalId": self.identity_principal_id,
            "resourceGroupName": self.resource_group_name,
        })

    def _app(self, name: str, cfg: ProviderConfig) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """(client id, object id) of the app: the configured one, or a new one."""
        if cfg.app_client_id:
            existing = azuread.get_application_output(
                client_id=cfg.app_client_id, opts=pulumi.InvokeOutputOptions(parent=self))
            return pulumi.Output.from_input(cfg.app_client_id), existing.apply(_multitenant_id)
        app = azuread.Application(
            f"{name}-app",
            display_name=cfg.app_display_name,
            sign_in_audience=MULTITENANT,
            # Customers find the app by name when they consent; two apps of one name confuse that.
            prevent_duplicate_names=True,
            # No password: the federated credential is the app's only way in.
            # Other environments (and every customer's grant) may rely on this app: a destroy
            # of this stack must not delete it.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return app.client_id, app.object_id
