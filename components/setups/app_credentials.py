"""A single-tenant app registration with one credential, and its service principal.

The credential store's reader and the organisation's own KMS app are both apps in the
organisation's tenant that sign in with a credential the organisation holds: a
certificate (only its public part is uploaded) or a client secret Entra generates. Both
expire; the end date is set explicitly so it is known at preview and exported, and the
expiry policy rule can warn before users are blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import pulumi
import pulumi_azuread as azuread

from components.config.setups import AppSpec, Certificate, ClientSecret

SINGLE_TENANT = "AzureADMyOrg"
""""Accounts in this organizational directory only": nobody outside the tenant signs in."""


@dataclass(frozen=True)
class CredentialedApp:
    """The app, its service principal and what the organisation needs to hand over."""

    client_id: pulumi.Output[str]
    principal_object_id: pulumi.Output[str]
    """Object id of the service principal: the principal vault grants name."""
    credential_end_date: str
    """RFC 3339 end of the credential's validity."""
    client_secret: pulumi.Output[str] | None
    """The generated client secret (a Pulumi secret); None for a certificate."""
    thumbprint: str | None
    """SHA-1 thumbprint of the uploaded certificate; None for a client secret."""


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def app_with_credential(name: str, spec: AppSpec, purpose: str,
                        parent: pulumi.Resource) -> CredentialedApp:
    """``<name>-app``, its credential (``-certificate`` or ``-secret``) and ``<name>-sp``."""
    child = pulumi.ResourceOptions(parent=parent)
    app = azuread.Application(
        f"{name}-app",
        display_name=spec.display_name,
        sign_in_audience=SINGLE_TENANT,
        description=purpose,
        prevent_duplicate_names=True,
        opts=child,
    )
    secret: pulumi.Output[str] | None = None
    thumbprint: str | None = None
    credential = spec.credential
    if isinstance(credential, Certificate):
        end = rfc3339(credential.not_after)
        azuread.ApplicationCertificate(
            f"{name}-certificate",
            application_id=app.id,
            type="AsymmetricX509Cert",
            encoding="pem",
            # Public certificate only: the private key never leaves the server.
            value=credential.pem,
            start_date=rfc3339(credential.not_before),
            end_date=end,
            opts=child,
        )
        thumbprint = credential.thumbprint
    else:
        end = _end_of(credential)
        password = azuread.ApplicationPassword(
            f"{name}-secret",
            application_id=app.id,
            display_name=f"{spec.display_name} until {credential.end_date.isoformat()}",
            end_date=end,
            opts=child,
        )
        secret = pulumi.Output.secret(password.value)
    principal = azuread.ServicePrincipal(
        f"{name}-sp",
        client_id=app.client_id,
        opts=child,
    )
    return CredentialedApp(app.client_id, principal.object_id, end, secret, thumbprint)


def _end_of(credential: ClientSecret) -> str:
    """A secret ends at midnight UTC starting its end date."""
    end: date = credential.end_date
    return rfc3339(datetime.combine(end, time(0), tzinfo=UTC))
