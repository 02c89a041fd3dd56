"""What the provider side of a stack binds, as the stack file says: stores, keys, identity, app.

Read from ``Pulumi.<stack>.yaml`` with the same reader as ``cmkctl preview``; the key each
store uses comes from the provider's ``<service>KeyUri`` values, from the customer side of a
``both`` stack, or from the local file of its ``customerStack``. The identity is named by
``identityName`` in the provider resource group (ARM id built here); the app's client id is
known only for an existing app (``providerAppClientId``), otherwise from ``--app-client-id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cmkctl.live.consumers import ConsumerRef
from cmkctl.live.target import TargetError, load_stack
from components.config.key_uri import KeyUri

if TYPE_CHECKING:
    from components.config.stack import StackConfig

BOUND = ("storage", "sql", "disk")
"""Services bound through Resource Manager (Snowflake registers the key in SQL, not ARM)."""


@dataclass(frozen=True)
class Expected:
    """One store and the key the stack binds it to (version None unless pinned and known)."""

    ref: ConsumerRef
    key: KeyUri
    config_key: str
    """The stack setting that names this key, for the "change it here" advice."""


@dataclass(frozen=True)
class ProviderSide:
    stack: str
    stores: tuple[Expected, ...]
    follow_latest: bool
    identity_id: str
    """ARM id of the user-assigned identity every binding must use."""
    app_client_id: str | None
    """The multitenant app's client id every binding must name; None when not known offline."""


def from_stack(stack: str, root: Path | None = None,
               app_client_id: str | None = None) -> ProviderSide:
    side = provider_of(stack, root, app_client_id)
    if side is None:
        raise TargetError(f"stack {stack!r} has no provider side: the stores that use its keys "
                          "are in the provider's stack; pass that stack, or --key-uri with "
                          "--consumer <ARM id> for each store")
    return side


def provider_of(stack: str, root: Path | None = None,
                app_client_id: str | None = None) -> ProviderSide | None:
    """The provider side of ``stack``; None for a stack without one."""
    where, config = load_stack(stack, root)
    provider = config.provider
    if provider is None:
        return None
    keys = _keys(stack, config, where)
    target = provider.target
    names = {"storage": provider.storage.account_name if provider.storage else None,
             "sql": provider.sql.server_name if provider.sql else None,
             "disk": provider.disk.encryption_set_name if provider.disk else None}
    stores = tuple(
        Expected(ConsumerRef(service, target.subscription_id.lower(), target.resource_group, name),
                 keys[service][0], keys[service][1])
        for service, name in names.items() if name and service in keys)
    identity = (f"/subscriptions/{target.subscription_id.lower()}/resourceGroups/"
                f"{target.resource_group}/providers/Microsoft.ManagedIdentity/"
                f"userAssignedIdentities/{provider.identity_name}")
    known = provider.app_client_id
    if known and app_client_id and known.lower() != app_client_id.lower():
        raise TargetError(f"--app-client-id {app_client_id} differs from the stack's "
                          f"providerAppClientId {known}; drop --app-client-id")
    return ProviderSide(stack, stores, provider.follow_latest_key_version, identity,
                        (known or app_client_id or "").lower() or None)


def _keys(stack: str, config: StackConfig, where: Path) -> dict[str, tuple[KeyUri, str]]:
    """Key per bound service, and the setting that names it."""
    assert config.provider is not None
    if config.provider.key_uris:
        return {service.value: (uri, f"{service.value}KeyUri in Pulumi.{stack}.yaml")
                for service, uri in config.provider.key_uris.items() if service.value in BOUND}
    customer, source = config.customer, stack
    if customer is None:
        reference = (config.provider.customer_stack or "").rsplit("/", 1)[-1]
        if not reference or not (where / f"Pulumi.{reference}.yaml").is_file():
            raise TargetError(f"stack {stack!r} takes its keys from customerStack "
                              f"{config.provider.customer_stack!r}, which has no local stack "
                              "file; pass --key-uri and --consumer instead")
        _, referenced = load_stack(reference, where)
        customer, source = referenced.customer, reference
        if customer is None:
            raise TargetError(f"customerStack {reference!r} has no customer side")
    vault = customer.vault.name.lower()
    return {service.value: (KeyUri(vault, "vault.azure.net", name, None),
                            f"keyVersionPolicy and the key of Pulumi.{source}.yaml")
            for service, name in customer.service_keys.items() if service.value in BOUND}
