"""The provider tenant's configuration: identity chain, bound services and where keys come from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from components.config import azure_names as names
from components.config.cloud import key_uri_cloud_problem, region_fix, region_problem
from components.config.common import Service, TenantTarget, read_target, stack_problem
from components.config.customer import CustomerConfig
from components.config.key_uri import KeyUri, key_uri_problem, parse_key_uri
from components.config.keys import Mode
from components.config.reader import ConfigReader
from components.config.snowflake import SnowflakeSettings, SnowflakeSpec
from policies.clouds import PUBLIC, Cloud

DISK_ENCRYPTION_TYPES = (
    "EncryptionAtRestWithCustomerKey",
    "EncryptionAtRestWithPlatformAndCustomerKeys",
)


MAX_FEDERATED_CREDENTIALS = 20
"""Entra ID allows at most 20 federated identity credentials on one application."""


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


def read_provider(
    reader: ConfigReader,
    mode: Mode,
    services: tuple[Service, ...],
    customer: CustomerConfig | None,
    existing_app: str | None,
    snowflake: SnowflakeSettings,
    cloud: Cloud = PUBLIC,
) -> ProviderConfig | None:
    target = read_target(reader, "provider", cloud)
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
    key_uris, customer_stack = _key_sources(reader, mode, bound, follow, cloud)
    vault_location = reader.text("vaultLocation", "westeurope", check=names.region_problem)
    if vault_location and (problem := region_problem(vault_location, cloud)):
        reader.fail("vaultLocation", problem, region_fix("vaultLocation", cloud))
        vault_location = None
    if customer:
        vault_location = customer.target.location
    wait = reader.integer("rolePropagationSeconds", 120, 0, 900)
    protect = reader.boolean("protectProviderResources", True)
    if (disk and mode == Mode.PROVIDER and vault_location is None and customer_stack is None
            and not reader.present("vaultLocation")):
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
    reader: ConfigReader, mode: Mode, bound: tuple[Service, ...], follow_latest: bool,
    cloud: Cloud,
) -> tuple[dict[Service, KeyUri], str | None]:
    """Key URIs per service: shared by the customer (config) or read from their stack."""
    uris: dict[Service, KeyUri] = {}
    example = f"https://kv-contoso-cmk.{cloud.vault_suffix}/keys/cmk/{'0' * 31}1"
    for service in Service:
        key = f"{service.value}KeyUri"
        value = reader.text(
            key, example, check=lambda v: key_uri_problem(v) or key_uri_cloud_problem(v, cloud))
        parsed = parse_key_uri(value) if value else None
        if parsed is None:
            continue
        if problem := key_version_problem(service, parsed, follow_latest):
            reader.fail(
                key,
                problem,
                f"pulumi config set {key} https://<vault>.{cloud.vault_suffix}/keys/<name>/"
                "<version>",
            )
        uris[service] = parsed
    stack = reader.text("customerStack", "acme/dedicated-cmk/customer", check=stack_problem)
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
