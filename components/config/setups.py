"""Config of the two other Key Vault set-ups: the credential store and the organisation-level key.

``setup`` selects what a stack builds: ``crossTenantCmk`` (the default, everything in
``components.config.stack``), ``credentialStore`` (a secrets vault read by an app with a
certificate credential) or ``organizationKey`` (a key-encryption key in the organisation's
tenant for the provider's key management service). Both reuse the customer-tenant keys
(tenant, subscription, location, resource group), the vault keys and, for the key, the key
keys of the cross-tenant set-up, so one vault is described one way everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from components.config import azure_names as names
from components.config.cloud import read_cloud
from components.config.common import TenantTarget, read_target
from components.config.customer import (
    KeySpec,
    VaultSpec,
    existing_keys,
    key_template,
    read_vault,
)
from components.config.keys import KNOWN_KEYS, Setup, setup_problems
from components.config.problems import ConfigError
from components.config.reader import ConfigReader

PROJECT_DIR = Path(__file__).resolve().parents[2]
"""Where ``Pulumi.yaml`` is: relative certificate paths resolve here, as the CLI runs there."""
MAX_CERTIFICATE_BYTES = 10_000
"""Upload limit of a certificate file: the vendor's organisation-level CMK document asks for a
certificate of "less than 10 KB" to upload to the app registration."""


class KmsAccess(StrEnum):
    """How the provider's key management service reaches the organisation's key."""

    CONSENT = "consent"
    """Admin consent to the provider's multitenant app: no secret or certificate to manage."""
    CLIENT_SECRET = "clientSecret"
    CERTIFICATE = "certificate"


class SecretText:
    """A config value that must never be printed: ``repr`` and ``str`` hide it."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value, for wrapping straight into ``pulumi.Output.secret``."""
        return self._value

    def __repr__(self) -> str:
        return "[secret]"

    __str__ = __repr__


@dataclass(frozen=True)
class Certificate:
    """A public certificate read from ``appCertificateFile`` (never a private key)."""

    path: str
    """As given in config; the stack output names it."""
    pem: str
    """Certificate-only PEM, what is uploaded to the app registration."""
    thumbprint: str
    """SHA-1 thumbprint in upper-case hex, as the portal lists it."""
    not_before: datetime
    not_after: datetime
    """End of validity: the app credential ends here, and the stack exports it."""


@dataclass(frozen=True)
class ClientSecret:
    """A client secret Entra generates for the app; only its end date comes from config."""

    end_date: date


@dataclass(frozen=True)
class AppSpec:
    """A single-tenant app registration in the organisation's tenant and its one credential."""

    display_name: str
    credential: Certificate | ClientSecret


@dataclass(frozen=True)
class CredentialStoreConfig:
    """A secrets vault the process-mining server reads with an app's certificate."""

    target: TenantTarget
    vault: VaultSpec
    """``vault.rbac``: the app gets Key Vault Secrets User; else an access policy secret get."""
    app: AppSpec
    secrets: Mapping[str, SecretText]
    """Identifier -> value; values stay Pulumi secrets from config to state."""
    server_certificate_file: str
    """``CertificateFile`` of the server's ``CredentialStore`` block: the private-key PEM path
    on the server, which this program never reads."""
    protect: bool


@dataclass(frozen=True)
class OrganizationKeyConfig:
    """The organisation's key-encryption key and the provider KMS's access to it."""

    target: TenantTarget
    vault: VaultSpec
    key: KeySpec
    access: KmsAccess
    provider_app_client_id: str | None
    """Consent: the provider's multitenant app, installed here as a service principal."""
    app: AppSpec | None
    """Client secret or certificate: the organisation's own app registration."""
    protect: bool


def load_setup(
    reader: ConfigReader, setup: Setup, raw: Mapping[str, str]
) -> tuple[CredentialStoreConfig | None, OrganizationKeyConfig | None]:
    """Validate a credential-store or organisation-key stack; every problem at once."""
    misplaced = list(setup_problems(raw, setup))
    reader.problems.extend(misplaced)
    reader.drop({problem.key for problem in misplaced})
    target = read_target(reader, "customer", read_cloud(reader))
    vault = read_vault(reader)
    protect = reader.boolean("protectKeyMaterial", True)
    store = key = None
    if setup is Setup.CREDENTIAL_STORE:
        store = _credential_store(reader, target, vault, protect)
    else:
        key = _organization_key(reader, target, vault, protect)
    reader.unknown_keys(KNOWN_KEYS)
    if reader.problems:
        raise ConfigError(reader.problems)
    return store, key


def _credential_store(reader: ConfigReader, target: TenantTarget | None,
                      vault: VaultSpec | None, protect: bool) -> CredentialStoreConfig | None:
    display = _display_name(reader, "credential-store-reader")
    certificate = _certificate(reader, required=True, why="the app signs in with it")
    secrets = _secrets(reader)
    server_file = reader.text("credentialStoreCertificateFile", "my-certificate.pem",
                              default="my-certificate.pem") or "my-certificate.pem"
    if target is None or vault is None or certificate is None:
        return None
    return CredentialStoreConfig(target, vault, AppSpec(display, certificate), secrets,
                                 server_file, protect)


def _organization_key(reader: ConfigReader, target: TenantTarget | None,
                      vault: VaultSpec | None, protect: bool) -> OrganizationKeyConfig | None:
    access = KmsAccess(reader.choice("organizationKeyAccess", tuple(a.value for a in KmsAccess),
                                     KmsAccess.CONSENT))
    name = reader.text("keyName", "cmk", default="cmk",
                       check=lambda v: names.object_name_problem(v, "key")) or "cmk"
    existing = existing_keys(reader, (name,))
    template = replace(key_template(reader), existing=name in existing)
    client_id = reader.text("providerAppClientId", "<client id of the provider's KMS app>",
                            required=access is KmsAccess.CONSENT, check=names.guid_problem,
                            why_required="consent installs the provider's multitenant app")
    app = None
    if access is KmsAccess.CONSENT:
        for setting in ("appDisplayName", "appCertificateFile", "appSecretEndDate"):
            _only_with(reader, setting, "organizationKeyAccess clientSecret or certificate")
    else:
        if reader.present("providerAppClientId"):
            reader.fail("providerAppClientId",
                        f"is set but organizationKeyAccess is {access.value}: the "
                        "organisation's own app is used, not the provider's",
                        "pulumi config rm providerAppClientId")
        app = _custom_app(reader, access)
    if target is None or vault is None:
        return None
    if template.kty == "RSA-HSM" and vault.sku != "premium" and not vault.existing:
        reader.fail("vaultSku", "'standard' cannot hold RSA-HSM keys",
                    "pulumi config set vaultSku premium")
    if access is not KmsAccess.CONSENT and app is None:
        return None
    return OrganizationKeyConfig(target, vault, replace(template, name=name), access,
                                 client_id.lower() if client_id else None, app, protect)


def _custom_app(reader: ConfigReader, access: KmsAccess) -> AppSpec | None:
    display = _display_name(reader, "org-cmk-kms-access")
    credential: Certificate | ClientSecret | None
    if access is KmsAccess.CERTIFICATE:
        _only_with(reader, "appSecretEndDate", "organizationKeyAccess clientSecret")
        credential = _certificate(reader, required=True, why="organizationKeyAccess certificate")
    else:
        _only_with(reader, "appCertificateFile", "organizationKeyAccess certificate")
        end = reader.text("appSecretEndDate", "<YYYY-MM-DD>", required=True,
                          check=_future_date_problem,
                          why_required="a client secret must have an end date")
        credential = ClientSecret(date.fromisoformat(end)) if end else None
    return AppSpec(display, credential) if credential else None


def _only_with(reader: ConfigReader, key: str, needs: str) -> None:
    if reader.present(key):
        reader.fail(key, f"only applies with {needs}", f"pulumi config rm {key}")


def _display_name(reader: ConfigReader, default: str) -> str:
    def check(value: str) -> str | None:
        # Entra's limit for the display name of a single-tenant app registration.
        return None if 0 < len(value) <= 120 else f"{value!r} is not 1-120 characters"

    return reader.text("appDisplayName", default, default=default, check=check) or default


def _future_date_problem(value: str) -> str | None:
    try:
        when = date.fromisoformat(value)
    except ValueError:
        return f"{value!r} is not a date in YYYY-MM-DD form"
    if when <= datetime.now(UTC).date():
        return f"{value!r} is not in the future"
    return None


def _certificate(reader: ConfigReader, *, required: bool, why: str) -> Certificate | None:
    path = reader.text("appCertificateFile", "certs/azure-cert.cer", required=required,
                       why_required=why)
    if path is None:
        return None
    problem, certificate = read_certificate(path)
    if problem:
        reader.fail("appCertificateFile", problem,
                    "python -m cmkctl cert --out-dir certs && pulumi config set "
                    "appCertificateFile certs/azure-cert.cer")
    return certificate


def read_certificate(path: str) -> tuple[str | None, Certificate | None]:
    """The public certificate in ``path`` (PEM or DER), or why it cannot be uploaded."""
    file = Path(path) if Path(path).is_absolute() else PROJECT_DIR / path
    try:
        if not file.is_file():  # a directory, a device or a pipe would never end or fail late
            return f"{path!r} is not a regular file", None
        with file.open("rb") as handle:
            data = handle.read(MAX_CERTIFICATE_BYTES + 1)
    except OSError as error:
        return f"{path!r} cannot be read ({error.strerror or error})", None
    if b"PRIVATE KEY" in data:
        return (f"{path!r} contains a private key; give the certificate-only file "
                "(azure-cert.cer or the certificate-only PEM): the private key stays on the "
                "server"), None
    if len(data) >= MAX_CERTIFICATE_BYTES:
        return (f"{path!r} has {file.stat().st_size} bytes; the upload must stay under "
                f"{MAX_CERTIFICATE_BYTES}"), None
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN CERTIFICATE" in data
                else x509.load_der_x509_certificate(data))
    except ValueError:
        return f"{path!r} is not an X.509 certificate in PEM or DER form", None
    if cert.not_valid_after_utc <= datetime.now(UTC):
        return (f"{path!r} expired on {cert.not_valid_after_utc:%Y-%m-%d}; create a new one "
                "with python -m cmkctl cert"), None
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = cert.fingerprint(hashes.SHA1()).hex().upper()  # Entra shows SHA-1
    return None, Certificate(path, pem, thumbprint, cert.not_valid_before_utc,
                             cert.not_valid_after_utc)


def _secrets(reader: ConfigReader) -> dict[str, SecretText]:
    """``credentialSecrets``: a JSON object identifier -> value, set with ``--secret``."""
    key = "credentialSecrets"
    fix = ("pulumi config set --secret credentialSecrets "
           "'{\"<identifier>\": \"<password>\"}'")
    raw = reader.text(key, "{}")
    if raw is None:
        return {}
    if not reader.is_secret(key):
        reader.fail(key, "is stored in plain text; secret values must be set with --secret "
                         "(run pulumi config rm credentialSecrets first)", fix)
        return {}
    try:
        decoded = json.loads(raw)
    except json.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict) or not all(
            isinstance(v, str) and v for v in decoded.values()):
        reader.fail(key, "is not a JSON object of identifier -> non-empty string value "
                         "(value not shown: it is secret)", fix)
        return {}
    secrets: dict[str, SecretText] = {}
    for identifier, value in decoded.items():
        if problem := names.object_name_problem(identifier, "secret"):
            reader.fail(key, problem, fix)
        else:
            secrets[identifier] = SecretText(value)
    return secrets
