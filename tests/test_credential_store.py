"""The credential store: guarded vault, a certificate-only app, secret get only, secrets secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from cmkctl.plan.digest import preview_digest
from cmkctl.plan.recorder import Recording, Secret
from components.config.problems import ConfigError
from components.config.stack import load
from components.setups.credential_store import KEY_VAULT_SECRETS_USER
from policies.resource_types import APPLICATION, LOCK, ROLE_ASSIGNMENT, SERVICE_PRINCIPAL, VAULT
from tests.setup_stacks import SECRETS, make_certificate, run_with_secrets
from tests.stacks import config_of, run_stack

TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
SUB = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
SECRET = "azure-native:keyvault:Secret"
EXAMPLE_CERT = Path(__file__).resolve().parent.parent / "certs" / "example-azure-cert.cer"


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("credstore")


def test_app_is_single_tenant_with_the_public_certificate_only(rec: Recording) -> None:
    app = rec.get(APPLICATION, "credential-store-app")
    assert app.inputs == {
        "displayName": "contoso-process-mining-credential-store",
        "signInAudience": "AzureADMyOrg",
        "description": "Reads the process-mining credential store (secret get only)",
        "preventDuplicateNames": True,
    }
    cert = x509.load_der_x509_certificate(EXAMPLE_CERT.read_bytes())
    credential = rec.get(CERTIFICATE, "credential-store-certificate")
    assert credential.inputs == {
        "applicationId": app.id,
        "type": "AsymmetricX509Cert",
        "encoding": "pem",
        "value": credential.inputs["value"],
        "startDate": f"{cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}",
        "endDate": f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}",
    }
    # The provider marks the value secret; it is the public certificate all the same.
    assert isinstance(credential.inputs["value"], Secret)
    uploaded = credential.inputs["value"].value
    assert x509.load_pem_x509_certificate(uploaded.encode()) == cert
    assert "PRIVATE KEY" not in uploaded
    principal = rec.get(SERVICE_PRINCIPAL, "credential-store-sp")
    assert principal.inputs == {"clientId": app.outputs["clientId"]}


def test_vault_has_the_cmk_vault_guards(rec: Recording) -> None:
    vault = rec.get(VAULT, "credential-store-vault")
    assert vault.inputs["vaultName"] == "kv-contoso-credstore"
    props = vault.inputs["properties"]
    assert (props["enableSoftDelete"], props["enablePurgeProtection"],
            props["softDeleteRetentionInDays"], props["enableRbacAuthorization"]) == (
        True, True, 90, True)
    assert props["accessPolicies"] == []
    assert props["networkAcls"] == {"defaultAction": "Deny", "bypass": "AzureServices",
                                    "ipRules": [{"value": "203.0.113.0/24"}],
                                    "virtualNetworkRules": []}
    [lock] = rec.by_type(LOCK)
    assert (lock.inputs["scope"], lock.inputs["level"]) == (vault.id, "CanNotDelete")


def test_rbac_grants_secrets_user_on_the_vault_only(rec: Recording) -> None:
    [grant] = rec.by_type(ROLE_ASSIGNMENT)
    assert grant.inputs == {
        "principalId": rec.get(SERVICE_PRINCIPAL, "credential-store-sp").outputs["objectId"],
        "principalType": "ServicePrincipal",
        "roleDefinitionId": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/"
                            f"roleDefinitions/{KEY_VAULT_SECRETS_USER}",
        "scope": rec.get(VAULT, "credential-store-vault").id,
        "description": "Process-mining server: read secrets of this vault only",
    }


def test_access_policy_mode_grants_secret_get_and_nothing_else() -> None:
    rec = run_stack("credstore", vaultPermissionModel="accessPolicy")
    principal = rec.get(SERVICE_PRINCIPAL, "credential-store-sp")
    assert rec.get(VAULT, "credential-store-vault").inputs["properties"]["accessPolicies"] == [
        {"tenantId": TENANT, "objectId": principal.outputs["objectId"],
         "permissions": {"secrets": ["get"]}}]
    assert rec.by_type(ROLE_ASSIGNMENT) == []


def test_vault_and_guards_are_protected_and_the_app_can_be_rotated(rec: Recording) -> None:
    protected = {r.name for r in rec.resources if r.protect}
    assert protected == {"credential-store-rg", "credential-store-vault",
                         "credential-store-vault-lock", "credential-store-secrets-reader"}


def test_settings_block_is_valid_json_with_the_documented_fields(rec: Recording) -> None:
    out = rec.stack_outputs
    app = rec.get(APPLICATION, "credential-store-app")
    assert json.loads(out["credentialStoreSettings"]) == {"CredentialStore": {
        "Type": "AzureKeyVault",
        "TenantId": TENANT,
        "ClientId": app.outputs["clientId"],
        "VaultName": "kv-contoso-credstore",
        "CertificateFile": "/opt/processmining/my-certificate.pem",
    }}
    cert = x509.load_der_x509_certificate(EXAMPLE_CERT.read_bytes())
    assert out["certificateEndDate"] == f"{cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    assert out["certificateThumbprint"] == cert.fingerprint(hashes.SHA1()).hex().upper()
    assert out["secretIdentifiers"] == []


def test_secrets_are_created_as_pulumi_secrets_and_never_printed() -> None:
    rec = run_with_secrets("credstore")
    secrets = {s.inputs["secretName"]: s for s in rec.by_type(SECRET)}
    assert sorted(secrets) == ["DbPassword", "SmtpPassword"]
    vault = rec.get(VAULT, "credential-store-vault")
    for name, secret in secrets.items():
        assert secret.inputs["vaultName"] == "kv-contoso-credstore"
        assert secret.inputs["resourceGroupName"] == "rg-contoso-credstore"
        # The secret value makes the whole properties object secret in the plan.
        properties = secret.inputs["properties"]
        assert isinstance(properties, Secret)
        assert properties.value == {"value": SECRETS[name], "attributes": {"enabled": True}}
        assert secret.id == f"{vault.id}/secrets/{name}"
        assert "value" not in secret.outputs["properties"]
    assert rec.stack_outputs["secretIdentifiers"] == ["DbPassword", "SmtpPassword"]
    document = json.dumps(preview_digest(rec))
    assert [v for v in SECRETS.values() if v in document] == []
    assert json.loads(document)["config"]["dedicated-cmk:credentialSecrets"] == "[secret]"


def test_plain_text_secrets_are_refused_without_echoing_them() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    raw["credentialSecrets"] = json.dumps(SECRETS)
    with pytest.raises(ConfigError) as caught:
        load(raw)
    rendered = caught.value.render()
    assert [p.key for p in caught.value.problems] == ["credentialSecrets"]
    assert "is stored in plain text" in rendered
    assert [v for v in SECRETS.values() if v in rendered] == []


def test_malformed_secret_json_is_refused_without_echoing_it() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    raw["credentialSecrets"] = '{"DbPassword": 42, "x": "s3cr3t-Pa55word-never-printed"'
    with pytest.raises(ConfigError) as caught:
        load(raw, frozenset({"credentialSecrets"}))
    [problem] = caught.value.problems
    assert problem.problem == ("is not a JSON object of identifier -> non-empty string value "
                               "(value not shown: it is secret)")
    assert "s3cr3t" not in caught.value.render()


def test_bad_secret_identifier_is_named() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    raw["credentialSecrets"] = json.dumps({"db_password": "x"})
    with pytest.raises(ConfigError) as caught:
        load(raw, frozenset({"credentialSecrets"}))
    assert [p.problem for p in caught.value.problems] == [
        "'db_password' is not a valid secret name (1-127 letters, digits and hyphens)"]


def test_a_private_key_file_is_refused(tmp_path: Path) -> None:
    written = make_certificate(tmp_path)
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    raw["appCertificateFile"] = str(written.server_file)
    with pytest.raises(ConfigError) as caught:
        load(raw)
    assert [p.problem for p in caught.value.problems] == [
        f"{str(written.server_file)!r} contains a private key; give the certificate-only file "
        "(azure-cert.cer or the certificate-only PEM): the private key stays on the server"]


def test_certificate_pem_and_der_files_give_the_same_credential(tmp_path: Path) -> None:
    written = make_certificate(tmp_path)
    runs = [run_stack("credstore", appCertificateFile=str(path))
            for path in (written.upload_der, written.upload_pem)]
    values = [r.get(CERTIFICATE, "credential-store-certificate").inputs for r in runs]
    assert [{**v, "value": v["value"].value} for v in values] == [
        {**values[0], "value": values[0]["value"].value}] * 2


def test_missing_unreadable_and_non_certificate_files_are_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.cer"
    junk.write_bytes(b"not a certificate")
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    for path, problem in (
        (str(tmp_path / "absent.cer"), f"{str(tmp_path / 'absent.cer')!r} is not a regular file"),
        ("/dev/zero", "'/dev/zero' is not a regular file"),
        (str(tmp_path), f"{str(tmp_path)!r} is not a regular file"),
        (str(junk), f"{str(junk)!r} is not an X.509 certificate in PEM or DER form"),
    ):
        with pytest.raises(ConfigError) as caught:
            load({**raw, "appCertificateFile": path})
        assert [p.problem for p in caught.value.problems] == [problem]


def test_keys_of_other_setups_are_named_as_such() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    with pytest.raises(ConfigError) as caught:
        # Values other than the defaults: the CLI passes defaults to every stack.
        load({**raw, "mode": "customer", "keyName": "cmk-x",
              "organizationKeyAccess": "certificate"})
    assert [(p.key, p.problem) for p in caught.value.problems] == [
        ("keyName", "has no effect in this stack (setup credentialStore): it is a key of setup "
                    "crossTenantCmk, organizationKey"),
        ("mode", "has no effect in this stack (setup credentialStore): it is a key of setup "
                 "crossTenantCmk"),
        ("organizationKeyAccess", "has no effect in this stack (setup credentialStore): it is "
                                  "a key of setup organizationKey"),
    ]


def test_a_cross_tenant_stack_refuses_keys_of_the_other_setups() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in config_of("dev").items()}
    with pytest.raises(ConfigError) as caught:
        load({**raw, "appCertificateFile": "certs/example-azure-cert.cer"})
    assert [p.render() for p in caught.value.problems] == [
        "dedicated-cmk:appCertificateFile: has no effect in this stack (setup crossTenantCmk): "
        "it is a key of setup credentialStore, organizationKey\n"
        "    fix: pulumi config rm appCertificateFile"]


def test_an_unknown_setup_is_named() -> None:
    raw = {k.split(":", 1)[1]: v for k, v in config_of("credstore").items()}
    with pytest.raises(ConfigError) as caught:
        load({**raw, "setup": "vault"})
    assert [p.render() for p in caught.value.problems] == [
        "dedicated-cmk:setup: 'vault' is not one of crossTenantCmk, credentialStore, "
        "organizationKey\n    fix: pulumi config set setup crossTenantCmk"]


def test_certificate_file_is_required() -> None:
    raw = {k.split(":", 1)[1]: v
           for k, v in config_of("credstore", appCertificateFile=None).items()}
    with pytest.raises(ConfigError) as caught:
        load(raw)
    assert [p.render() for p in caught.value.problems] == [
        "dedicated-cmk:appCertificateFile: is required but not set (the app signs in with it)\n"
        "    fix: pulumi config set appCertificateFile certs/azure-cert.cer"]
