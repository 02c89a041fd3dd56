"""The stack's configuration: read once, validated completely, frozen.

Components never read config; they get these dataclasses. Every problem is collected
and raised together as ``ConfigError`` before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from components.config import azure_names as names
from components.config import firewall_rules as firewall
from components.config.key_uri import KeyUri, key_uri_problem, parse_key_uri
from components.config.keys import KNOWN_KEYS, Mode, Setup, scope_problems, setup_problems
from components.config.problems import PROJECT, ConfigError
from components.config.reader import ConfigReader
from components.config.snowflake import (
    SnowflakeSettings,
    SnowflakeSpec,
    read_snowflake,
    snowflake_configured,
)
from policies.key_compatibility import KEY_TYPES as PACK_KEY_TYPES
from policies.key_compatibility import PREREQUISITE_KEY_SIZES, accepted_by_all
from policies.key_compatibility import SERVICE_KEY_SIZES as KEY_SIZES_BY_SERVICE

if TYPE_CHECKING:
    from components.config.setups import CredentialStoreConfig, OrganizationKeyConfig

__all__ = ["KNOWN_KEYS", "Mode", "Service", "StackConfig", "from_pulumi", "load"]


class Service(StrEnum):
    """Provider services that can be encrypted with the customer's key."""

    STORAGE = "storage"
    SQL = "sql"
    DISK = "disk"
    SNOWFLAKE = "snowflake"


# RSA sizes each service accepts: the policy pack's table, so config and pack never disagree.
SERVICE_KEY_SIZES: Mapping[Service, frozenset[int]] = {
    service: KEY_SIZES_BY_SERVICE[service.value] for service in Service
}
KEY_TYPES = PACK_KEY_TYPES
DISK_ENCRYPTION_TYPES = (
    "EncryptionAtRestWithCustomerKey",
    "EncryptionAtRestWithPlatformAndCustomerKeys",
)
MAX_FEDERATED_CREDENTIALS = 20
"""Entra ID allows at most 20 federated identity credentials on one application."""

_STACK_NAME = re.compile(r"^[\w.-]+/[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class TenantTarget:
    """Where one side's resources live; credentials come from ARM_* variables, OIDC or ESC."""

    tenant_id: str
    subscription_id: str
    location: str
    """ARM short region name, e.g. ``westeurope``."""
    resource_group: str
    resource_group_existing: bool
    """True: use this resource group as it is; False: create (and own) it."""


@dataclass(frozen=True)
class KeySpec:
    """One key-encryption key in the customer's vault."""

    name: str
    kty: str
    """RSA or RSA-HSM (the latter needs the premium vault SKU)."""
    size: int
    rotate_after_days: int
    """Key Vault creates a new version this many days after the current one."""
    notify_before_expiry_days: int
    expiry_days: int
    """Lifetime given to each new version by the rotation policy."""
    expires_on: date | None
    """Expiry of the first version (the key's ``exp`` attribute); None leaves it open."""
    services: tuple[Service, ...]
    """Services encrypted with this key, used to check sizes against each service."""


@dataclass(frozen=True)
class VaultSpec:
    """The customer's Key Vault."""

    name: str
    sku: str
    retention_days: int
    """Soft-delete retention (7-90). Deleted keys stay recoverable this long."""
    rbac: bool
    """True: Azure RBAC grants; False: access policies (the explicit alternative)."""
    public_network_access: str
    ip_rules: tuple[str, ...]
    subnet_ids: tuple[str, ...]


@dataclass(frozen=True)
class CustomerConfig:
    """Everything the customer-tenant side needs."""

    target: TenantTarget
    vault: VaultSpec
    keys: tuple[KeySpec, ...]
    service_keys: Mapping[Service, str]
    """Which key (by name) encrypts each service in use."""
    protect: bool
    """Pulumi ``protect`` on vault, keys and locks, so destroy or rename cannot remove them."""
    provider_app_client_id: str | None
    """The provider's multitenant app; None in ``both`` mode when this stack creates it."""
    provider_stack: str | None
    """Stack reference (org/project/stack) exporting ``providerAppClientId``."""
    snowflake_principal_object_id: str | None = None
    """Snowflake's service principal here (after the consent click): granted on Snowflake keys."""


STORAGE_SKUS = (
    "Standard_ZRS",
    "Standard_LRS",
    "Standard_GRS",
    "Standard_GZRS",
    "Standard_RAGRS",
    "Standard_RAGZRS",
)
"""General-purpose v2 redundancy options (``storage.SkuName``); zone-redundant by default."""
SQL_ADMIN_TYPES = ("Group", "User", "Application")


@dataclass(frozen=True)
class StorageSpec:
    """A general-purpose v2 storage account encrypted with the customer's key."""

    account_name: str
    sku: str


@dataclass(frozen=True)
class SqlSpec:
    """A logical SQL server whose TDE protector is the customer's key."""

    server_name: str
    admin_login: str
    """Display name of the Entra ID admin (user, group or application)."""
    admin_object_id: str
    admin_principal_type: str
    """Group, User or Application: what ``admin_object_id`` names."""


@dataclass(frozen=True)
class DiskSpec:
    """A disk encryption set; disks and snapshots that name it are encrypted with the key."""

    encryption_set_name: str
    encryption_type: str
    """Customer key only, or double encryption with a platform key underneath."""


@dataclass(frozen=True)
class ProviderConfig:
    """Everything the provider-tenant side needs."""

    target: TenantTarget
    app_client_id: str | None
    """An existing multitenant app (one app usually serves many environments); None creates one."""
    app_display_name: str
    identity_name: str
    follow_latest_key_version: bool
    """True: bindings follow the key's newest version; False: they stay on the shared version."""
    storage: StorageSpec | None
    sql: SqlSpec | None
    disk: DiskSpec | None
    key_uris: Mapping[Service, KeyUri]
    """Provider-only mode: the customer's key URIs, per service."""
    customer_stack: str | None
    """Provider-only mode: stack reference exporting ``<service>KeyUri``."""
    vault_location: str | None
    """Region of the customer's vault, for the disk same-region check."""
    role_propagation_seconds: int
    """Both mode: pause between the customer's grants and the bindings (0: none)."""
    protect: bool
    """Pulumi ``protect`` on everything whose loss loses data or the path to the key: the
    resource group this stack creates, identity, federated credential, storage account, SQL
    server, server key, protector and disk encryption set."""
    snowflake: SnowflakeSpec | None = None
    """The Snowflake account that registers the key for Tri-Secret Secure; None: no Snowflake."""

    @property
    def bound_services(self) -> tuple[Service, ...]:
        """Services this stack binds to a customer key, in a stable order."""
        return _bound(self.storage, self.sql, self.disk, self.snowflake)


def _bound(
    storage: StorageSpec | None,
    sql: SqlSpec | None,
    disk: DiskSpec | None,
    snowflake: SnowflakeSpec | None = None,
) -> tuple[Service, ...]:
    configured = (
        (Service.STORAGE, storage),
        (Service.SQL, sql),
        (Service.DISK, disk),
        (Service.SNOWFLAKE, snowflake),
    )
    return tuple(service for service, spec in configured if spec is not None)


@dataclass(frozen=True)
class StackConfig:
    mode: Mode
    services: tuple[Service, ...]
    customer: CustomerConfig | None
    provider: ProviderConfig | None
    credential_store: CredentialStoreConfig | None = None
    """``setup: credentialStore``: the secrets vault and its reader app."""
    organization_key: OrganizationKeyConfig | None = None
    """``setup: organizationKey``: the organisation's key-encryption key."""


# --- reading ---------------------------------------------------------------------------


def load(raw: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> StackConfig:
    """Validate ``raw`` (keys without the project prefix, values as Pulumi stores them)."""
    reader = ConfigReader(raw, secret_keys)
    setup = Setup(reader.choice("setup", tuple(s.value for s in Setup),
                                Setup.CROSS_TENANT_CMK.value))
    if reader.problems:
        # Which keys a stack takes depends on its set-up: report the set-up alone.
        raise ConfigError(reader.problems)
    if setup is not Setup.CROSS_TENANT_CMK:
        from components.config.setups import load_setup  # noqa: PLC0415 - it builds on this module

        return load_setup(reader, setup, raw)
    mode = Mode(reader.choice("mode", tuple(m.value for m in Mode), Mode.BOTH.value))
    if reader.problems:
        # Without a valid mode, which keys are required is unknowable: report the mode alone.
        raise ConfigError(reader.problems)
    # Keys with no effect in this mode are reported once, then read as unset.
    misplaced = [*scope_problems(raw, mode), *setup_problems(raw, setup)]
    reader.problems.extend(misplaced)
    reader.drop({problem.key for problem in misplaced})
    services = _services(reader)
    app_client_id = reader.text(
        "providerAppClientId", "<app client id guid>", check=names.guid_problem
    )
    customer = _customer(reader, mode, services, app_client_id) if mode != Mode.PROVIDER else None
    snowflake = read_snowflake(
        reader,
        provider_side=mode != Mode.CUSTOMER,
        tenant_id=customer.target.tenant_id if customer else None,
    )
    if customer is not None:
        customer = _with_snowflake_grant(reader, customer, snowflake)
    provider = (
        _provider(reader, mode, services, customer, app_client_id, snowflake)
        if mode != Mode.CUSTOMER
        else None
    )
    reader.unknown_keys(KNOWN_KEYS)
    if reader.problems:
        raise ConfigError(reader.problems)
    return StackConfig(mode=mode, services=services, customer=customer, provider=provider)


def from_pulumi() -> StackConfig:
    """Read this project's keys from the running Pulumi program, once."""
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415 - pure loader stays runtime-free

    prefix = f"{PROJECT}:"
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    raw = {k[len(prefix) :]: str(v) for k, v in everything.items() if k.startswith(prefix)}
    secret_env = set(runtime_config.get_config_secret_keys_env())
    secret = frozenset(
        k for k in raw if runtime_config.is_config_secret(prefix + k) or prefix + k in secret_env
    )
    return load(raw, secret)


def _services(reader: ConfigReader) -> tuple[Service, ...]:
    allowed = tuple(s.value for s in Service)

    def check(value: str) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    # An empty list is the schema default the Pulumi CLI passes when the key is left out.
    listed = reader.strings("services", "storage", check)
    if listed:
        return tuple(Service(v) for v in listed)
    # Without a Snowflake account nothing consumes a Snowflake key: leave it out by default.
    return tuple(s for s in Service if s != Service.SNOWFLAKE or snowflake_configured(reader))


def _target(reader: ConfigReader, side: str) -> TenantTarget | None:
    why = f"the {side} tenant"
    tenant = reader.text(
        f"{side}TenantId",
        "<tenant guid>",
        required=True,
        check=names.guid_problem,
        why_required=why,
    )
    subscription = reader.text(
        f"{side}SubscriptionId",
        "<subscription guid>",
        required=True,
        check=names.guid_problem,
        why_required=why,
    )
    location = reader.text(
        f"{side}Location", "westeurope", required=True, check=names.region_problem, why_required=why
    )
    group = reader.text(
        f"{side}ResourceGroup",
        f"rg-{side}-cmk",
        required=True,
        check=names.resource_group_problem,
        why_required=why,
    )
    existing = reader.boolean(f"{side}ResourceGroupExisting", False)
    if tenant is None or subscription is None or location is None or group is None:
        return None
    return TenantTarget(
        tenant.lower(), subscription.lower(), names.normalise_region(location), group, existing
    )


def _vault(reader: ConfigReader) -> VaultSpec | None:
    name = reader.text("vaultName", "kv-contoso-cmk", required=True, check=names.vault_name_problem)
    sku = reader.choice("vaultSku", ("standard", "premium"), "standard")
    retention = reader.integer("vaultRetentionDays", 90, 7, 90)
    model = reader.choice("vaultPermissionModel", ("rbac", "accessPolicy"), "rbac")
    public = reader.choice("vaultPublicNetworkAccess", ("Enabled", "Disabled"), "Enabled")
    ip_rules = reader.strings("vaultIpRules", "203.0.113.0/24", firewall.entry_problem)
    widest = reader.integer("vaultIpRuleWidestPrefix", firewall.WIDEST_PREFIX, 8, 32)
    for index, problem in firewall.allow_list_problems(ip_rules, widest):
        reader.fail(f"vaultIpRules[{index}]", problem,
                    f"pulumi config set --path 'vaultIpRules[{index}]' <narrower public range>")
    subnets = reader.strings(
        "vaultSubnetIds", "/subscriptions/.../subnets/kv", names.subnet_id_problem
    )
    if name is None:
        return None
    return VaultSpec(name.lower(), sku, retention, model == "rbac", public, ip_rules, subnets)


def _customer(
    reader: ConfigReader, mode: Mode, services: tuple[Service, ...], client_id: str | None
) -> CustomerConfig | None:
    target = _target(reader, "customer")
    vault = _vault(reader)
    service_keys = _service_keys(reader, services)
    keys = _keys(reader, service_keys, vault)
    protect = reader.boolean("protectKeyMaterial", True)
    provider_stack = reader.text(
        "providerStack", "acme/dedicated-cmk/provider", check=_stack_problem
    )
    if mode == Mode.CUSTOMER and not (
        reader.present("providerAppClientId") or reader.present("providerStack")
    ):
        reader.fail(
            "providerAppClientId",
            "is required in customer mode (or set providerStack): the grant is made to the "
            "provider's multitenant app",
            "pulumi config set providerAppClientId <guid the provider shared>",
        )
    if client_id and provider_stack:
        reader.fail(
            "providerStack",
            "is set together with providerAppClientId; set only one",
            "pulumi config rm providerStack",
        )
    if target is None or vault is None or keys is None:
        return None
    if any(k.kty == "RSA-HSM" for k in keys) and vault.sku != "premium":
        reader.fail(
            "vaultSku", "'standard' cannot hold RSA-HSM keys", "pulumi config set vaultSku premium"
        )
    return CustomerConfig(
        target,
        vault,
        keys,
        service_keys,
        protect,
        client_id.lower() if client_id else None,
        provider_stack,
    )


def _service_keys(reader: ConfigReader, services: tuple[Service, ...]) -> dict[Service, str]:
    def check(value: str) -> str | None:
        return names.object_name_problem(value, "key")

    shared = reader.text("keyName", "cmk", default="cmk", check=check) or "cmk"
    chosen: dict[Service, str] = {}
    for service in Service:
        own = reader.text(f"{service.value}KeyName", f"cmk-{service.value}", check=check)
        if own and service not in services:
            reader.fail(
                f"{service.value}KeyName",
                f"is set but {service.value!r} is not in services",
                f"pulumi config rm {service.value}KeyName",
            )
        if service in services:
            chosen[service] = own or shared
    return chosen


def key_template(reader: ConfigReader) -> KeySpec:
    """Type, size, rotation and expiry every key shares; name and services are left empty."""
    kty = reader.choice("keyType", KEY_TYPES, "RSA")
    size = reader.integer("keySize", 2048, 2048, 4096)
    if size not in (2048, 3072, 4096):
        reader.fail(
            "keySize",
            f"{size} is not an RSA size Key Vault creates (2048, 3072, 4096)",
            "pulumi config set keySize 2048",
        )
    rotate = reader.integer("keyRotateAfterDays", 180, 7, 3650)
    notify = reader.integer("keyNotifyBeforeExpiryDays", 30, 7, 3650)
    expiry = reader.integer("keyExpiryDays", 730, 28, 3650)
    if rotate > expiry - 7:
        reader.fail(
            "keyRotateAfterDays",
            f"{rotate} days leaves less than 7 days before the {expiry}-day expiry; "
            "a version would expire before its successor exists",
            f"pulumi config set keyRotateAfterDays {max(7, expiry - 30)}",
        )
    if notify >= expiry:
        reader.fail(
            "keyNotifyBeforeExpiryDays",
            f"{notify} is not shorter than keyExpiryDays {expiry}",
            "pulumi config set keyNotifyBeforeExpiryDays 30",
        )
    expires_on = reader.text("keyExpiresOn", "2028-12-31", check=_date_problem)
    when = _expiry_date(expires_on) if expires_on else None
    return KeySpec("", kty, size, rotate, notify, expiry, when, ())


def _keys(
    reader: ConfigReader, service_keys: Mapping[Service, str], vault: VaultSpec | None
) -> tuple[KeySpec, ...] | None:
    template = key_template(reader)
    size = template.size
    by_key: dict[str, list[Service]] = {}
    for service, key_name in service_keys.items():
        by_key.setdefault(key_name, []).append(service)
    if size in (2048, 3072, 4096):
        _key_size_compatible(reader, size, by_key)
    if vault is None:
        return None
    return tuple(
        replace(template, name=name, services=tuple(users)) for name, users in by_key.items()
    )


# --- key compatibility: one table (policies/key_compatibility.py) for config and pack ----


def _key_size_compatible(
    reader: ConfigReader, size: int, by_key: Mapping[str, list[Service]]
) -> None:
    """Refuse a size the default pack refuses, or one a consumer of some key rejects."""
    beyond = reader.boolean("allowKeySizeBeyondPrerequisite", False)
    if size not in PREREQUISITE_KEY_SIZES and not beyond:
        reader.fail(
            "keySize",
            f"{size} is not RSA {'/'.join(map(str, sorted(PREREQUISITE_KEY_SIZES)))}, the CMK "
            "prerequisite and the policy pack's default (key-type-and-size allowedKeySizes)",
            "pulumi config set keySize 2048 (or, if your pack's allowedKeySizes includes "
            f"{size}, pulumi config set allowKeySizeBeyondPrerequisite true)",
        )
    for key_name, users in by_key.items():
        rejecting = [s for s in users if size not in SERVICE_KEY_SIZES[s]]
        if not rejecting:
            continue
        common = accepted_by_all(tuple(s.value for s in users))
        accepted = ", ".join(
            f"{s.value} {sorted(SERVICE_KEY_SIZES[s])}" for s in rejecting
        )
        reader.fail(
            "keySize",
            f"{size}-bit key {key_name!r} is shared by "
            f"{', '.join(s.value for s in users)}, but {accepted} only",
            f"pulumi config set keySize {common[0]} (a size all of them accept: "
            f"{', '.join(map(str, common))})",
        )


def _with_snowflake_grant(
    reader: ConfigReader, customer: CustomerConfig, snowflake: SnowflakeSettings
) -> CustomerConfig:
    """Grant Snowflake's service principal once its object id is known (after consent)."""
    principal = snowflake.principal_object_id
    if principal and Service.SNOWFLAKE not in customer.service_keys:
        reader.fail(
            "snowflakeServicePrincipalObjectId",
            "is set but 'snowflake' is not in services, so no key is granted to it",
            f"pulumi config set --path 'services[{len(customer.service_keys)}]' snowflake",
        )
    return replace(customer, snowflake_principal_object_id=principal)


def _provider(
    reader: ConfigReader,
    mode: Mode,
    services: tuple[Service, ...],
    customer: CustomerConfig | None,
    existing_app: str | None,
    snowflake: SnowflakeSettings,
) -> ProviderConfig | None:
    target = _target(reader, "provider")
    display = _app_display_name(reader, existing_app)
    identity = reader.text(
        "identityName",
        "id-cmk",
        default="id-dedicated-cmk",
        check=lambda v: names.generic_name_problem(v, "managed identity"),
    )
    _federated_credential_room(reader, existing_app)
    follow = reader.choice("keyVersionPolicy", ("latest", "pinned"), "latest") == "latest"
    storage = _storage(reader)
    sql = _sql(reader)
    disk = _disk(reader)
    bound = _bound(storage, sql, disk, snowflake.account)
    for service in bound:
        if service not in services:
            reader.fail(
                "services",
                f"{service.value!r} is configured but not listed",
                f"pulumi config set --path 'services[{len(services)}]' {service.value}",
            )
    key_uris, customer_stack = _key_sources(reader, mode, bound, follow)
    vault_location = reader.text("vaultLocation", "westeurope", check=names.region_problem)
    if customer:
        vault_location = customer.target.location
    wait = reader.integer("rolePropagationSeconds", 120, 0, 900)
    protect = reader.boolean("protectProviderResources", True)
    if disk and mode == Mode.PROVIDER and vault_location is None and customer_stack is None:
        reader.fail(
            "vaultLocation",
            "is required with a disk encryption set in provider mode unless customerStack "
            "is set (disks need the vault in their region)",
            "pulumi config set vaultLocation <region>",
        )
    vault_region = names.normalise_region(vault_location) if vault_location else None
    if target and disk and vault_region and vault_region != target.location:
        reader.fail(
            "providerLocation",
            f"disk encryption set region {target.location!r} differs "
            f"from the vault region {vault_location!r}; Azure requires the same region",
            f"pulumi config set providerLocation {vault_location}",
        )
    if target is None or identity is None:
        return None
    return ProviderConfig(
        target=target,
        app_client_id=existing_app.lower() if existing_app else None,
        app_display_name=display,
        identity_name=identity,
        follow_latest_key_version=follow,
        storage=storage,
        sql=sql,
        disk=disk,
        key_uris=key_uris,
        customer_stack=customer_stack,
        vault_location=vault_region,
        role_propagation_seconds=wait,
        protect=protect,
        snowflake=snowflake.account,
    )


def _app_display_name(reader: ConfigReader, existing_app: str | None) -> str:
    default = "dedicated-cmk-encryption"
    display = reader.text("providerAppDisplayName", "dedicated-cmk", default=default) or default
    # The CLI passes the schema default when the key is left out: only another name was set.
    if existing_app and reader.text("providerAppDisplayName", "", default=default) != default:
        reader.fail(
            "providerAppDisplayName",
            "is set together with providerAppClientId; an existing app keeps its own name",
            "pulumi config rm providerAppDisplayName",
        )
    return display


def _federated_credential_room(reader: ConfigReader, existing_app: str | None) -> None:
    """Entra refuses a 21st federated credential on an app; say so before anything is created."""
    others = reader.integer("appFederatedCredentialsElsewhere", 0, 0, 1000)
    if others + 1 > MAX_FEDERATED_CREDENTIALS:
        reader.fail(
            "appFederatedCredentialsElsewhere",
            f"{others} credentials already on app {existing_app} plus this stack's one "
            f"would exceed the Entra limit of {MAX_FEDERATED_CREDENTIALS} per application",
            "register another multitenant app for these environments and set "
            "providerAppClientId to its client id",
        )


def _storage(reader: ConfigReader) -> StorageSpec | None:
    name = reader.text("storageAccountName", "stcontosocmk", check=names.storage_account_problem)
    sku = reader.choice("storageSku", STORAGE_SKUS, STORAGE_SKUS[0])
    return StorageSpec(name, sku) if name else None


def _sql(reader: ConfigReader) -> SqlSpec | None:
    server = reader.text("sqlServerName", "sql-contoso-cmk", check=names.sql_server_problem)
    needed = "needed with sqlServerName: the server gets an Entra-only admin"
    login = reader.text(
        "sqlAdminLogin", "sql-admins", required=server is not None, why_required=needed
    )
    object_id = reader.text(
        "sqlAdminObjectId",
        "<group object id>",
        required=server is not None,
        check=names.guid_problem,
        why_required=needed,
    )
    kind = reader.choice("sqlAdminPrincipalType", SQL_ADMIN_TYPES, SQL_ADMIN_TYPES[0])
    if server and login and object_id:
        return SqlSpec(server, login, object_id.lower(), kind)
    return None


def _disk(reader: ConfigReader) -> DiskSpec | None:
    name = reader.text(
        "diskEncryptionSetName",
        "des-contoso-cmk",
        check=lambda v: names.generic_name_problem(v, "disk encryption set"),
    )
    kind = reader.choice("diskEncryptionType", DISK_ENCRYPTION_TYPES, DISK_ENCRYPTION_TYPES[0])
    return DiskSpec(name, kind) if name else None


def key_version_problem(service: Service, key: KeyUri, follow_latest: bool) -> str | None:
    """Why ``key`` cannot encrypt ``service``, or None.

    SQL server keys are named ``<vault>_<key>_<version>`` and disk encryption sets take a
    fully versioned URL even when they follow rotation, so both need the version. Storage
    needs it only when pinned; following the latest version it uses vault and key name.
    """
    if service == Service.SNOWFLAKE and key.is_managed_hsm:
        return f"{key} is a managed HSM key; Snowflake registers Azure Key Vault keys"
    if key.version is not None:
        return None
    if service in (Service.SQL, Service.DISK):
        what = (
            "server keys are named <vault>_<key>_<version>"
            if service == Service.SQL
            else "a disk encryption set takes a versioned key URL even when it rotates"
        )
        return f"{key} has no version; {what}"
    if service == Service.STORAGE and not follow_latest:
        return f"{key} has no version but keyVersionPolicy is pinned"
    return None


def _key_sources(
    reader: ConfigReader, mode: Mode, bound: tuple[Service, ...], follow_latest: bool
) -> tuple[dict[Service, KeyUri], str | None]:
    """Key URIs per service: shared by the customer (config) or read from their stack."""
    uris: dict[Service, KeyUri] = {}
    example = f"https://kv-contoso-cmk.vault.azure.net/keys/cmk/{'0' * 31}1"
    for service in Service:
        key = f"{service.value}KeyUri"
        value = reader.text(key, example, check=key_uri_problem)
        parsed = parse_key_uri(value) if value else None
        if parsed is None:
            continue
        if problem := key_version_problem(service, parsed, follow_latest):
            reader.fail(
                key,
                problem,
                f"pulumi config set {key} https://<vault>.vault.azure.net/keys/<name>/<version>",
            )
        uris[service] = parsed
    stack = reader.text("customerStack", "acme/dedicated-cmk/customer", check=_stack_problem)
    if mode == Mode.PROVIDER and stack is None:
        for service in bound:
            if service not in uris and not reader.present(f"{service.value}KeyUri"):
                reader.fail(
                    f"{service.value}KeyUri",
                    "is required in provider mode to bind "
                    f"{service.value} (or set customerStack): the customer shares the "
                    "versioned key URI",
                    f"pulumi config set {service.value}KeyUri <key URI from the customer>",
                )
    if stack and uris:
        reader.fail(
            "customerStack",
            "is set together with key URIs; use one source",
            "pulumi config rm customerStack",
        )
    return uris, stack


_GO_MIDNIGHT_UTC = " 00:00:00 +0000 UTC"
"""What the Pulumi CLI passes for an unquoted date: yaml.v3 reads ``2028-11-30`` as a
``time.Time`` and Pulumi stores its ``String()`` (``2028-11-30 00:00:00 +0000 UTC``)."""


def _expiry_date(value: str) -> date:
    """``YYYY-MM-DD``, quoted or not (see ``_GO_MIDNIGHT_UTC``); ValueError otherwise."""
    text = value.removesuffix(_GO_MIDNIGHT_UTC)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a real date ({error})") from None


def _date_problem(value: str) -> str | None:
    try:
        parsed = _expiry_date(value)
    except ValueError as error:
        return str(error)
    today = datetime.now(UTC).date()
    if parsed <= today:
        # Key Vault's ``exp``: on or after it the key must not wrap new keys.
        return (f"{parsed.isoformat()} is not in the future (today is {today.isoformat()}); "
                "a key created already expired could not wrap any service's data key")
    if parsed.year > today.year + 10:
        return (f"{parsed.isoformat()!r} is more than ten years away; pick a date within the "
                "key's lifetime")
    return None


def _stack_problem(value: str) -> str | None:
    if _STACK_NAME.match(value):
        return None
    return f"{value!r} is not a fully qualified stack name (org/project/stack)"

