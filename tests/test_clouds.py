"""azureEnvironment: every value the cloud changes, in config and in the program's resources."""

from __future__ import annotations

import pytest

from cmkctl.plan.fake_azure import Context
from cmkctl.plan.recorder import Recording
from components.config.common import Service
from components.config.problems import ConfigError
from components.config.stack import load
from policies.clouds import CHINA, CLOUDS, PUBLIC, US_GOVERNMENT, Cloud
from policies.resource_types import FEDERATED_CREDENTIAL as FIC
from policies.resource_types import KEY, VAULT
from tests.stacks import run_stack
from tests.test_config import CUSTOMER, PROVIDER

ARM = "pulumi:providers:azure-native"
GRAPH = "pulumi:providers:azuread"
GOV_KEY = "https://kv-contoso-cmk.vault.usgovcloudapi.net/keys/cmk/" + "a" * 32


def problems(raw: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(raw)
    return [p.render() for p in caught.value.problems]


def test_the_default_cloud_is_public_and_every_side_carries_it() -> None:
    config = load(CUSTOMER)
    assert config.customer is not None and config.customer.target.cloud is PUBLIC


@pytest.mark.parametrize(("cloud", "region"), [(US_GOVERNMENT, "usgovvirginia"),
                                                (CHINA, "chinaeast2")],
                         ids=["usgovernment", "china"])
def test_a_sovereign_stack_takes_its_regions(cloud: Cloud, region: str) -> None:
    config = load({**CUSTOMER, "azureEnvironment": cloud.name, "customerLocation": region})
    assert config.customer is not None and config.customer.target.cloud is cloud


def test_an_unknown_cloud_is_refused_naming_the_three() -> None:
    assert problems({**CUSTOMER, "azureEnvironment": "germany"}) == [
        "dedicated-cmk:azureEnvironment: 'germany' is not one of public, usgovernment, china\n"
        "    fix: pulumi config set azureEnvironment public"]


def test_a_public_region_in_a_government_stack_is_refused() -> None:
    assert problems({**CUSTOMER, "azureEnvironment": "usgovernment"}) == [
        "dedicated-cmk:customerLocation: 'westeurope' is a region of Azure public cloud, not of "
        "Azure Government (azureEnvironment usgovernment)\n"
        "    fix: pulumi config set customerLocation <one of usdodcentral, usdodeast, "
        "usgovarizona, usgovtexas, usgovvirginia>"]


def test_a_government_region_in_a_public_stack_is_refused() -> None:
    assert problems({**CUSTOMER, "customerLocation": "usgovvirginia"}) == [
        "dedicated-cmk:customerLocation: 'usgovvirginia' is a region of Azure Government, not of "
        "Azure public cloud (azureEnvironment public)\n"
        "    fix: pulumi config set customerLocation <a public region, e.g. westeurope>"]


def test_a_key_of_another_cloud_is_refused_with_the_clouds_form() -> None:
    raw = {**PROVIDER, "azureEnvironment": "usgovernment", "providerLocation": "usgovvirginia"}
    assert problems(raw) == [
        "dedicated-cmk:storageKeyUri: https://kv-contoso-cmk.vault.azure.net/keys/cmk/" + "a" * 32
        + " is a key of Azure public cloud, but this stack is in Azure Government "
        "(azureEnvironment usgovernment); a managed identity's token is not exchanged across "
        "clouds\n    fix: pulumi config set storageKeyUri https://kv-contoso-cmk.vault."
        "usgovcloudapi.net/keys/cmk/00000000000000000000000000000001"]
    load({**raw, "storageKeyUri": GOV_KEY})


def test_a_vault_location_of_another_cloud_is_refused() -> None:
    raw = {**PROVIDER, "azureEnvironment": "usgovernment", "providerLocation": "usgovvirginia",
           "storageKeyUri": GOV_KEY, "services": '["storage", "disk"]',
           "diskEncryptionSetName": "des-contoso", "diskKeyUri": GOV_KEY, "vaultLocation": "eastus"}
    (problem,) = problems(raw)
    assert problem.startswith("dedicated-cmk:vaultLocation: 'eastus' is a region of Azure public "
                              "cloud, not of Azure Government (azureEnvironment usgovernment)")


def test_china_defaults_to_the_services_it_documents() -> None:
    config = load({**CUSTOMER, "azureEnvironment": "china", "customerLocation": "chinaeast2",
                   "services": "[]"})
    assert config.services == (Service.STORAGE, Service.SQL)


def test_a_listed_service_without_documented_cross_tenant_cmk_is_refused() -> None:
    raw = {**CUSTOMER, "azureEnvironment": "china", "customerLocation": "chinaeast2",
           "services": '["storage", "disk"]'}
    assert problems(raw) == [
        "dedicated-cmk:services[1]: 'disk' has no documented cross-tenant customer-managed key in "
        "Azure operated by 21Vianet (China) (azureEnvironment china); it is refused rather than "
        "assumed (docs/azure-properties.md, Clouds)\n"
        "    fix: pulumi config rm --path 'services[1]'"]


def test_a_disk_encryption_set_in_china_is_refused_once() -> None:
    raw = {**PROVIDER, "azureEnvironment": "china", "providerLocation": "chinaeast2",
           "services": "[]", "diskEncryptionSetName": "des-contoso",
           "storageKeyUri": "https://kv-contoso-cmk.vault.azure.cn/keys/cmk/" + "a" * 32}
    assert problems(raw) == [
        "dedicated-cmk:diskEncryptionSetName: 'disk' has no documented cross-tenant "
        "customer-managed key in Azure operated by 21Vianet (China) (azureEnvironment china); it "
        "is refused rather than assumed (docs/azure-properties.md, Clouds)\n"
        "    fix: pulumi config rm diskEncryptionSetName"]


@pytest.mark.parametrize("cloud", [US_GOVERNMENT, CHINA], ids=lambda c: c.name)
def test_snowflake_tri_secret_secure_is_refused_outside_the_public_cloud(cloud: Cloud) -> None:
    region = sorted(cloud.regions)[-1]
    raw = {**PROVIDER, "azureEnvironment": cloud.name, "providerLocation": region,
           "storageKeyUri": f"https://kv-contoso-cmk.{cloud.vault_suffix}/keys/cmk/" + "a" * 32,
           "snowflakeAccountName": "acct"}
    (problem,) = problems(raw)
    assert problem.startswith("dedicated-cmk:snowflakeAccountName: 'snowflake' has no documented "
                              "cross-tenant customer-managed key in ")


# --- what the program creates -------------------------------------------------------------

@pytest.fixture(scope="module")
def gov_provider() -> Recording:
    return run_stack("govprovider")


@pytest.fixture(scope="module")
def gov_customer() -> Recording:
    return run_stack("govcustomer")


def test_government_providers_name_their_cloud(gov_provider: Recording,
                                               gov_customer: Recording) -> None:
    for rec, side in ((gov_provider, "provider"), (gov_customer, "customer")):
        assert rec.get(ARM, f"{side}-arm").inputs["environment"] == "usgovernment"
        assert rec.get(GRAPH, f"{side}-graph").inputs["environment"] == "usgovernment"


def test_public_providers_name_the_public_cloud_whatever_the_shell_says(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARM_ENVIRONMENT", "usgovernment")
    rec = run_stack("dev")
    assert [p.inputs["environment"] for p in [*rec.by_type(ARM), *rec.by_type(GRAPH)]] == [
        "public"] * 4


def test_government_credential_has_the_government_issuer_and_audience(
        gov_provider: Recording) -> None:
    inputs = gov_provider.get(FIC, "provider-federated-credential").inputs
    assert (inputs["issuer"], inputs["audiences"]) == (
        "https://login.microsoftonline.us/9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d/v2.0",
        ["api://AzureADTokenExchangeUSGov"])


def test_china_credential_has_the_china_issuer_and_audience() -> None:
    rec = run_stack("govprovider", azureEnvironment="china", providerLocation="chinaeast2",
                    vaultLocation=None, diskEncryptionSetName=None, services='["storage", "sql"]',
                    diskKeyUri=None,
                    storageKeyUri="https://kv-f.vault.azure.cn/keys/cmk/" + "a" * 32,
                    sqlKeyUri="https://kv-f.vault.azure.cn/keys/cmk/" + "a" * 32)
    inputs = rec.get(FIC, "provider-federated-credential").inputs
    assert (inputs["issuer"], inputs["audiences"]) == (
        "https://login.partner.microsoftonline.cn/9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d/v2.0",
        ["api://AzureADTokenExchangeChina"])
    assert rec.get(ARM, "provider-arm").inputs["environment"] == "china"
    assert rec.get(GRAPH, "provider-graph").inputs["environment"] == "china"


def test_government_vault_and_keys_answer_with_the_government_suffix(
        gov_customer: Recording) -> None:
    vault = gov_customer.get(VAULT, "customer-vault")
    assert vault.outputs["properties"]["vaultUri"] == (
        "https://kv-fabrikam-cmk-gov.vault.usgovcloudapi.net/")
    key = gov_customer.get(KEY, "customer-key-cmk-shared")
    assert key.outputs["keyUri"] == (
        "https://kv-fabrikam-cmk-gov.vault.usgovcloudapi.net/keys/cmk-shared")
    assert gov_customer.stack_outputs["sqlKeyUri"] == (
        "https://kv-fabrikam-cmk-gov.vault.usgovcloudapi.net/keys/cmk-shared/"
        "978444e3aeba8a2b0d24b95ec80d8a56")


@pytest.mark.parametrize("cloud", list(CLOUDS.values()), ids=lambda c: c.name)
def test_the_fake_answers_in_the_providers_cloud(cloud: Cloud) -> None:
    environment = {} if cloud is PUBLIC else {"environment": cloud.arm_environment}
    assert Context(VAULT, "v", {}, environment).vault_suffix == cloud.vault_suffix


def test_the_other_set_ups_follow_the_stacks_cloud() -> None:
    rec = run_stack("org", azureEnvironment="usgovernment", customerLocation="usgovtexas")
    assert rec.get(ARM, "customer-arm").inputs["environment"] == "usgovernment"
    assert rec.get(GRAPH, "customer-graph").inputs["environment"] == "usgovernment"
    assert rec.get(VAULT, "organization-key-vault").outputs["properties"]["vaultUri"] == (
        "https://kv-contoso-org-cmk.vault.usgovcloudapi.net/")
