"""Snowflake Tri-Secret Secure: the exact SQL of each phase, its guards, and the grants."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cmkctl.plan.recorder import PROJECT, Recording, Secret, record
from components.config.key_uri import KeyUri, parse_key_uri
from components.config.problems import ConfigError
from components.config.stack import load
from components.provider import snowflake_sql as sql
from policies.resource_types import KEY, ROLE_ASSIGNMENT, ROLE_DEFINITION, SNOWFLAKE_EXECUTE, VAULT
from tests.stacks import config_of, run_stack

TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
SUB = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SNOWFLAKE_SP = "5f6a7b8c-9d0e-4f1a-8b2c-4d5e6f7a8b9c"
VAULT_URI = "https://kv-contoso-cmk-sf.vault.azure.net/"
REGISTER = f"SELECT SYSTEM$REGISTER_CMK_INFO('{VAULT_URI}', 'cmk-snowflake')"
CONFIG = f"SELECT SYSTEM$GET_CMK_CONFIG('{TENANT}') AS CMK_CONFIG"
INFO = "SELECT SYSTEM$GET_CMK_INFO() AS CMK_INFO"
VERIFY = "SELECT SYSTEM$VERIFY_CMK_INFO() AS CMK_VERIFICATION"
ACTIVATE = "SELECT SYSTEM$ACTIVATE_CMK_INFO()"


def keep(role: str) -> str:
    return f"SELECT 'dedicated-cmk-kept-{role}' AS KEPT, SYSTEM$GET_CMK_INFO() AS CMK_INFO"


def steps(rec: Recording) -> dict[str, tuple[str, str, str, bool]]:
    """Each Execute by role: (execute, revert, query, protect)."""
    return {r.name.removeprefix("snowflake-"): (r.inputs["execute"], r.inputs["revert"],
                                                r.inputs["query"], r.protect)
            for r in rec.by_type(SNOWFLAKE_EXECUTE)}


def problems(**overrides: str | None) -> list[str]:
    short = {k[len(PROJECT) + 1:]: v for k, v in config_of("snowflake", **overrides).items()}
    with pytest.raises(ConfigError) as caught:
        load(short)
    return [p.render() for p in caught.value.problems]


@pytest.fixture(scope="module")
def verify() -> Recording:
    return run_stack("snowflake")


def test_register_phase_registers_reads_config_and_nothing_else() -> None:
    rec = run_stack("snowflake", snowflakePhase="register", snowflakeServicePrincipalObjectId=None)
    assert steps(rec) == {
        "register": (REGISTER, keep("register"), INFO, True),
        "config": (CONFIG, keep("config"), CONFIG, False),
    }
    # No principal yet: no Snowflake grant, and the provider app is not granted either.
    assert [r.name for r in rec.by_type(ROLE_ASSIGNMENT)] == ["customer-grant-cmk-shared"]
    assert rec.by_type(ROLE_DEFINITION) == []


def test_verify_phase_adds_verification_after_snowflakes_grant(verify: Recording) -> None:
    assert steps(verify) == {
        "register": (REGISTER, keep("register"), INFO, True),
        "config": (CONFIG, keep("config"), CONFIG, False),
        "verify": (VERIFY, keep("verify"), VERIFY, False),
    }
    check = verify.get(SNOWFLAKE_EXECUTE, "snowflake-verify")
    grant = verify.get(ROLE_ASSIGNMENT, "customer-snowflake-grant-cmk-snowflake")
    config = verify.get(SNOWFLAKE_EXECUTE, "snowflake-config")
    assert {grant.urn, config.urn} <= set(check.dependencies)


def test_activation_is_protected_and_runs_only_after_verification() -> None:
    rec = run_stack("snowflake", snowflakePhase="activate")
    assert steps(rec)["activate"] == (ACTIVATE, keep("activate"), INFO, True)
    activate = rec.get(SNOWFLAKE_EXECUTE, "snowflake-activate")
    assert rec.get(SNOWFLAKE_EXECUTE, "snowflake-verify").urn in activate.dependencies


def test_activation_is_refused_before_the_customer_granted_snowflake() -> None:
    assert problems(snowflakePhase="activate", snowflakeServicePrincipalObjectId=None) == [
        "dedicated-cmk:snowflakeServicePrincipalObjectId: is required with snowflakePhase "
        "activate: Snowflake can only verify or activate after the customer consented and "
        "granted its service principal on the key\n    fix: pulumi config set "
        "snowflakeServicePrincipalObjectId <object id the customer shared>"
    ]


def test_provider_logs_in_with_a_key_pair_as_accountadmin(verify: Recording) -> None:
    provider = verify.get("pulumi:providers:snowflake", "snowflake-account")
    assert provider.inputs == {
        "organizationName": "CONTOSOSAAS",
        "accountName": "CONTOSO_PROD",
        "user": "CMK_ADMIN",
        "role": "ACCOUNTADMIN",
        "authenticator": "SNOWFLAKE_JWT",
    }
    for execute in verify.by_type(SNOWFLAKE_EXECUTE):
        assert execute.provider.startswith(provider.urn)


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_private_key_reaches_the_provider_only_as_a_secret() -> None:
    config = config_of("snowflake", snowflakePrivateKey=_pem())
    rec = record("snowflake", config, secret_keys=[f"{PROJECT}:snowflakePrivateKey"])
    private_key = rec.get("pulumi:providers:snowflake", "snowflake-account").inputs["privateKey"]
    assert isinstance(private_key, Secret)
    assert private_key.value.startswith("-----BEGIN PRIVATE KEY-----\n")


def test_a_plain_or_broken_private_key_is_refused_without_echoing_it() -> None:
    plain = _pem()
    rendered = problems(snowflakePrivateKey=plain)
    assert rendered == [
        "dedicated-cmk:snowflakePrivateKey: is stored in plain text; a Snowflake credential "
        "must be a Pulumi secret\n    fix: pulumi config rm snowflakePrivateKey && pulumi "
        "config set --secret snowflakePrivateKey < <file>"
    ]
    broken = {k[len(PROJECT) + 1:]: v for k, v in config_of("snowflake").items()}
    with pytest.raises(ConfigError) as caught:
        load({**broken, "snowflakePrivateKey": "not-a-key"}, frozenset({"snowflakePrivateKey"}))
    assert [p.render() for p in caught.value.problems] == [
        "dedicated-cmk:snowflakePrivateKey: cannot be loaded (not a PEM private key); Snowflake "
        "key-pair login needs an RSA private key\n    fix: pulumi config set --secret "
        "snowflakePrivateKey < rsa_key.p8"
    ]
    assert all("not-a-key" not in p and plain[30:60] not in p for p in rendered)


def test_snowflake_gets_its_own_role_on_its_key_and_the_provider_app_nothing(
        verify: Recording) -> None:
    group = f"/subscriptions/{SUB}/resourceGroups/rg-contoso-cmk-sf"
    role = verify.get(ROLE_DEFINITION, "customer-snowflake-role")
    assert role.protect
    assert role.inputs["scope"] == group and role.inputs["assignableScopes"] == [group]
    assert role.inputs["permissions"] == [{"actions": [], "dataActions": [
        "Microsoft.KeyVault/vaults/keys/read",
        "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action",
        "Microsoft.KeyVault/vaults/keys/sign/action",
        "Microsoft.KeyVault/vaults/keys/verify/action",
    ]}]
    key = verify.get(KEY, "customer-key-cmk-snowflake")
    grant = verify.get(ROLE_ASSIGNMENT, "customer-snowflake-grant-cmk-snowflake")
    assert grant.protect
    assert {k: grant.inputs[k] for k in ("principalId", "principalType", "roleDefinitionId",
                                         "scope")} == {
        "principalId": SNOWFLAKE_SP, "principalType": "ServicePrincipal",
        "roleDefinitionId": role.id, "scope": key.id}
    # The provider app is granted on the storage key only.
    app_grants = [r for r in verify.by_type(ROLE_ASSIGNMENT) if r.inputs["principalId"] !=
                  SNOWFLAKE_SP]
    assert [(g.name, g.inputs["scope"]) for g in app_grants] == [
        ("customer-grant-cmk-shared", verify.get(KEY, "customer-key-cmk-shared").id)]


def test_snowflakes_key_may_sign_and_verify_and_says_why(verify: Recording) -> None:
    key = verify.get(KEY, "customer-key-cmk-snowflake")
    assert key.inputs["properties"]["keyOps"] == ["wrapKey", "unwrapKey", "sign", "verify"]
    assert key.inputs["tags"] == {"tri-secret-secure": "snowflake"}
    shared = verify.get(KEY, "customer-key-cmk-shared")
    assert shared.inputs["properties"]["keyOps"] == ["wrapKey", "unwrapKey"]
    assert "tags" not in shared.inputs


def test_access_policy_vaults_list_snowflake_with_exactly_its_permissions() -> None:
    rec = run_stack("snowflake", vaultPermissionModel="accessPolicy")
    entries = rec.get(VAULT, "customer-vault").inputs["properties"]["accessPolicies"]
    assert [(e["objectId"], e["permissions"]) for e in entries][1:] == [
        (SNOWFLAKE_SP, {"keys": ["get", "wrapKey", "unwrapKey", "sign", "verify"]})]
    assert rec.by_type(ROLE_DEFINITION) == []


def test_snowflake_only_stack_installs_no_access_policy_for_the_provider_app() -> None:
    rec = run_stack("snowflake", vaultPermissionModel="accessPolicy", services='["snowflake"]',
                    storageAccountName=None, keyName="cmk-snowflake", snowflakeKeyName=None)
    entries = rec.get(VAULT, "customer-vault").inputs["properties"]["accessPolicies"]
    assert [e["objectId"] for e in entries] == [SNOWFLAKE_SP]


def test_consent_url_and_principal_name_are_exported(verify: Recording) -> None:
    out = verify.stack_outputs
    assert out["snowflakeConsentUrl"].startswith(
        f"https://login.microsoftonline.com/{TENANT}/oauth2/authorize?client_id=")
    assert out["snowflakeServicePrincipalName"] == "trisec_cmk_azure"
    assert out["snowflakeGrant"]["scope"] == verify.get(KEY, "customer-key-cmk-snowflake").id
    assert "snowflake" not in out["customerGrant"]["scopes"]


def test_provider_mode_registers_the_shared_uri_with_the_customers_tenant() -> None:
    uri = "https://kv-contoso-cmk-sf.vault.azure.net/keys/cmk-snowflake"
    rec = run_stack("snowflake", mode="provider", services='["snowflake"]',
                    storageAccountName=None, snowflakeKeyUri=uri, snowflakeCustomerTenantId=TENANT,
                    snowflakePrivateLink="true")
    assert steps(rec)["register"][0] == (
        f"SELECT SYSTEM$REGISTER_CMK_INFO('{VAULT_URI}', 'cmk-snowflake', 'TRUE')")
    assert steps(rec)["config"][0] == CONFIG


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"snowflakeAccountName": "x'); SELECT SYSTEM$DEACTIVATE_CMK_INFO(); --"},
     "dedicated-cmk:snowflakeAccountName: \"x'); SELECT SYSTEM$DEACTIVATE_CMK_INFO(); --\" is "
     "not a Snowflake account name (a letter, then letters, digits or _)\n    fix: pulumi "
     "config set snowflakeAccountName myaccount"),
    ({"snowflakeKeyName": "k');--"},
     "dedicated-cmk:snowflakeKeyName: \"k');--\" is not a valid key name"),
    ({"mode": "provider", "services": '["snowflake"]', "snowflakeCustomerTenantId": TENANT,
      "storageAccountName": None,
      "snowflakeKeyUri": "https://kv.vault.azure.net/keys/a'),('b"},
     "dedicated-cmk:snowflakeKeyUri: \"https://kv.vault.azure.net/keys/a'),('b\" is not a key "
     "URI"),
    ({"mode": "provider", "services": '["snowflake"]', "storageAccountName": None,
      "snowflakeKeyUri": "https://kv-a.vault.azure.net/keys/k",
      "snowflakeCustomerTenantId": "x') --"},
     "dedicated-cmk:snowflakeCustomerTenantId: \"x') --\" is not a GUID"),
])
def test_injection_attempts_in_config_are_refused(overrides: dict[str, str | None],
                                                  expected: str) -> None:
    rendered = problems(**overrides)
    assert any(p.startswith(expected) for p in rendered), rendered


@pytest.mark.parametrize("value", ["a'b", "a\\'", "x;y", "a b", "a\nb", "é", "abc\n", "\n"])
def test_sql_literals_refuse_anything_that_could_break_out(value: str) -> None:
    with pytest.raises(sql.UnsafeSqlValueError):
        sql.literal(value)


def test_sql_builders_refuse_unchecked_values_from_other_stacks() -> None:
    forged = KeyUri(vault="kv", suffix="vault.azure.net", name="k');--", version=None)
    with pytest.raises(sql.UnsafeSqlValueError):
        sql.register_statement(forged, False)
    with pytest.raises(sql.UnsafeSqlValueError):
        sql.config_statement("8F1D2A6B-3C4E-4F50-9A61-7B8C9D0E1F21') --")
    hsm = parse_key_uri("https://pool.managedhsm.azure.net/keys/k")
    assert hsm is not None
    with pytest.raises(sql.UnsafeSqlValueError, match="managed HSM"):
        sql.register_statement(hsm, False)


def test_cmk_config_answer_is_split_as_snowflake_documents_it() -> None:
    answer = ("Consent url is: https://login.microsoftonline.com/tenantId/oauth2/authorize?"
              "client_id=c03edcfb-19f9-435f-92fa-e8ec9e24f40e&response_type=code and Snowflake "
              "Service Principal name is: trisec_cmk_azure\"")
    assert sql.parse_cmk_config(answer) == sql.CmkConfig(
        "https://login.microsoftonline.com/tenantId/oauth2/authorize?client_id="
        "c03edcfb-19f9-435f-92fa-e8ec9e24f40e&response_type=code", "trisec_cmk_azure")
    assert sql.parse_cmk_config("Verification failed") is None
    assert sql.first_value([{"cmk_config": answer}], sql.CONFIG_COLUMN) == answer
    assert sql.first_value([], sql.CONFIG_COLUMN) == ""


def test_without_a_snowflake_account_no_snowflake_key_is_created() -> None:
    rec = run_stack("dev")
    assert rec.by_type(SNOWFLAKE_EXECUTE) == []
    assert all("snowflake" not in k.inputs["keyName"] for k in rec.by_type(KEY))
    assert "snowflakeKeyUri" not in rec.stack_outputs
