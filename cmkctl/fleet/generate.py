"""``cmkctl fleet generate``: synthetic customer stack files for tests and the benchmark.

Each stack is one dedicated customer environment as a provider would run it: both tenants
in one stack, or the customer's or the provider's half; one shared key or a key per
service; RBAC or access policies; a region; bindings that follow the latest key version
or stay pinned. Every file passes config validation and the pack's mandatory rules (the
tests hold it to that), names are distinct across the fleet (vault and storage names are
globally unique in Azure), and the same seed writes the same files.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import yaml

from components.config.problems import PROJECT

COMPANIES = (
    "adatum", "alpineski", "blueyonder", "coho", "contoso", "fabrikam", "fourthcoffee",
    "humongous", "litware", "lucerne", "margies", "northwind", "proseware", "relecloud",
    "southridge", "tailspin", "treyresearch", "wingtip", "woodgrove", "wideworld",
)
"""Microsoft's fictitious company names: obviously not real customers."""
REGIONS = (
    "westeurope", "northeurope", "germanywestcentral", "francecentral", "swedencentral",
    "uksouth", "eastus", "eastus2", "westus2", "canadacentral", "australiaeast", "japaneast",
)
SERVICES = ("storage", "sql", "disk")
"""Services with a provider-side binding; Snowflake's set-up is its own issue."""
STORAGE_SKUS = ("Standard_ZRS", "Standard_GZRS", "Standard_LRS", "Standard_RAGZRS")
MODES = ("both", "both", "customer", "provider")
"""Half the fleet manages both tenants in one stack, the rest is split stacks."""


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _public_cidr(rng: random.Random) -> str:
    """Documentation ranges (RFC 5737): public in form, never anyone's real network."""
    block = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{block}.{rng.randrange(0, 256, 16)}/28"


def _version(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def stack_config(index: int, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """Stack name and config (without the project prefix) of customer number ``index``."""
    company = COMPANIES[index % len(COMPANIES)]
    tag = f"{company[:8]}{index:04d}"
    mode = rng.choice(MODES)
    region = rng.choice(REGIONS)
    services = sorted(rng.sample(SERVICES, rng.randint(1, len(SERVICES))),
                      key=SERVICES.index)
    per_service = rng.random() < 0.4
    config: dict[str, Any] = {"mode": mode, "services": services}
    keys = {s: (f"cmk-{s}" if per_service else "cmk-shared") for s in services}
    if mode != "provider":
        config |= {
            "customerTenantId": _guid(rng),
            "customerSubscriptionId": _guid(rng),
            "customerLocation": region,
            "customerResourceGroup": f"rg-{tag}-cmk",
            "customerResourceGroupExisting": rng.random() < 0.3,
            "vaultName": f"kv-{tag}-cmk",
            "vaultPermissionModel": "rbac" if rng.random() < 0.75 else "accessPolicy",
            "keyName": "cmk-shared",
            "keyExpiresOn": f"{2028 + rng.randint(0, 2)}-{rng.randint(1, 12):02d}-28",
            "keyRotateAfterDays": rng.choice((90, 180, 365)),
        }
        if per_service:
            config |= {f"{s}KeyName": keys[s] for s in services}
        if rng.random() < 0.3:
            config |= {"vaultSku": "premium", "keyType": "RSA-HSM"}
        if rng.random() < 0.2:
            config["vaultPublicNetworkAccess"] = "Disabled"
        else:
            config["vaultIpRules"] = sorted({_public_cidr(rng) for _ in range(rng.randint(1, 3))})
    if mode == "customer":
        config["providerAppClientId"] = _guid(rng)
    if mode != "customer":
        config |= _provider_side(tag, mode, region, services, keys, rng)
    return tag, config


def _provider_side(tag: str, mode: str, region: str, services: list[str],
                   keys: dict[str, str], rng: random.Random) -> dict[str, Any]:
    config: dict[str, Any] = {
        "providerTenantId": _guid(rng),
        "providerSubscriptionId": _guid(rng),
        # Disk encryption sets must be in the vault's region; other services need not be.
        "providerLocation": region if "disk" in services else rng.choice(REGIONS),
        "providerResourceGroup": f"rg-saas-{tag}",
        "identityName": f"id-{tag}-cmk",
        "keyVersionPolicy": "latest" if rng.random() < 0.7 else "pinned",
    }
    if rng.random() < 0.5:
        config |= {"providerAppClientId": _guid(rng),
                   "appFederatedCredentialsElsewhere": rng.randint(0, 18)}
    else:
        config["providerAppDisplayName"] = f"saas-cmk-{tag}"
    if "storage" in services:
        config |= {"storageAccountName": f"st{tag}cmk", "storageSku": rng.choice(STORAGE_SKUS)}
    if "sql" in services:
        config |= {"sqlServerName": f"sql-{tag}-cmk", "sqlAdminLogin": f"sql-admins-{tag}",
                   "sqlAdminObjectId": _guid(rng),
                   "sqlAdminPrincipalType": rng.choice(("Group", "User", "Application"))}
    if "disk" in services:
        config |= {"diskEncryptionSetName": f"des-{tag}-cmk",
                   "diskEncryptionType": rng.choice(("EncryptionAtRestWithCustomerKey",
                                                     "EncryptionAtRestWithPlatformAndCustomerKeys"))}
    if mode == "both":
        config["rolePropagationSeconds"] = rng.choice((60, 120, 300))
        return config
    vault = f"https://kv-{tag}-cmk.vault.azure.net/keys"
    versions = {name: _version(rng) for name in sorted(set(keys.values()))}
    config |= {f"{s}KeyUri": f"{vault}/{keys[s]}/{versions[keys[s]]}" for s in services}
    if "disk" in services:
        config["vaultLocation"] = region  # what the same-region check compares with
    return config


def write_fleet(count: int, out_dir: Path, seed: int = 0) -> list[Path]:
    """Write ``count`` stack files ``Pulumi.<stack>.yaml`` to ``out_dir``."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(count):
        stack, config = stack_config(index, rng)
        path = out_dir / f"Pulumi.{stack}.yaml"
        document = {"config": {f"{PROJECT}:{k}": v for k, v in config.items()}}
        header = f"# Synthetic customer stack {index} of {count} (cmkctl fleet generate, " \
                 f"seed {seed}).\n"
        path.write_text(header + yaml.safe_dump(document, sort_keys=False))
        written.append(path)
    return written
