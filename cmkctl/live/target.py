"""What verify and backup-key look at: vault, keys and principal, from flags or a stack.

``--stack`` reads ``Pulumi.<stack>.yaml`` with the same reader and validation as
``cmkctl preview`` (no cloud, no Pulumi CLI): the customer side names the vault by
subscription, resource group and name; a provider-only stack has the key URIs the customer
shared. The provider app's service-principal object id is not in any config (Entra assigns
it when the app is installed), so the grant check needs ``--principal-object-id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from components.config.key_uri import KeyUri, key_uri_problem, parse_key_uri

if TYPE_CHECKING:
    from components.config.common import TenantTarget
    from components.config.customer import KeySpec, VaultSpec
    from components.config.stack import StackConfig

DEFAULT_KEY_SIZES = frozenset({2048})
"""The vendor prerequisites name RSA 2048; ``--key-size`` or the stack's keySize widen it."""
KEY_TYPES = ("RSA", "RSA-HSM")

_VAULT_ID = re.compile(
    r"^/subscriptions/(?P<sub>[0-9a-fA-F-]{36})/resourceGroups/(?P<group>[^/]+)/providers/"
    r"Microsoft\.KeyVault/vaults/(?P<name>[A-Za-z0-9-]{3,24})/?$", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class TargetError(Exception):
    """The flags or the stack do not say what to verify; the message says how to fix it."""


@dataclass(frozen=True)
class VaultRef:
    """The vault's ARM coordinates: needed for its properties, locks and grants."""

    subscription: str
    resource_group: str
    name: str

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.KeyVault/vaults/{self.name}")

    def key_id(self, key: str) -> str:
        """ARM id of a key: the scope of its lock and of a key-scoped grant."""
        return f"{self.id}/keys/{key}"


@dataclass(frozen=True)
class KeyTarget:
    uri: KeyUri
    sizes: frozenset[int]
    """RSA sizes every consumer of this key accepts."""
    types: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    vault_name: str
    vault_url: str
    vault: VaultRef | None
    """None when only a key URI is known: vault, lock and grant checks cannot run."""
    keys: tuple[KeyTarget, ...]
    principal_object_id: str | None

    @property
    def suffix(self) -> str:
        return self.keys[0].uri.suffix

    def describe(self) -> dict[str, str]:
        described = {"vault": self.vault_url, "vault id": self.vault.id if self.vault else "(none)"}
        for key in self.keys:
            described[f"key {key.uri.name}"] = str(key.uri)
        described["provider principal"] = self.principal_object_id or "(none)"
        return described


def parse_vault_id(value: str) -> VaultRef:
    match = _VAULT_ID.match(value.strip())
    if not match:
        raise TargetError(
            f"--vault-id {value!r} is not a vault id; expected /subscriptions/<guid>/"
            "resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name> "
            "(az keyvault show --name <vault> --query id -o tsv)")
    return VaultRef(match["sub"].lower(), match["group"], match["name"].lower())


def principal(value: str | None) -> str | None:
    if value is not None and not _GUID.match(value):
        raise TargetError(
            f"--principal-object-id {value!r} is not a GUID; use the object id of the provider "
            "app's service principal: az ad sp show --id <app client id> --query id -o tsv")
    return value.lower() if value else None


def vault_key_uri(uri: str) -> KeyUri:
    """``--key-uri`` parsed; managed HSM keys have other APIs and are refused."""
    parsed = parse_key_uri(uri)
    if parsed is None:
        raise TargetError(f"--key-uri: {key_uri_problem(uri)}")
    if parsed.is_managed_hsm:
        raise TargetError("--key-uri: managed HSM keys are not supported; use a Key Vault key "
                          "URI (https://<vault>.vault.azure.net/keys/<name>)")
    return parsed


def from_key_uri(uri: str, vault_id: str | None, principal_id: str | None,
                 sizes: frozenset[int] = DEFAULT_KEY_SIZES) -> Target:
    parsed = vault_key_uri(uri)
    vault = parse_vault_id(vault_id) if vault_id else None
    if vault is not None and vault.name != parsed.vault:
        raise TargetError(f"--vault-id names vault {vault.name!r} but the key URI is in vault "
                          f"{parsed.vault!r}; pass the id of the key's own vault")
    return Target(parsed.vault, parsed.vault_uri, vault,
                  (KeyTarget(parsed, sizes, KEY_TYPES),), principal(principal_id))


def from_stack(stack: str, vault_id: str | None, principal_id: str | None,
               root: Path | None = None, *, follow_reference: bool = True) -> Target:
    """Vault and keys of ``Pulumi.<stack>.yaml``, validated as ``cmkctl preview`` does."""
    from components.config.common import SERVICE_KEY_SIZES  # noqa: PLC0415

    where, config = load_stack(stack, root)
    given = parse_vault_id(vault_id) if vault_id else None
    sides = [(side.target, side.vault, side.keys) for side in (config.customer,) if side]
    sides += [(side.target, side.vault, (side.key,)) for side in (config.organization_key,)
              if side]
    if sides:
        return _vault_side(*sides[0], given, principal(principal_id))
    if config.credential_store is not None:
        raise TargetError(f"stack {stack!r} is a credential store (secrets, no key): verify "
                          "checks keys; there is nothing to verify")
    provider = config.provider
    if provider is None:
        raise TargetError(f"stack {stack!r} names no key verify can check; pass --key-uri")
    if not follow_reference:
        raise TargetError(f"stack {stack!r} is referenced as a customerStack but is not a "
                          "customer-side stack; pass --key-uri (and --vault-id) instead")
    if not provider.key_uris:
        return _referenced_customer(stack, provider.customer_stack, vault_id, principal_id,
                                    where)
    sizes: dict[KeyUri, frozenset[int]] = {}
    for service, uri in provider.key_uris.items():
        allowed = SERVICE_KEY_SIZES[service]
        sizes[uri] = sizes[uri] & allowed if uri in sizes else allowed
    vaults = {uri.vault for uri in sizes}
    if len(vaults) > 1:
        raise TargetError(f"stack {stack!r} uses keys in several vaults "
                          f"({', '.join(sorted(vaults))}); verify each with --key-uri")
    first = next(iter(sizes))
    if given is not None and given.name != first.vault:
        raise TargetError(f"--vault-id names vault {given.name!r} but the stack's keys are in "
                          f"{first.vault!r}")
    keys = tuple(KeyTarget(uri, allowed, KEY_TYPES) for uri, allowed in sizes.items())
    return Target(first.vault, first.vault_uri, given, keys, principal(principal_id))


def load_stack(stack: str, root: Path | None = None) -> tuple[Path, StackConfig]:
    """The stack file's directory and its config, read and validated as ``cmkctl preview`` does."""
    from cmkctl.plan.recorder import PROJECT, ROOT, stack_config  # noqa: PLC0415 - loads pulumi
    from components.config.problems import ConfigError  # noqa: PLC0415
    from components.config.stack import load  # noqa: PLC0415

    where = root or ROOT
    if not (where / f"Pulumi.{stack}.yaml").is_file():
        raise TargetError(f"no stack file Pulumi.{stack}.yaml in {where}")
    try:
        raw = stack_config(stack, where)
        prefix = f"{PROJECT}:"
        return where, load({k[len(prefix):]: v for k, v in raw.items() if k.startswith(prefix)})
    except ConfigError as error:
        raise TargetError(f"stack {stack!r}: {error.render()}") from None
    except (ValueError, OSError) as error:
        raise TargetError(f"stack {stack!r}: {error}") from None


def _referenced_customer(stack: str, reference: str | None, vault_id: str | None,
                         principal_id: str | None, root: Path) -> Target:
    """A provider stack's ``customerStack``, read from its local stack file as ``cmkctl
    preview`` resolves stack references (the last segment names ``Pulumi.<stack>.yaml``)."""
    referenced = (reference or "").rsplit("/", 1)[-1]
    if not referenced or not (root / f"Pulumi.{referenced}.yaml").is_file():
        raise TargetError(f"stack {stack!r} takes its key URIs from customerStack {reference!r}, "
                          f"which has no local Pulumi.{referenced}.yaml; pass --key-uri (and "
                          "--vault-id) instead")
    return from_stack(referenced, vault_id, principal_id, root, follow_reference=False)


def _vault_side(tenant: TenantTarget, vault_spec: VaultSpec, specs: tuple[KeySpec, ...],
                given: VaultRef | None, principal_id: str | None) -> Target:
    """The vault and keys a stack creates (customer side, or an organisation key)."""
    vault = VaultRef(tenant.subscription_id.lower(), tenant.resource_group,
                     vault_spec.name.lower())
    if given is not None and given != vault:
        raise TargetError(f"--vault-id {given.id} differs from the stack's vault {vault.id}; "
                          "drop --vault-id with --stack")
    keys = tuple(KeyTarget(KeyUri(vault.name, tenant.cloud.vault_suffix, spec.name, None),
                           frozenset({spec.size}), (spec.kty,)) for spec in specs)
    return Target(vault.name, keys[0].uri.vault_uri, vault, keys, principal_id)
