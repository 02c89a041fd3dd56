"""``azureEnvironment``: the one Azure cloud of a stack, and what it rules out.

A cross-tenant binding cannot cross clouds, so the whole stack (both tenants, every
region, every key URI) is in one cloud. The values of each cloud and their sources are the
pack's table (:mod:`policies.clouds`), so the program and the gate cannot disagree.
Services without documented cross-tenant CMK in the chosen cloud are refused by name,
never assumed to work.
"""

from __future__ import annotations

from collections.abc import Mapping

from components.config.reader import ConfigReader
from policies.clouds import CLOUDS, PUBLIC, Cloud, of_key_vault_url, of_region

SERVICE_SETTING: Mapping[str, str] = {
    "storage": "storageAccountName",
    "sql": "sqlServerName",
    "disk": "diskEncryptionSetName",
    "snowflake": "snowflakeAccountName",
}
"""The setting that makes the provider side bind each service."""


def read_cloud(reader: ConfigReader) -> Cloud:
    """The stack's cloud (``public`` unless set)."""
    return CLOUDS[reader.choice("azureEnvironment", tuple(CLOUDS), PUBLIC.name)]


def _where(cloud: Cloud) -> str:
    return f"{cloud.title} (azureEnvironment {cloud.name})"


def region_problem(location: str, cloud: Cloud) -> str | None:
    """Why ``location`` cannot hold a resource of a stack in ``cloud``, or None."""
    found = of_region(location)
    if found == cloud:
        return None
    return f"{location!r} is a region of {found.title}, not of {_where(cloud)}"


def region_fix(key: str, cloud: Cloud) -> str:
    """How to set ``key`` to a region of ``cloud``."""
    if cloud.regions:
        return f"pulumi config set {key} <one of {', '.join(sorted(cloud.regions))}>"
    return f"pulumi config set {key} <a public region, e.g. westeurope>"


def key_uri_cloud_problem(uri: str, cloud: Cloud) -> str | None:
    """Why a key URI cannot be bound by a stack in ``cloud``, or None."""
    found = of_key_vault_url(uri)
    if found is None or found == cloud:
        return None
    return (f"{uri} is a key of {found.title}, but this stack is in {_where(cloud)}; "
            "a managed identity's token is not exchanged across clouds")


def unsupported_service_problem(service: str, cloud: Cloud) -> str | None:
    """Why ``service`` cannot use a cross-tenant key in ``cloud``, or None."""
    if service in cloud.cross_tenant_services:
        return None
    return (f"{service!r} has no documented cross-tenant customer-managed key in "
            f"{_where(cloud)}; it is refused rather than assumed (docs/azure-properties.md, "
            "Clouds)")


def refuse_unsupported(reader: ConfigReader, cloud: Cloud, listed: tuple[str, ...]) -> None:
    """Report each service the stack lists or configures that ``cloud`` does not document;
    a refused setting is then read as unset, so it is reported once."""
    if cloud == PUBLIC:
        return
    for service, setting in SERVICE_SETTING.items():
        problem = unsupported_service_problem(service, cloud)
        if problem is None:
            continue
        if service in listed:
            index = listed.index(service)
            reader.fail(f"services[{index}]", problem,
                        f"pulumi config rm --path 'services[{index}]'")
        if reader.present(setting):
            reader.fail(setting, problem, f"pulumi config rm {setting}")
            reader.drop({setting})
