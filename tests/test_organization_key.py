"""The organisation-level key: guarded vault and KEK, and the KMS principal's wrap/unwrap grant."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from cmkctl.plan.digest import preview_digest
from cmkctl.plan.recorder import Recording, Secret
from components.config.problems import ConfigError
from components.config.stack import load
from components.customer.grant_terms import CRYPTO_SERVICE_ENCRYPTION_USER
from policies.resource_types import (
    APPLICATION,
    APPLICATION_PASSWORD,
    KEY,
    LOCK,
    ROLE_ASSIGNMENT,
    SERVICE_PRINCIPAL,
    VAULT,
)
from tests.setup_stacks import make_certificate
from tests.stacks import config_of, run_stack

TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
SUB = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
KMS_APP = "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a"
CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
SECRET_END = (date.today() + timedelta(days=400)).isoformat()
"""A client-secret end date well outside the expiry rule's window, whenever the tests run."""
VERSIONED = re.compile(r"^https://kv-contoso-org-cmk\.vault\.azure\.net/keys/org-kek/[0-9a-f]{32}$")


def own_app(**overrides: str | None) -> Recording:
    return run_stack("org", providerAppClientId=None, **overrides)


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("org")


def test_consent_installs_the_providers_app_and_creates_no_credential(rec: Recording) -> None:
    principal = rec.get(SERVICE_PRINCIPAL, "organization-key-kms-sp")
    assert principal.inputs == {"clientId": KMS_APP, "useExisting": True}
    assert principal.retain_on_delete and not principal.protect
    assert rec.by_type(APPLICATION) == [] and rec.by_type(APPLICATION_PASSWORD) == []
    assert rec.by_type(CERTIFICATE) == []


def test_key_is_a_guarded_wrap_unwrap_rsa_key_with_rotation(rec: Recording) -> None:
    [key] = rec.by_type(KEY)
    assert key.inputs["keyName"] == "org-kek"
    assert key.inputs["vaultName"] == "kv-contoso-org-cmk"
    props = key.inputs["properties"]
    assert (props["kty"], props["keySize"], props["keyOps"]) == ("RSA", 2048,
                                                                 ["wrapKey", "unwrapKey"])
    assert props["attributes"]["expires"] == 1859155200  # 2028-11-30T00:00:00Z
    assert props["rotationPolicy"]["lifetimeActions"][0] == {
        "trigger": {"timeAfterCreate": "P180D"}, "action": {"type": "rotate"}}
    vault = rec.get(VAULT, "organization-key-vault")
    assert vault.inputs["properties"]["enablePurgeProtection"] is True
    assert vault.inputs["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert sorted(lock.inputs["scope"] for lock in rec.by_type(LOCK)) == sorted([vault.id, key.id])


def test_grant_is_crypto_service_encryption_user_on_the_key(rec: Recording) -> None:
    [grant] = rec.by_type(ROLE_ASSIGNMENT)
    assert grant.inputs == {
        "principalId": rec.get(SERVICE_PRINCIPAL, "organization-key-kms-sp").outputs["objectId"],
        "principalType": "ServicePrincipal",
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                            f"roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}",
        "scope": rec.by_type(KEY)[0].id,
        "description": "Provider KMS: wrap and unwrap with this key only",
    }


def test_key_material_is_protected(rec: Recording) -> None:
    assert {r.name for r in rec.resources if r.protect} == {
        "organization-key-rg", "organization-key-vault", "organization-key-vault-lock",
        "organization-key-key-org-kek", "organization-key-key-org-kek-lock",
        "organization-key-grant-org-kek"}


def test_outputs_give_both_key_uris_and_the_access_method(rec: Recording) -> None:
    out = rec.stack_outputs
    assert VERSIONED.match(out["keyUri"])
    assert out["keyUriVersionless"] == "https://kv-contoso-org-cmk.vault.azure.net/keys/org-kek"
    assert out["keyUri"].startswith(out["keyUriVersionless"] + "/")
    assert out["kmsAccess"] == {
        "method": "consent", "tenantId": TENANT,
        "principalObjectId": rec.get(SERVICE_PRINCIPAL, "organization-key-kms-sp").outputs[
            "objectId"]}
    assert "appCredentialEndDate" not in out and "appClientSecret" not in out


def test_client_secret_app_is_single_tenant_with_an_end_date_and_a_secret_output() -> None:
    rec = own_app(organizationKeyAccess="clientSecret", appSecretEndDate=SECRET_END)
    app = rec.get(APPLICATION, "organization-key-app")
    assert app.inputs["signInAudience"] == "AzureADMyOrg"
    assert app.inputs["displayName"] == "org-cmk-kms-access"
    password = rec.get(APPLICATION_PASSWORD, "organization-key-secret")
    assert password.inputs == {"applicationId": app.id,
                               "displayName": f"org-cmk-kms-access until {SECRET_END}",
                               "endDate": f"{SECRET_END}T00:00:00Z"}
    assert isinstance(password.outputs["value"], Secret)
    principal = rec.get(SERVICE_PRINCIPAL, "organization-key-sp")
    assert principal.inputs == {"clientId": app.outputs["clientId"]}
    [grant] = rec.by_type(ROLE_ASSIGNMENT)
    assert grant.inputs["principalId"] == principal.outputs["objectId"]
    out = rec.stack_outputs
    assert isinstance(out["appClientSecret"], Secret)
    assert out["appCredentialEndDate"] == f"{SECRET_END}T00:00:00Z"
    assert out["kmsAccess"]["clientId"] == app.outputs["clientId"]
    document = json.dumps(preview_digest(rec))
    assert password.outputs["value"].value not in document
    assert json.loads(document)["steps"][0]["newState"]["outputs"]["appClientSecret"] == (
        "[secret]")


def test_certificate_app_uploads_the_certificate_until_it_expires(tmp_path: Path) -> None:
    written = make_certificate(tmp_path, days=400)
    rec = own_app(organizationKeyAccess="certificate",
                  appCertificateFile=str(written.upload_der))
    credential = rec.get(CERTIFICATE, "organization-key-certificate")
    cert = x509.load_der_x509_certificate(written.upload_der.read_bytes())
    end = f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    assert credential.inputs["endDate"] == end
    assert credential.inputs["applicationId"] == rec.get(APPLICATION, "organization-key-app").id
    assert rec.stack_outputs["appCredentialEndDate"] == end
    assert "appClientSecret" not in rec.stack_outputs
    assert rec.by_type(APPLICATION_PASSWORD) == []


def test_access_policy_mode_grants_get_wrap_unwrap_on_keys_only() -> None:
    rec = run_stack("org", vaultPermissionModel="accessPolicy")
    principal = rec.get(SERVICE_PRINCIPAL, "organization-key-kms-sp")
    assert rec.get(VAULT, "organization-key-vault").inputs["properties"]["accessPolicies"] == [
        {"tenantId": TENANT, "objectId": principal.outputs["objectId"],
         "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}]
    assert rec.by_type(ROLE_ASSIGNMENT) == []


def raw(**overrides: str | None) -> dict[str, str]:
    return {k.split(":", 1)[1]: v for k, v in config_of("org", **overrides).items()}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"providerAppClientId": None},
     ["dedicated-cmk:providerAppClientId: is required but not set (consent installs the "
      "provider's multitenant app)\n    fix: pulumi config set providerAppClientId <client id "
      "of the provider's KMS app>"]),
    ({"organizationKeyAccess": "clientSecret"},
     ["dedicated-cmk:providerAppClientId: is set but organizationKeyAccess is clientSecret: the "
      "organisation's own app is used, not the provider's\n    fix: pulumi config rm "
      "providerAppClientId",
      "dedicated-cmk:appSecretEndDate: is required but not set (a client secret must have an "
      "end date)\n    fix: pulumi config set appSecretEndDate <YYYY-MM-DD>"]),
    ({"providerAppClientId": None, "organizationKeyAccess": "clientSecret",
      "appSecretEndDate": "2020-01-01"},
     ["dedicated-cmk:appSecretEndDate: '2020-01-01' is not in the future\n    fix: pulumi "
      "config set appSecretEndDate <YYYY-MM-DD>"]),
    ({"appSecretEndDate": SECRET_END},
     ["dedicated-cmk:appSecretEndDate: only applies with organizationKeyAccess clientSecret or "
      "certificate\n    fix: pulumi config rm appSecretEndDate"]),
    ({"providerAppClientId": None, "organizationKeyAccess": "certificate",
      "appSecretEndDate": SECRET_END},
     ["dedicated-cmk:appSecretEndDate: only applies with organizationKeyAccess clientSecret\n"
      "    fix: pulumi config rm appSecretEndDate",
      "dedicated-cmk:appCertificateFile: is required but not set (organizationKeyAccess "
      "certificate)\n    fix: pulumi config set appCertificateFile certs/azure-cert.cer"]),
    ({"organizationKeyAccess": "password"},
     ["dedicated-cmk:organizationKeyAccess: 'password' is not one of consent, clientSecret, "
      "certificate\n    fix: pulumi config set organizationKeyAccess consent"]),
])
def test_bad_access_settings_are_named(overrides: dict[str, str | None],
                                       expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load(raw(**overrides))
    assert [p.render() for p in caught.value.problems] == expected


def _findings(rec: Recording) -> set[tuple[str, str, str]]:
    from tests.policies.cmk_plan_fixtures import results  # noqa: PLC0415 - the pack is heavy

    return {(r.policy, r.level.value, r.urn.rsplit("::", 1)[-1])
            for r in results(preview_digest(rec))}


def test_own_app_stacks_pass_the_pack_with_only_the_credential_advisories(
        tmp_path: Path) -> None:
    secret = own_app(organizationKeyAccess="clientSecret", appSecretEndDate=SECRET_END)
    assert _findings(secret) == {("app-client-secret", "advisory", "organization-key-secret")}
    soon = own_app(organizationKeyAccess="certificate",
                   appCertificateFile=str(make_certificate(tmp_path, days=10).upload_der))
    assert _findings(soon) == {
        ("app-credential-expiry", "advisory", "organization-key-certificate")}
