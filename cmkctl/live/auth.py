"""Explicit credentials for verify and backup-key: exactly one type, chosen by the user.

No chain is tried (DefaultAzureCredential would probe the instance-metadata endpoint and
several tools in turn). The chosen type's configuration is checked before any network
call, so a missing variable is a one-line error rather than a timeout.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

AUTH_TYPES = ("env", "cli", "oidc", "managed-identity")
AUTH_VARIABLE = "CMKCTL_AUTH"
"""Environment variable naming the credential type when ``--auth`` is not given."""


class AuthError(Exception):
    """No usable credential type was chosen; nothing has been sent anywhere."""


def choose(auth: str | None, environ: Mapping[str, str]) -> str:
    """The credential type from ``--auth`` or ``CMKCTL_AUTH``, checked for its configuration."""
    chosen = auth or environ.get(AUTH_VARIABLE, "").strip()
    if not chosen:
        raise AuthError(
            f"no credential chosen: pass --auth {'|'.join(AUTH_TYPES)} (or set {AUTH_VARIABLE}); "
            "nothing was sent")
    if chosen not in AUTH_TYPES:
        raise AuthError(f"{AUTH_VARIABLE}={chosen!r} is not one of {', '.join(AUTH_TYPES)}")
    problem = _missing(chosen, environ)
    if problem:
        raise AuthError(f"--auth {chosen}: {problem}; nothing was sent")
    return chosen


def choose_sides(auth: str | None, provider_auth: str | None,
                 environ: Mapping[str, str]) -> tuple[str, str]:
    """The vault side's credential type and the provider side's: the same one unless
    ``--provider-auth`` names another."""
    kind = choose(auth, environ)
    return kind, choose(provider_auth, environ) if provider_auth else kind


def _missing(kind: str, environ: Mapping[str, str]) -> str | None:
    def unset(*names: str) -> list[str]:
        return [n for n in names if not environ.get(n)]

    if kind == "env":
        absent = unset("AZURE_TENANT_ID", "AZURE_CLIENT_ID")
        certificate = environ.get("AZURE_CLIENT_CERTIFICATE_PATH")
        if not environ.get("AZURE_CLIENT_SECRET") and not certificate:
            absent.append("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH")
        if absent:
            return f"set {', '.join(absent)}"
        if certificate and not environ.get("AZURE_CLIENT_SECRET") and not Path(
                certificate).is_file():
            return f"AZURE_CLIENT_CERTIFICATE_PATH={certificate} is not a file"
        return None
    if kind == "cli":
        return None if shutil.which("az", path=environ.get("PATH")) else (
            "the Azure CLI (az) is not on PATH; install it and run `az login`")
    if kind == "oidc":
        absent = unset("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")
        if absent:
            return f"set {', '.join(absent)}"
        token_file = environ["AZURE_FEDERATED_TOKEN_FILE"]
        return None if Path(token_file).is_file() else (
            f"AZURE_FEDERATED_TOKEN_FILE={token_file} is not a file")
    return None  # managed-identity: the platform provides it; AZURE_CLIENT_ID picks a UAMI


def credential(kind: str, environ: Mapping[str, str] = os.environ,
               authority: str = "login.microsoftonline.com") -> TokenCredential:
    """Build the credential of ``kind`` (already checked by :func:`choose`), signing in at
    ``authority`` (the vault's cloud). The Azure CLI signs in at the cloud chosen with
    ``az cloud set``, and a managed identity at its own cloud's."""
    from azure import identity  # noqa: PLC0415 - loaded only when a command needs Azure

    if kind == "env":
        tenant, client = environ["AZURE_TENANT_ID"], environ["AZURE_CLIENT_ID"]
        if environ.get("AZURE_CLIENT_SECRET"):
            return identity.ClientSecretCredential(tenant, client, environ["AZURE_CLIENT_SECRET"],
                                                   authority=authority)
        return identity.CertificateCredential(
            tenant, client, certificate_path=environ["AZURE_CLIENT_CERTIFICATE_PATH"],
            password=environ.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"), authority=authority)
    if kind == "cli":
        return identity.AzureCliCredential()
    if kind == "oidc":
        return identity.WorkloadIdentityCredential(
            tenant_id=environ["AZURE_TENANT_ID"], client_id=environ["AZURE_CLIENT_ID"],
            token_file_path=environ["AZURE_FEDERATED_TOKEN_FILE"], authority=authority)
    if kind == "managed-identity":
        return identity.ManagedIdentityCredential(client_id=environ.get("AZURE_CLIENT_ID"))
    raise AuthError(f"unknown credential type {kind!r}")
