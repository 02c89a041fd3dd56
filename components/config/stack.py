"""The stack's configuration: read once, validated completely, frozen.

Components never read config; they get these dataclasses. Every problem is collected
and raised together as ``ConfigError`` before any resource is registered. Each side reads
its own keys (``customer``, ``provider``; ``setups`` for the other set-ups); this module
chooses which, from ``setup`` and ``mode``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from components.config import azure_names as names
from components.config.cloud import read_cloud, refuse_unsupported
from components.config.common import Service
from components.config.customer import CustomerConfig, read_customer, with_snowflake_grant
from components.config.keys import KNOWN_KEYS, Mode, Setup, scope_problems, setup_problems
from components.config.problems import PROJECT, ConfigError
from components.config.provider import ProviderConfig, read_provider
from components.config.reader import ConfigReader
from components.config.setups import CredentialStoreConfig, OrganizationKeyConfig, load_setup
from components.config.snowflake import read_snowflake, snowflake_configured
from policies.clouds import Cloud


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


def load(raw: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> StackConfig:
    """Validate ``raw`` (keys without the project prefix, values as Pulumi stores them)."""
    reader = ConfigReader(raw, secret_keys)
    setup = Setup(reader.choice("setup", tuple(s.value for s in Setup),
                                Setup.CROSS_TENANT_CMK.value))
    if reader.problems:
        # Which keys a stack takes depends on its set-up: report the set-up alone.
        raise ConfigError(reader.problems)
    if setup is not Setup.CROSS_TENANT_CMK:
        store, key = load_setup(reader, setup, raw)
        return StackConfig(mode=Mode.CUSTOMER, services=(), customer=None, provider=None,
                           credential_store=store, organization_key=key)
    mode = Mode(reader.choice("mode", tuple(m.value for m in Mode), Mode.BOTH.value))
    if reader.problems:
        # Without a valid mode, which keys are required is unknowable: report the mode alone.
        raise ConfigError(reader.problems)
    # Keys with no effect in this mode are reported once, then read as unset.
    misplaced = [*scope_problems(raw, mode), *setup_problems(raw, setup)]
    reader.problems.extend(misplaced)
    reader.drop({problem.key for problem in misplaced})
    cloud = read_cloud(reader)
    services = _services(reader, cloud)
    app_client_id = reader.text(
        "providerAppClientId", "<app client id guid>", check=names.guid_problem
    )
    customer = (
        read_customer(reader, mode, services, app_client_id, cloud)
        if mode != Mode.PROVIDER else None
    )
    snowflake = read_snowflake(
        reader,
        provider_side=mode != Mode.CUSTOMER,
        tenant_id=customer.target.tenant_id if customer else None,
    )
    if customer is not None:
        customer = with_snowflake_grant(reader, customer, snowflake)
    provider = (
        read_provider(reader, mode, services, customer, app_client_id, snowflake, cloud)
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


def _services(reader: ConfigReader, cloud: Cloud) -> tuple[Service, ...]:
    allowed = tuple(s.value for s in Service)

    def check(value: str) -> str | None:
        return None if value in allowed else f"{value!r} is not one of {', '.join(allowed)}"

    # An empty list is the schema default the Pulumi CLI passes when the key is left out.
    listed = reader.strings("services", "storage", check)
    refuse_unsupported(reader, cloud, listed)
    supported = tuple(s for s in Service if s.value in cloud.cross_tenant_services)
    if listed:
        return tuple(Service(v) for v in listed if Service(v) in supported)
    # Without a Snowflake account nothing consumes a Snowflake key: leave it out by default.
    return tuple(s for s in supported if s != Service.SNOWFLAKE or snowflake_configured(reader))
