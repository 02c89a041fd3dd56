"""The pack judges a stack in the cloud its plan names: pass and fail fixtures per cloud."""

from __future__ import annotations

import pytest

from policies.clouds import CHINA, PUBLIC, US_GOVERNMENT, Cloud
from tests.policies.cmk_plan_fixtures import (
    PROVIDER_TENANT,
    UNKNOWN,
    Case,
    assert_case,
    baseline,
    build_plan,
    edit,
    in_cloud,
    verdicts,
)

B = baseline()
GOV = in_cloud(B, US_GOVERNMENT)
CN = in_cloud(B, CHINA)
PUBLIC_ISSUER = f"https://login.microsoftonline.com/{PROVIDER_TENANT}/v2.0"

CASES: dict[str, list[Case]] = {
    "federated-credential-claims": [
        Case("pass_public", B),
        Case("pass_usgovernment", GOV),
        Case("pass_china", CN),
        Case("pass_azuread_alias_usgovernmentl4", edit(GOV, "provider-ad", "environment",
                                                       "usgovernmentl4")),
        Case("fail_public_issuer_on_government_provider",
             edit(GOV, "fic", "issuer", PUBLIC_ISSUER), ("fic",)),
        Case("fail_public_audience_on_government_provider",
             edit(GOV, "fic", "audiences", ["api://AzureADTokenExchange"]), ("fic",)),
        Case("fail_government_audience_on_public_provider",
             edit(B, "fic", "audiences", ["api://AzureADTokenExchangeUSGov"]), ("fic",)),
        Case("fail_china_legacy_login_host_as_issuer",
             edit(CN, "fic", "issuer", f"https://login.chinacloudapi.cn/{PROVIDER_TENANT}/v2.0"),
             ("fic",)),
        Case("fail_unknown_cloud_name", edit(B, "provider-ad", "environment", "germany"),
             ("fic",)),
        Case("undecided_environment_unknown", edit(B, "provider-ad", "environment", UNKNOWN),
             undecided=("fic",)),
    ],
    "single-cloud": [
        Case("pass_public", B),
        Case("pass_usgovernment", GOV),
        Case("pass_china", CN),
        Case("pass_global_location_in_government", edit(GOV, "st", "location", "global")),
        Case("fail_customer_tenant_in_public_cloud",
             edit(GOV, "customer-arm", "environment", "public"), ("",)),
        Case("fail_customer_providers_left_unset",
             edit(edit(GOV, "customer-arm", "environment", ""), "customer-ad", "environment", ""),
             ("",)),
        Case("fail_public_key_url_in_government",
             edit(GOV, "sql", "keyId", "https://kv-other.vault.azure.net/keys/cmk/"
                                       "0123456789abcdef0123456789abcdef"), ("",)),
        Case("fail_public_region_in_china", edit(CN, "st", "location", "westeurope"), ("",)),
        Case("fail_public_issuer_in_government", edit(GOV, "fic", "issuer", PUBLIC_ISSUER),
             ("",)),
        Case("fail_unknown_environment", edit(B, "provider-arm", "environment", "germany"),
             ("uami", "st", "sql", "des")),
        Case("undecided_environment_unknown", edit(GOV, "customer-arm", "environment", UNKNOWN),
             undecided=("",)),
    ],
}


@pytest.mark.parametrize(("policy", "case"), [(p, c) for p, cases in CASES.items() for c in cases],
                         ids=lambda v: v if isinstance(v, str) else v.id)
def test_cloud_case(policy: str, case: Case) -> None:
    assert_case(policy, case)


@pytest.mark.parametrize("cloud", [PUBLIC, US_GOVERNMENT, CHINA], ids=lambda c: c.name)
def test_a_whole_stack_in_one_cloud_passes_every_mandatory_rule(cloud: Cloud) -> None:
    plan = build_plan(in_cloud(B, cloud))
    for policy in ("federated-credential-claims", "federated-credential-subject", "single-cloud",
                   "provider-app-no-secrets", "consumed-key-granted", "binding-federated-client-id",
                   "references-match-dependencies", "cmk-chain-protected"):
        got = verdicts(policy, plan)
        assert not got.violating and not got.undecided, (policy, got.messages)


def test_mixed_clouds_name_each_cloud_and_what_points_there() -> None:
    got = verdicts("single-cloud", build_plan(edit(GOV, "st", "location", "westeurope")))
    (message,) = got.messages
    assert message.startswith("this stack mixes clouds (Azure public cloud: st location "
                              "westeurope; Azure Government: des key material https://")
    assert " and 11 more); " in message
    assert message.endswith("a cross-tenant key binding cannot cross clouds.")
