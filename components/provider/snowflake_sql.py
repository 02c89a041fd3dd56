"""The exact SQL of Tri-Secret Secure self-registration, built only from validated values.

Function names, arguments and return shapes follow Snowflake's reference pages (quoted in
docs/snowflake-properties.md). Every argument is re-checked here, whatever checked it
before: a key URI can arrive from another stack's outputs, which config validation never
saw. Literals are then quoted for Snowflake, where a backslash also escapes, so a value
that is not plainly safe raises instead of reaching SQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.config.key_uri import KeyUri

_SAFE_LITERAL = re.compile(r"[A-Za-z0-9.:/_-]*")
"""Matched with ``fullmatch``: ``$`` would also match before a final newline."""
_CONFIG_RESULT = re.compile(
    r"Consent url is:\s*(?P<url>https://login\.microsoftonline\.com/\S+?)\s+and\s+"
    r"Snowflake Service Principal name is:\s*(?P<name>[^\s\"']+)",
    re.IGNORECASE,
)

REGISTER = "SYSTEM$REGISTER_CMK_INFO"
GET_CONFIG = "SYSTEM$GET_CMK_CONFIG"
VERIFY = "SYSTEM$VERIFY_CMK_INFO"
ACTIVATE = "SYSTEM$ACTIVATE_CMK_INFO"
GET_INFO = "SYSTEM$GET_CMK_INFO"

INFO_COLUMN = "CMK_INFO"
CONFIG_COLUMN = "CMK_CONFIG"
VERIFY_COLUMN = "CMK_VERIFICATION"


class UnsafeSqlValueError(ValueError):
    """A value that would not be a plain SQL string literal; nothing is sent."""


def literal(value: str) -> str:
    """``value`` as a single-quoted Snowflake literal; refuses anything but [A-Za-z0-9.:/_-]."""
    if not _SAFE_LITERAL.fullmatch(value):
        raise UnsafeSqlValueError(
            f"refusing to put {value!r} into SQL: only letters, digits and . : / _ - are allowed"
        )
    return "'" + value.replace("'", "''") + "'"


def register_statement(key: KeyUri, privatelink: bool) -> str:
    """``SYSTEM$REGISTER_CMK_INFO('<vault_uri>', '<key_name>'[, 'TRUE'])`` for an Azure key.

    The key is registered by name, without a version: Snowflake follows the key's versions
    itself. The third argument is passed only to turn private connectivity on; Snowflake
    reads an omitted one as FALSE.
    """
    if key.is_managed_hsm:
        raise UnsafeSqlValueError(
            f"{key} is a managed HSM key; Snowflake registers Azure Key Vault keys"
        )
    args = [literal(key.vault_uri), literal(key.name)]
    if privatelink:
        args.append(literal("TRUE"))
    return f"SELECT {REGISTER}({', '.join(args)})"


def config_statement(tenant_id: str) -> str:
    """``SYSTEM$GET_CMK_CONFIG('<tenant_id>')``: consent URL and Snowflake's principal name."""
    try:
        canonical = str(uuid.UUID(tenant_id))
    except ValueError:
        raise UnsafeSqlValueError(f"refusing tenant id {tenant_id!r}: not a GUID") from None
    if canonical != tenant_id.lower():
        raise UnsafeSqlValueError(f"refusing tenant id {tenant_id!r}: not a canonical GUID")
    return f"SELECT {GET_CONFIG}({literal(canonical)}) AS {CONFIG_COLUMN}"


def verify_statement() -> str:
    return f"SELECT {VERIFY}() AS {VERIFY_COLUMN}"


def activate_statement() -> str:
    """Activation without an option: re-keys the account onto the registered key."""
    return f"SELECT {ACTIVATE}()"


def info_statement() -> str:
    return f"SELECT {GET_INFO}() AS {INFO_COLUMN}"


def keep_statement(what: str) -> str:
    """The ``revert`` of every Execute: a read that changes nothing.

    Destroying or replacing an Execute runs its revert. Undoing these steps (deregister,
    deactivate) re-keys or cuts off the account, so that is never automatic: the revert only
    reports what was kept, and the operator undoes it deliberately (see README).
    """
    return f"SELECT {literal(what)} AS KEPT, {GET_INFO}() AS {INFO_COLUMN}"


@dataclass(frozen=True)
class CmkConfig:
    """What SYSTEM$GET_CMK_CONFIG returns on Azure, split for the customer."""

    consent_url: str
    service_principal_name: str


def first_value(rows: Sequence[Mapping[str, str]] | None, column: str) -> str:
    """The ``column`` value of the first row an Execute query returned, or ''."""
    if not rows:
        return ""
    row = rows[0]
    for name, value in row.items():
        if name.upper() == column:
            return value
    return ""


def parse_cmk_config(text: str) -> CmkConfig | None:
    """``Consent url is: <url> and Snowflake Service Principal name is: <name>``, or None."""
    match = _CONFIG_RESULT.search(text)
    if match is None:
        return None
    return CmkConfig(match["url"], match["name"])
