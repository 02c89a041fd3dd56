"""Targets from a stack file, bad arguments and explicit credentials, all before any request."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from cmkctl.cli import main
from cmkctl.live import auth as verify_auth
from cmkctl.live import azure as live_azure
from cmkctl.live.verify import Request, run
from policies.clouds import CLOUDS
from tests.stacks import EXAMPLE_STACKS
from tests.verify.conftest import ENV, KEY_URI, PRINCIPAL, VAULT_ID, healthy_vault
from tests.verify.fake_cloud import CRYPTO_SERVICE_ENCRYPTION_USER, DAY, Cloud, Vault, now
from tests.verify.fake_provider import (
    APP_CLIENT_ID,
    PROVIDER_SUBSCRIPTION,
    disk_encryption_set,
    identity,
    sql_server,
    storage_account,
)

DEV_SUBSCRIPTION = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
DEV_VAULT = "kv-contoso-cmk-dev"
DEV_VAULT_ID = (f"/subscriptions/{DEV_SUBSCRIPTION}/resourceGroups/rg-contoso-cmk-dev/providers/"
                f"Microsoft.KeyVault/vaults/{DEV_VAULT}")
REPO = Path(__file__).resolve().parents[2]


def call(connector: Any, environ: dict[str, str] | None = None,
         **fields: Any) -> tuple[int, str, str]:
    request = Request(**{"stack": None, "key_uri": None, "format": "json", **fields})
    out, err = io.StringIO(), io.StringIO()
    code = run(request, stdout=out, stderr=err,
               environ=ENV if environ is None else environ,
               connector=connector)
    return code, out.getvalue(), err.getvalue()


def dev_cloud(cloud: Cloud) -> list[str]:
    """The dev stack's vault and both keys, locked and granted; returns the key ids."""
    dev = healthy_vault(DEV_VAULT, DEV_SUBSCRIPTION, "rg-contoso-cmk-dev", "cmk-shared")
    dev.keys["cmk-disk"] = healthy_vault(key="cmk-disk").keys["cmk-disk"]
    cloud.vaults = {DEV_VAULT: dev}
    key_ids = [f"{DEV_VAULT_ID}/keys/{k}" for k in ("cmk-shared", "cmk-disk")]
    cloud.locks = [{"scope": s, "name": "no-delete", "level": "CanNotDelete"}
                   for s in (DEV_VAULT_ID, *key_ids)]
    cloud.assignments = [{"scope": s, "principal": PRINCIPAL,
                          "role": CRYPTO_SERVICE_ENCRYPTION_USER} for s in key_ids]
    dev_stores(cloud, dev)
    return key_ids


def dev_stores(cloud: Cloud, dev: Vault) -> None:
    """The dev stack's provider side as deployed: every store on the stack's keys, following
    new versions, through its identity and the app (Pulumi.dev.yaml names them)."""
    group, identity_id = "rg-saas-contoso-dev", (
        f"/subscriptions/{PROVIDER_SUBSCRIPTION}/resourceGroups/rg-saas-contoso-dev/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-contoso-cmk-dev")
    shared = dev.keys["cmk-shared"].versions[-1].version
    disk = dev.keys["cmk-disk"].versions[-1].version
    url = f"https://{DEV_VAULT}.vault.azure.net"
    cloud.resources.update(identity("id-contoso-cmk-dev", group))
    cloud.resources.update(storage_account("stcontosocmkdev", url, "cmk-shared", current=shared,
                                           identity_id=identity_id, group=group))
    cloud.resources.update(sql_server("sql-contoso-cmk-dev", DEV_VAULT, "cmk-shared", shared,
                                      created=now() - 30 * DAY, identity_id=identity_id,
                                      group=group))
    cloud.resources.update(disk_encryption_set("des-contoso-cmk-dev", DEV_VAULT, "cmk-disk", disk,
                                               identity_id=identity_id, group=group))


def test_stack_dev_verifies_the_vault_and_every_key_of_the_stack(connector: Any,
                                                                 cloud: Cloud) -> None:
    dev_cloud(cloud)
    code, out, err = call(connector, stack="dev", principal_object_id=PRINCIPAL,
                          app_client_id=APP_CLIENT_ID)
    report = json.loads(out)
    assert (code, err) == (0, "")
    assert report["target"]["vault id"] == DEV_VAULT_ID
    assert report["target"]["provider credential"] == "the same identity"
    assert {c["id"].split(".")[0] for c in report["checks"]} == {
        "vault", "grant", "key[cmk-shared]", "key[cmk-disk]", "provider",
        "store[storage:stcontosocmkdev]", "store[sql:sql-contoso-cmk-dev]",
        "store[disk:des-contoso-cmk-dev]"}


def test_each_key_needs_its_own_grant(connector: Any, cloud: Cloud) -> None:
    shared, disk = dev_cloud(cloud)
    cloud.assignments = [a for a in cloud.assignments if a["scope"] == shared]
    code, out, _ = call(connector, stack="dev", principal_object_id=PRINCIPAL)
    grant = next(c for c in json.loads(out)["checks"] if c["id"] == "grant.crypto")
    assert (code, grant["status"]) == (1, "fail")
    assert grant["reason"] == (
        "key cmk-disk: no role assignment: missing Microsoft.KeyVault/vaults/keys/read, "
        "Microsoft.KeyVault/vaults/keys/wrap/action, Microsoft.KeyVault/vaults/keys/unwrap/action")
    assert grant["fix"].endswith(f"--scope {disk}")


def test_provider_stack_reads_the_shared_key_uris(connector: Any, cloud: Cloud) -> None:
    prod = healthy_vault("kv-contoso-cmk-prod", key="cmk-shared")
    prod.keys["cmk-shared"].versions[-1].version = "e9dbbb07559367c96169bcff3efd2445"
    cloud.vaults = {"kv-contoso-cmk-prod": prod}
    code, out, _ = call(connector, stack="provider")
    checks = {c["id"]: c["status"] for c in json.loads(out)["checks"]}
    assert code == 1  # no --vault-id: the vault, lock and grant checks cannot run
    assert {k for k, v in checks.items() if v == "pass"} == {
        f"key[cmk-shared].{name}" for name in (
            "exists", "enabled", "not-expired", "active", "type-size", "operations",
            "previous-version", "rotation-policy", "round-trip", "local-wrap")}


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "cmkctl verify: pass exactly one of --stack S or --key-uri URI\n"),
    ({"stack": "dev", "key_uri": KEY_URI},
     "cmkctl verify: pass exactly one of --stack S or --key-uri URI\n"),
    ({"key_uri": "https://example.com/keys/cmk"},
     "cmkctl verify: --key-uri: 'https://example.com/keys/cmk' is not a key URI; expected "
     "https://<vault>.vault.azure.net/keys/<name>[/<32-hex version>] (or the "
     "usgovcloudapi.net, azure.cn or managedhsm.* forms)\n"),
    ({"key_uri": KEY_URI, "vault_id": "kvcustomer1"},
     "cmkctl verify: --vault-id 'kvcustomer1' is not a vault id; expected /subscriptions/<guid>/"
     "resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name> (az keyvault show "
     "--name <vault> --query id -o tsv)\n"),
    ({"key_uri": KEY_URI, "vault_id": VAULT_ID.replace("kvcustomer1", "kvother")},
     "cmkctl verify: --vault-id names vault 'kvother' but the key URI is in vault "
     "'kvcustomer1'; pass the id of the key's own vault\n"),
    ({"key_uri": KEY_URI, "principal_object_id": "my-app"},
     "cmkctl verify: --principal-object-id 'my-app' is not a GUID; use the object id of the "
     "provider app's service principal: az ad sp show --id <app client id> --query id -o tsv\n"),
    ({"stack": "nosuch"}, "cmkctl verify: no stack file Pulumi.nosuch.yaml in "),
    ({"stack": "dev", "key_sizes": (4096,)},
     "cmkctl verify: --key-size applies to --key-uri; with --stack the sizes come from the "
     "stack's keySize and services\n"),
])
def test_bad_arguments_exit_2_before_any_request(connector: Any, cloud: Cloud,
                                                 fields: dict[str, Any], message: str) -> None:
    code, out, err = call(connector, **fields)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert cloud.requests == []


def test_invalid_stack_config_is_reported_with_its_key(connector: Any, tmp_path: Path) -> None:
    (tmp_path / "Pulumi.broken.yaml").write_text(
        "config:\n  dedicated-cmk:mode: customer\n  dedicated-cmk:vaultRetentionDays: 3\n")
    request = Request(stack="broken", key_uri=None)
    err = io.StringIO()
    code = run(request, stdout=io.StringIO(), stderr=err, environ={"CMKCTL_AUTH": "cli"},
               connector=connector, root=tmp_path)
    assert code == 2
    assert err.getvalue().startswith("cmkctl verify: stack 'broken': invalid stack configuration")
    assert "dedicated-cmk:vaultRetentionDays: 3 is outside the allowed range 7-90" in err.getvalue()


@pytest.mark.parametrize(("environ", "message"), [
    ({}, "no credential chosen: pass --auth env|cli|oidc|managed-identity (or set CMKCTL_AUTH); "
         "nothing was sent"),
    ({"CMKCTL_AUTH": "default"}, "CMKCTL_AUTH='default' is not one of env, cli, oidc, "
                                 "managed-identity"),
    ({"CMKCTL_AUTH": "env", "AZURE_TENANT_ID": "t"},
     "--auth env: set AZURE_CLIENT_ID, AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; "
     "nothing was sent"),
    ({"CMKCTL_AUTH": "env", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c",
      "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent/cert.pem"},
     "--auth env: AZURE_CLIENT_CERTIFICATE_PATH=/nonexistent/cert.pem is not a file; nothing "
     "was sent"),
    ({"CMKCTL_AUTH": "cli", "PATH": ""},
     "--auth cli: the Azure CLI (az) is not on PATH; install it and run `az login`; nothing "
     "was sent"),
    ({"CMKCTL_AUTH": "oidc", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"},
     "--auth oidc: set AZURE_FEDERATED_TOKEN_FILE; nothing was sent"),
    ({"CMKCTL_AUTH": "oidc", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c",
      "AZURE_FEDERATED_TOKEN_FILE": "/nonexistent/token"},
     "--auth oidc: AZURE_FEDERATED_TOKEN_FILE=/nonexistent/token is not a file; nothing was sent"),
])
def test_no_configured_credential_exits_2_before_any_request(
        connector: Any, cloud: Cloud, environ: dict[str, str], message: str) -> None:
    code, out, err = call(connector, environ, key_uri=KEY_URI)
    assert (code, out, err) == (2, "", f"cmkctl verify: {message}\n")
    assert cloud.requests == []


def test_cli_without_auth_builds_no_credential(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMKCTL_AUTH", raising=False)
    built: list[str] = []
    monkeypatch.setattr(verify_auth, "credential",
                        lambda kind, environ=None, authority="": built.append(kind))
    assert main(["verify", "--key-uri", KEY_URI]) == 2
    assert built == []
    assert "no credential chosen" in capsys.readouterr().err


@pytest.mark.parametrize(("suffix", "authority", "arm"), [
    ("vault.azure.net", "login.microsoftonline.com", "https://management.azure.com"),
    ("vault.usgovcloudapi.net", "login.microsoftonline.us", "https://management.usgovcloudapi.net"),
    ("vault.azure.cn", "login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
])
def test_each_cloud_signs_in_at_its_authority_and_manages_through_its_arm(
        monkeypatch: pytest.MonkeyPatch, suffix: str, authority: str, arm: str) -> None:
    built: list[tuple[str, str]] = []
    monkeypatch.setattr(verify_auth, "credential",
                        lambda kind, environ, authority: built.append((kind, authority)))
    azure = live_azure.connect("env", suffix, {})
    assert (built, azure.arm) == ([("env", authority)], arm)


def test_the_authority_hosts_are_azure_identitys() -> None:
    from azure.identity import AzureAuthorityHosts  # noqa: PLC0415

    assert {c.name: c.authority_host for c in CLOUDS.values()} == {
        "public": AzureAuthorityHosts.AZURE_PUBLIC_CLOUD,
        "usgovernment": AzureAuthorityHosts.AZURE_GOVERNMENT,
        "china": AzureAuthorityHosts.AZURE_CHINA}


def test_auth_flag_overrides_the_variable() -> None:
    assert verify_auth.choose("oidc", {"CMKCTL_AUTH": "cli", "AZURE_TENANT_ID": "t",
                                       "AZURE_CLIENT_ID": "c",
                                       "AZURE_FEDERATED_TOKEN_FILE": __file__}) == "oidc"


def test_each_type_builds_only_its_own_credential(tmp_path: Path) -> None:
    from azure.identity import ClientSecretCredential, WorkloadIdentityCredential  # noqa: PLC0415

    token = tmp_path / "token"
    token.write_text("header.payload.signature")
    environ = {"AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
               "AZURE_CLIENT_ID": "0b1c2d3e-4f50-4a61-8b72-9c8d0e1f2a3b",
               "AZURE_FEDERATED_TOKEN_FILE": str(token)}
    assert isinstance(verify_auth.credential("oidc", environ), WorkloadIdentityCredential)
    environ["AZURE_CLIENT_SECRET"] = "not-a-real-secret"
    assert isinstance(verify_auth.credential("env", environ), ClientSecretCredential)


def _provider_stack_referencing(tmp_path: Path, reference: str) -> None:
    lines = [line for line in (REPO / "Pulumi.provider.yaml").read_text().splitlines()
             if "KeyUri:" not in line]
    lines.append(f"  dedicated-cmk:customerStack: {reference}")
    (tmp_path / "Pulumi.prov.yaml").write_text("\n".join(lines) + "\n")


def test_provider_stack_follows_its_customer_stack_reference(connector: Any, cloud: Cloud,
                                                             tmp_path: Path) -> None:
    _provider_stack_referencing(tmp_path, "acme/dedicated-cmk/cust")
    (tmp_path / "Pulumi.cust.yaml").write_text((REPO / "Pulumi.customer.yaml").read_text())
    err = io.StringIO()
    code = run(Request(stack="prov", key_uri=None, format="json"), stdout=(out := io.StringIO()),
               stderr=err, environ=ENV, connector=connector,
               root=tmp_path)
    target = json.loads(out.getvalue())["target"]
    assert code == 1  # the fake has no such vault; the target is what matters here
    assert target["vault id"] == (f"/subscriptions/{DEV_SUBSCRIPTION}/resourceGroups/"
                                  "rg-contoso-cmk-prod/providers/Microsoft.KeyVault/vaults/"
                                  "kv-contoso-cmk-prod")
    assert [k for k in target if k.startswith("key ")] == ["key cmk-shared", "key cmk-disk"]


@pytest.mark.parametrize(("reference", "message"), [
    ("acme/dedicated-cmk/missing", "stack 'prov' takes its key URIs from customerStack "
                                   "'acme/dedicated-cmk/missing', which has no local "
                                   "Pulumi.missing.yaml; pass --key-uri (and --vault-id) instead"),
    ("acme/dedicated-cmk/prov", "stack 'prov' is referenced as a customerStack but is not a "
                                "customer-side stack; pass --key-uri (and --vault-id) instead"),
])
def test_unusable_customer_stack_reference(connector: Any, cloud: Cloud, tmp_path: Path,
                                           reference: str, message: str) -> None:
    _provider_stack_referencing(tmp_path, reference)
    err = io.StringIO()
    code = run(Request(stack="prov", key_uri=None), stdout=io.StringIO(), stderr=err,
               environ=ENV, connector=connector, root=tmp_path)
    assert (code, err.getvalue()) == (2, f"cmkctl verify: {message}\n")
    assert cloud.requests == []


def test_the_loopback_guard_refuses_any_other_address() -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as sock, pytest.raises(AssertionError, match=r"169\.254\.169\.254"):
        sock.connect(("169.254.169.254", 80))  # the instance-metadata address, never reached


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_example_stack_gives_a_target_or_one_clear_error(stack: str) -> None:
    from cmkctl.live.target import TargetError, from_stack  # noqa: PLC0415

    try:
        target = from_stack(stack, None, None, REPO)
    except TargetError as error:
        assert str(error).startswith(f"stack {stack!r} ")
        return
    assert target.keys
    assert all(key.uri.vault == target.vault_name and key.sizes for key in target.keys)


def test_organisation_key_stack_verifies_its_key() -> None:
    from cmkctl.live.target import from_stack  # noqa: PLC0415
    from cmkctl.plan.recorder import stack_config  # noqa: PLC0415

    config = stack_config("org", REPO)
    target = from_stack("org", None, None, REPO)
    vault, key = config["dedicated-cmk:vaultName"], config["dedicated-cmk:keyName"]
    assert target.vault is not None and target.vault.name == vault
    assert [str(k.uri) for k in target.keys] == [f"https://{vault}.vault.azure.net/keys/{key}"]


def test_government_stack_verifies_its_vault_in_the_government_cloud() -> None:
    from cmkctl.live.target import from_stack  # noqa: PLC0415

    target = from_stack("govcustomer", None, None, REPO)
    assert sorted(str(k.uri) for k in target.keys) == [
        "https://kv-fabrikam-cmk-gov.vault.usgovcloudapi.net/keys/cmk-disk",
        "https://kv-fabrikam-cmk-gov.vault.usgovcloudapi.net/keys/cmk-shared"]
    assert target.suffix == "vault.usgovcloudapi.net"
