"""Config for Snowflake Tri-Secret Secure: the account, its key-pair login and the phase.

Kept apart from ``config.py`` (which calls :func:`read_snowflake`) so the Snowflake keys
and their checks sit in one place. Every value that reaches SQL is validated here to a
shape that cannot carry a quote: GUIDs, a vault URI, a key name and a boolean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from components.config import azure_names as names
from components.config.reader import ConfigReader


class SnowflakePhase(StrEnum):
    """How far Tri-Secret Secure self-registration goes; each phase includes the earlier ones."""

    REGISTER = "register"
    """Register the key and read the consent URL and Snowflake's service-principal name."""
    VERIFY = "verify"
    """After the customer's consent and grant: check Snowflake can use the key."""
    ACTIVATE = "activate"
    """Re-key the account with the key (composite master key): deliberate and irreversible."""


ACCOUNTADMIN = "ACCOUNTADMIN"
"""REGISTER_CMK_INFO is ACCOUNTADMIN-only and ACTIVATE_CMK_INFO needs MODIFY on the account."""

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,254}$")
_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,255}$")

@dataclass(frozen=True)
class SnowflakeSpec:
    """A Business Critical Snowflake account on Azure that registers the customer's key."""

    organization_name: str
    account_name: str
    user: str
    """A user whose RSA public key is set and who holds ACCOUNTADMIN."""
    private_key: str | None
    """PEM private key (a Pulumi secret); None: the provider reads SNOWFLAKE_PRIVATE_KEY."""
    private_key_passphrase: str | None
    phase: SnowflakePhase
    privatelink: bool
    """Register with the private-connectivity endpoint (REGISTER_CMK_INFO's third argument)."""
    customer_tenant_id: str
    """The tenant of the customer's vault: SYSTEM$GET_CMK_CONFIG's argument."""


@dataclass(frozen=True)
class SnowflakeSettings:
    """What the stack's config says about Snowflake, for both sides."""

    account: SnowflakeSpec | None
    """Provider side: the account that registers the key; None when not configured."""
    principal_object_id: str | None
    """Object id of Snowflake's service principal in the customer tenant, after consent."""


def snowflake_configured(reader: ConfigReader) -> bool:
    """Whether this stack names a Snowflake account (which turns on the ``snowflake`` service)."""
    return reader.present("snowflakeAccountName")


def read_snowflake(
    reader: ConfigReader, *, provider_side: bool, tenant_id: str | None
) -> SnowflakeSettings:
    """Read and check the Snowflake keys; ``tenant_id`` is the customer tenant when known.

    Which keys a mode takes (and that the account's keys need ``snowflakeAccountName``) is
    checked by ``config_keys.KEYS`` before this runs.
    """
    principal = reader.text(
        "snowflakeServicePrincipalObjectId", "<object id>", check=names.guid_problem
    )
    account = None
    if provider_side and snowflake_configured(reader):
        account = _account(reader, tenant_id, principal)
    elif principal and provider_side and tenant_id is None:
        reader.fail(
            "snowflakeServicePrincipalObjectId",
            "has no effect unless snowflakeAccountName is set (this provider stack grants "
            "nothing; it only gates Snowflake's verify and activate phases)",
            "pulumi config rm snowflakeServicePrincipalObjectId",
        )
    return SnowflakeSettings(account, principal.lower() if principal else None)


def _account(
    reader: ConfigReader, tenant_id: str | None, principal: str | None
) -> SnowflakeSpec | None:
    why = "needed with snowflakeAccountName"
    account = reader.text(
        "snowflakeAccountName", "myaccount", check=lambda v: _identifier_problem(v, "account")
    )
    organization = reader.text(
        "snowflakeOrganizationName",
        "myorg",
        required=True,
        check=lambda v: _identifier_problem(v, "organization"),
        why_required=why,
    )
    user = reader.text(
        "snowflakeUser", "CMK_ADMIN", required=True, check=_user_problem, why_required=why
    )
    passphrase = _secret(reader, "snowflakePrivateKeyPassphrase", None)
    private_key = _secret(reader, "snowflakePrivateKey", passphrase)
    phase = SnowflakePhase(
        reader.choice(
            "snowflakePhase", tuple(p.value for p in SnowflakePhase), SnowflakePhase.REGISTER
        )
    )
    privatelink = reader.boolean("snowflakePrivateLink", False)
    if phase != SnowflakePhase.REGISTER and principal is None:
        reader.fail(
            "snowflakeServicePrincipalObjectId",
            f"is required with snowflakePhase {phase.value}: Snowflake can only verify or "
            "activate after the customer consented and granted its service principal on the key",
            "pulumi config set snowflakeServicePrincipalObjectId <object id the customer shared>",
        )
    if tenant_id is None:
        tenant_id = reader.text(
            "snowflakeCustomerTenantId",
            "<tenant guid>",
            required=True,
            check=names.guid_problem,
            why_required="SYSTEM$GET_CMK_CONFIG takes the tenant of the customer's vault",
        )
    if not (account and organization and user and tenant_id):
        return None
    return SnowflakeSpec(
        organization.upper(),
        account.upper(),
        user,
        private_key,
        passphrase,
        phase,
        privatelink,
        tenant_id.lower(),
    )


def _secret(reader: ConfigReader, key: str, passphrase: str | None) -> str | None:
    """A secret value; a plain one is refused (and never echoed). PEM keys must load."""
    value = reader.text(key, "<set with --secret>")
    if value is None:
        return None
    if not reader.is_secret(key):
        reader.fail(
            key,
            "is stored in plain text; a Snowflake credential must be a Pulumi secret",
            f"pulumi config rm {key} && pulumi config set --secret {key} < <file>",
        )
        return None
    if key == "snowflakePrivateKey" and (problem := _private_key_problem(value, passphrase)):
        reader.fail(key, problem, f"pulumi config set --secret {key} < rsa_key.p8")
        return None
    return value


def _private_key_problem(pem: str, passphrase: str | None) -> str | None:
    """Why ``pem`` cannot log in with key-pair authentication, without quoting it."""
    if "\\n" in pem and "\n" not in pem:
        return "has escaped \\n sequences; the provider needs the PEM with real line breaks"
    try:
        key = serialization.load_pem_private_key(
            pem.encode(), passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError) as error:
        shown = "wrong or missing passphrase" if "password" in str(error).lower() else (
            "not a PEM private key")
        return f"cannot be loaded ({shown}); Snowflake key-pair login needs an RSA private key"
    if not isinstance(key, rsa.RSAPrivateKey):
        return "is not an RSA key; Snowflake key-pair authentication uses RSA"
    return None


def _identifier_problem(value: str, what: str) -> str | None:
    if _IDENTIFIER.match(value):
        return None
    return f"{value!r} is not a Snowflake {what} name (a letter, then letters, digits or _)"


def _user_problem(value: str) -> str | None:
    if _USER.match(value):
        return None
    return f"{value!r} is not a Snowflake user name this project accepts (letters, digits, _ . @ -)"
