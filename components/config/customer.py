"""The customer tenant's configuration: vault, keys and who is granted them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from components.config import azure_names as names
from components.config import firewall_rules as firewall
from components.config.common import (
    KEY_TYPES,
    SERVICE_KEY_SIZES,
    Service,
    TenantTarget,
    date_problem,
    expiry_date,
    read_target,
    stack_problem,
)
from components.config.keys import Mode, default_of
from components.config.reader import ConfigReader
from components.config.snowflake import SnowflakeSettings
from policies.clouds import PUBLIC, Cloud
from policies.key_compatibility import PREREQUISITE_KEY_SIZES, accepted_by_all


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
    existing: bool = False
    """Read as it is (``keyExisting``; e.g. an HSM key imported through BYOK), never created:
    its type, size, operations, expiry and rotation are Azure's, judged by the pack."""


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
    existing: bool = False
    """Read as it is (``vaultExisting``), never created or deleted by this stack; its settings
    are the customer's, judged by the pack from what Azure returns."""


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


_CREATED_VAULT_SETTINGS = ("vaultSku", "vaultRetentionDays", "vaultPublicNetworkAccess",
                           "vaultIpRules", "vaultSubnetIds", "vaultIpRuleWidestPrefix")
"""Settings of a vault this stack creates; an existing vault keeps its own."""

_CREATED_KEY_SETTINGS = ("keyType", "keySize", "keyRotateAfterDays", "keyNotifyBeforeExpiryDays",
                         "keyExpiryDays", "keyExpiresOn", "allowKeySizeBeyondPrerequisite")
"""Settings of keys this stack creates; existing keys keep their own."""


def _without_effect(reader: ConfigReader, keys: tuple[str, ...], why: str) -> None:
    """Refuse each of ``keys`` set to something other than its default: it would do nothing."""
    for key in keys:
        value = reader.text(key, "")
        if value is not None and value != default_of(key):
            reader.fail(key, f"has no effect: {why}", f"pulumi config rm {key}")
            reader.drop({key})


def read_vault(reader: ConfigReader) -> VaultSpec | None:
    name = reader.text("vaultName", "kv-contoso-cmk", required=True, check=names.vault_name_problem)
    existing = reader.boolean("vaultExisting", False)
    if existing:
        _without_effect(reader, _CREATED_VAULT_SETTINGS,
                        "vaultExisting reads the vault as it is; the policy pack judges its "
                        "settings from what Azure returns")
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
    if existing and model != "rbac":
        reader.fail("vaultPermissionModel",
                    "accessPolicy cannot be used with vaultExisting: the program would take over "
                    "the existing vault's whole access-policy list (an update replaces it)",
                    "grant through Azure RBAC (pulumi config set vaultPermissionModel rbac, with "
                    "RBAC enabled on the vault) or let this stack create its own vault")
    if name is None:
        return None
    return VaultSpec(name.lower(), sku, retention, model == "rbac", public, ip_rules, subnets,
                     existing)


def read_customer(
    reader: ConfigReader, mode: Mode, services: tuple[Service, ...], client_id: str | None,
    cloud: Cloud = PUBLIC,
) -> CustomerConfig | None:
    target = read_target(reader, "customer", cloud)
    vault = read_vault(reader)
    service_keys = _service_keys(reader, services)
    keys = _keys(reader, service_keys, vault)
    protect = reader.boolean("protectKeyMaterial", True)
    provider_stack = reader.text(
        "providerStack", "acme/dedicated-cmk/provider", check=stack_problem
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
    if any(k.kty == "RSA-HSM" for k in keys) and vault.sku != "premium" and not vault.existing:
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
    expires_on = reader.text("keyExpiresOn", "2028-12-31", check=date_problem)
    when = expiry_date(expires_on) if expires_on else None
    return KeySpec("", kty, size, rotate, notify, expiry, when, ())


def _keys(
    reader: ConfigReader, service_keys: Mapping[Service, str], vault: VaultSpec | None
) -> tuple[KeySpec, ...] | None:
    by_key: dict[str, list[Service]] = {}
    for service, key_name in service_keys.items():
        by_key.setdefault(key_name, []).append(service)
    existing = existing_keys(reader, tuple(by_key))
    template = key_template(reader)
    size = template.size
    if size in (2048, 3072, 4096):
        _key_size_compatible(reader, size, {k: v for k, v in by_key.items() if k not in existing})
    if vault is None:
        return None
    return tuple(
        replace(template, name=name, services=tuple(users), existing=name in existing)
        for name, users in by_key.items()
    )


def existing_keys(reader: ConfigReader, used: tuple[str, ...]) -> frozenset[str]:
    """``keyExisting``: names of keys this stack uses that are read rather than created. When
    every key is existing, the settings of created keys are refused (read them first: call
    this before :func:`key_template`)."""
    listed = reader.strings("keyExisting", "cmk",
                            lambda value: names.object_name_problem(value, "key"))
    for index, name in enumerate(listed):
        if name not in used:
            reader.fail(f"keyExisting[{index}]",
                        f"{name!r} is not a key this stack uses ({', '.join(used)})",
                        f"pulumi config rm --path 'keyExisting[{index}]' (or name it in keyName "
                        "or <service>KeyName)")
    existing = frozenset(listed) & frozenset(used)
    if used and existing == frozenset(used):
        _without_effect(reader, _CREATED_KEY_SETTINGS,
                        "every key is in keyExisting, and an existing key keeps its own type, "
                        "size, expiry and rotation policy (the policy pack judges them)")
    return existing


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


def with_snowflake_grant(
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
