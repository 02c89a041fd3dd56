"""Every config key the project takes, and when it has an effect: the one table to register in.

A key that does nothing in a stack is as dangerous as a typo: the user believes a setting is
in force that is not (a ``keySize`` in a provider stack, a ``vaultIpRules`` entry on a vault
closed to the public). So each key names the modes it applies in and, where it only matters
together with another setting, what it needs; a key set outside that is reported like an
unknown key. Adding a key means adding one row here (and to ``Pulumi.yaml`` and the README).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from components.config.problems import Problem


class Setup(StrEnum):
    """What a stack builds (``setup``); ``mode`` only splits the cross-tenant CMK set-up."""

    CROSS_TENANT_CMK = "crossTenantCmk"
    CREDENTIAL_STORE = "credentialStore"
    ORGANIZATION_KEY = "organizationKey"


class Mode(StrEnum):
    """Which tenants this stack manages."""

    BOTH = "both"
    CUSTOMER = "customer"
    PROVIDER = "provider"


EVERY_MODE = frozenset(Mode)
CUSTOMER_SIDE = frozenset({Mode.BOTH, Mode.CUSTOMER})
"""The customer tenant's resources exist in these modes (vault, keys, grants)."""
PROVIDER_SIDE = frozenset({Mode.BOTH, Mode.PROVIDER})
"""The provider tenant's resources exist in these modes (app, identity, bindings)."""
CUSTOMER_ONLY = frozenset({Mode.CUSTOMER})
PROVIDER_ONLY = frozenset({Mode.PROVIDER})
BOTH_ONLY = frozenset({Mode.BOTH})

BINDINGS = ("storageAccountName", "sqlServerName", "diskEncryptionSetName")
"""Keys that each bind one provider resource to a customer key."""


@dataclass(frozen=True)
class Needs:
    """The other setting a key only has an effect with: any of ``keys`` set, or equal to
    ``value`` (case-insensitive) when one is given; ``unset_matches`` when the default is it."""

    keys: tuple[str, ...]
    value: str | None = None
    unset_matches: bool = False

    def met(self, raw: Mapping[str, str]) -> bool:
        for key in self.keys:
            given = raw.get(key, "").strip()
            # The CLI passes defaults to every stack: only another value was set by the user.
            if self.value is None and given and given != default_of(key):
                return True
            if self.value is not None and (
                given.lower() == self.value.lower() or (not given and self.unset_matches)
            ):
                return True
        return False

    def fix(self) -> str:
        if self.value is not None:
            return f"pulumi config set {self.keys[0]} {self.value}"
        return "set " + " or ".join(self.keys)

    def describe(self) -> str:
        if self.value is not None:
            return f"{self.keys[0]} is {self.value}"
        return " or ".join(self.keys) + (" is set" if len(self.keys) == 1 else ", one of them set")


@dataclass(frozen=True)
class Scope:
    """Where one key has an effect."""

    modes: frozenset[Mode]
    needs: Needs | None = None
    default: str = ""
    """The value the Pulumi CLI passes when the stack leaves the key out (``Pulumi.yaml``
    default, as a string): every key has one, since the CLI requires keys without."""


def _set(*keys: str) -> Needs:
    return Needs(keys)


ANY_BINDING = _set(*BINDINGS)
SNOWFLAKE_ACCOUNT = _set("snowflakeAccountName")
ANY_CONSUMER = _set(*BINDINGS, "snowflakeAccountName")
"""Anything that consumes a customer key: a binding or a Snowflake registration."""
PUBLIC_FIREWALL = Needs(("vaultPublicNetworkAccess",), "Enabled", unset_matches=True)

KEYS: Mapping[str, Scope] = {
    # every stack
    "mode": Scope(EVERY_MODE, default="both"),
    "services": Scope(EVERY_MODE, default="[]"),
    "providerAppClientId": Scope(EVERY_MODE),
    "azureEnvironment": Scope(EVERY_MODE, default="public"),
    # customer tenant: vault and keys
    "protectKeyMaterial": Scope(CUSTOMER_SIDE, default="true"),
    "customerTenantId": Scope(CUSTOMER_SIDE),
    "customerSubscriptionId": Scope(CUSTOMER_SIDE),
    "customerLocation": Scope(CUSTOMER_SIDE),
    "customerResourceGroup": Scope(CUSTOMER_SIDE),
    "customerResourceGroupExisting": Scope(CUSTOMER_SIDE, default="false"),
    "vaultName": Scope(CUSTOMER_SIDE),
    "vaultExisting": Scope(CUSTOMER_SIDE, default="false"),
    "keyExisting": Scope(CUSTOMER_SIDE, default="[]"),
    "vaultSku": Scope(CUSTOMER_SIDE, default="standard"),
    "vaultRetentionDays": Scope(CUSTOMER_SIDE, default="90"),
    "vaultPermissionModel": Scope(CUSTOMER_SIDE, default="rbac"),
    "vaultPublicNetworkAccess": Scope(CUSTOMER_SIDE, default="Enabled"),
    # The SDK's VaultProperties.publicNetworkAccess: "disabled ... will override the set
    # firewall rules, meaning that even if the firewall rules are present we will not honor" them.
    "vaultIpRules": Scope(CUSTOMER_SIDE, PUBLIC_FIREWALL, default="[]"),
    "vaultSubnetIds": Scope(CUSTOMER_SIDE, PUBLIC_FIREWALL, default="[]"),
    "vaultIpRuleWidestPrefix": Scope(CUSTOMER_SIDE, _set("vaultIpRules"), default="16"),
    "keyName": Scope(CUSTOMER_SIDE, default="cmk"),
    "storageKeyName": Scope(CUSTOMER_SIDE),
    "sqlKeyName": Scope(CUSTOMER_SIDE),
    "diskKeyName": Scope(CUSTOMER_SIDE),
    "snowflakeKeyName": Scope(CUSTOMER_SIDE),
    "keyType": Scope(CUSTOMER_SIDE, default="RSA"),
    "keySize": Scope(CUSTOMER_SIDE, default="2048"),
    "keyRotateAfterDays": Scope(CUSTOMER_SIDE, default="180"),
    "keyNotifyBeforeExpiryDays": Scope(CUSTOMER_SIDE, default="30"),
    "keyExpiryDays": Scope(CUSTOMER_SIDE, default="730"),
    "keyExpiresOn": Scope(CUSTOMER_SIDE),
    "allowKeySizeBeyondPrerequisite": Scope(CUSTOMER_SIDE, _set("keySize"), default="false"),
    "providerStack": Scope(CUSTOMER_ONLY),
    # provider tenant: app, identity, bindings
    "protectProviderResources": Scope(PROVIDER_SIDE, default="true"),
    "providerTenantId": Scope(PROVIDER_SIDE),
    "providerSubscriptionId": Scope(PROVIDER_SIDE),
    "providerLocation": Scope(PROVIDER_SIDE),
    "providerResourceGroup": Scope(PROVIDER_SIDE),
    "providerResourceGroupExisting": Scope(PROVIDER_SIDE, default="false"),
    "providerAppDisplayName": Scope(PROVIDER_SIDE, default="dedicated-cmk-encryption"),
    "identityName": Scope(PROVIDER_SIDE, default="id-dedicated-cmk"),
    "appFederatedCredentialsElsewhere": Scope(
        PROVIDER_SIDE, _set("providerAppClientId"), default="0"
    ),
    "keyVersionPolicy": Scope(PROVIDER_SIDE, ANY_BINDING, default="latest"),
    "storageAccountName": Scope(PROVIDER_SIDE),
    "storageSku": Scope(PROVIDER_SIDE, _set("storageAccountName"), default="Standard_ZRS"),
    "sqlServerName": Scope(PROVIDER_SIDE),
    "sqlAdminLogin": Scope(PROVIDER_SIDE, _set("sqlServerName")),
    "sqlAdminObjectId": Scope(PROVIDER_SIDE, _set("sqlServerName")),
    "sqlAdminPrincipalType": Scope(PROVIDER_SIDE, _set("sqlServerName"), default="Group"),
    "diskEncryptionSetName": Scope(PROVIDER_SIDE),
    "diskEncryptionType": Scope(
        PROVIDER_SIDE, _set("diskEncryptionSetName"), default="EncryptionAtRestWithCustomerKey"
    ),
    # provider stack of a split pair: what the customer shares
    "storageKeyUri": Scope(PROVIDER_ONLY, _set("storageAccountName")),
    "sqlKeyUri": Scope(PROVIDER_ONLY, _set("sqlServerName")),
    "diskKeyUri": Scope(PROVIDER_ONLY, _set("diskEncryptionSetName")),
    "snowflakeKeyUri": Scope(PROVIDER_ONLY, SNOWFLAKE_ACCOUNT),
    "customerStack": Scope(PROVIDER_ONLY, ANY_CONSUMER),
    "vaultLocation": Scope(PROVIDER_ONLY, _set("diskEncryptionSetName")),
    # both tenants in one stack
    "rolePropagationSeconds": Scope(BOTH_ONLY, ANY_CONSUMER, default="120"),
    # Snowflake Tri-Secret Secure (components/snowflake_config.py): the account registers the
    # key on the provider side; Snowflake's principal is granted on the customer side and
    # gates verify/activate on the provider side, so it belongs to every mode.
    "snowflakeAccountName": Scope(PROVIDER_SIDE),
    "snowflakeOrganizationName": Scope(PROVIDER_SIDE, SNOWFLAKE_ACCOUNT),
    "snowflakeUser": Scope(PROVIDER_SIDE, SNOWFLAKE_ACCOUNT),
    "snowflakePrivateKey": Scope(PROVIDER_SIDE, SNOWFLAKE_ACCOUNT),
    "snowflakePrivateKeyPassphrase": Scope(PROVIDER_SIDE, _set("snowflakePrivateKey")),
    "snowflakePhase": Scope(PROVIDER_SIDE, SNOWFLAKE_ACCOUNT, default="register"),
    "snowflakePrivateLink": Scope(PROVIDER_SIDE, SNOWFLAKE_ACCOUNT, default="false"),
    "snowflakeCustomerTenantId": Scope(PROVIDER_ONLY, SNOWFLAKE_ACCOUNT),
    "snowflakeServicePrincipalObjectId": Scope(EVERY_MODE),
}
"""Key -> where it has an effect. Keys not listed here are unknown (typos)."""

_VAULT_KEYS = """
    azureEnvironment protectKeyMaterial customerTenantId customerSubscriptionId customerLocation
    customerResourceGroup customerResourceGroupExisting vaultName vaultSku vaultRetentionDays
    vaultPermissionModel vaultPublicNetworkAccess vaultIpRules vaultSubnetIds
    vaultIpRuleWidestPrefix
"""
OTHER_SETUP_KEYS: Mapping[Setup, frozenset[str]] = {
    Setup.CREDENTIAL_STORE: frozenset((_VAULT_KEYS + """
        appDisplayName appCertificateFile credentialSecrets credentialStoreCertificateFile
    """).split()),
    Setup.ORGANIZATION_KEY: frozenset((_VAULT_KEYS + """
        vaultExisting keyExisting keyName keyType keySize keyRotateAfterDays
        keyNotifyBeforeExpiryDays keyExpiryDays keyExpiresOn organizationKeyAccess
        providerAppClientId appDisplayName appCertificateFile appSecretEndDate
    """).split()),
}
"""Keys the credential-store and organisation-key set-ups read (``components.config.setups``);
the cross-tenant CMK set-up reads ``KEYS``. Shared keys keep the needs ``KEYS`` gives them."""

KNOWN_KEYS: frozenset[str] = frozenset(KEYS).union({"setup"}, *OTHER_SETUP_KEYS.values())

OTHER_DEFAULTS: Mapping[str, str] = {
    "setup": "crossTenantCmk",
    "credentialStoreCertificateFile": "my-certificate.pem",
    "organizationKeyAccess": "consent",
}
"""Non-empty ``Pulumi.yaml`` defaults of the keys outside ``KEYS`` (the rest default to "")."""


def default_of(key: str) -> str:
    """What the Pulumi CLI passes for ``key`` when a stack leaves it out: its schema default.

    Every stack receives every key, so a value equal to the default may not have been set by
    the user and is never reported as misplaced."""
    return KEYS[key].default if key in KEYS else OTHER_DEFAULTS.get(key, "")

_SIDE = {
    CUSTOMER_SIDE: "a customer-side key (the vault and keys exist only in mode both or customer)",
    PROVIDER_SIDE: "a provider-side key (the app, identity and bindings exist only in mode "
    "both or provider)",
    CUSTOMER_ONLY: "a key of split customer stacks only (mode customer)",
    PROVIDER_ONLY: "a key of split provider stacks only (mode provider)",
    BOTH_ONLY: "a key of one-stack set-ups only (mode both)",
}


def modes_taking(key: str) -> str:
    """The modes ``key`` applies in, for messages and documentation."""
    return ", ".join(m.value for m in Mode if m in KEYS[key].modes)


def scope_problems(raw: Mapping[str, str], mode: Mode) -> Iterator[Problem]:
    """A problem for each known key set in ``raw`` that has no effect in ``mode``."""
    for key in sorted(raw):
        scope = KEYS.get(key)
        if scope is None or not raw[key].strip() or raw[key] == default_of(key):
            continue
        if mode not in scope.modes:
            what = _SIDE.get(scope.modes, f"a key of mode {modes_taking(key)}")
            yield Problem(
                key,
                f"has no effect in this stack (mode {mode.value}): it is {what}",
                f"pulumi config rm {key}",
            )
        elif scope.needs is not None and not scope.needs.met(raw):
            yield Problem(
                key,
                f"has no effect unless {scope.needs.describe()}",
                f"pulumi config rm {key} (or {scope.needs.fix()})",
            )


def _keys_of(setup: Setup) -> frozenset[str]:
    return frozenset(KEYS) if setup is Setup.CROSS_TENANT_CMK else OTHER_SETUP_KEYS[setup]


def setup_problems(raw: Mapping[str, str], setup: Setup) -> Iterator[Problem]:
    """A problem for each key set in ``raw`` that ``setup`` does not read, naming the set-ups
    that do; for the other set-ups also the shared keys whose needed setting is missing."""
    mine = _keys_of(setup)
    for key in sorted(raw):
        if (key == "setup" or key not in KNOWN_KEYS or not raw[key].strip()
                or raw[key] == default_of(key)):
            continue
        if key not in mine:
            owners = ", ".join(s.value for s in Setup if key in _keys_of(s))
            yield Problem(key, f"has no effect in this stack (setup {setup.value}): it is a key "
                               f"of setup {owners}", f"pulumi config rm {key}")
        elif setup is not Setup.CROSS_TENANT_CMK and (scope := KEYS.get(key)) and (
                scope.needs is not None and not scope.needs.met(raw)):
            yield Problem(key, f"has no effect unless {scope.needs.describe()}",
                          f"pulumi config rm {key} (or {scope.needs.fix()})")
