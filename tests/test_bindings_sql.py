"""The SQL server's TDE protector is the customer's key, added as a versioned server key."""

from __future__ import annotations

import pytest

from cmkctl.plan.recorder import Recording
from policies.resource_types import APPLICATION as APP
from policies.resource_types import FEDERATED_CREDENTIAL as FIC
from policies.resource_types import KEY, SLEEP
from policies.resource_types import ROLE_ASSIGNMENT as GRANT
from policies.resource_types import SQL_ENCRYPTION_PROTECTOR as PROTECTOR
from policies.resource_types import SQL_SERVER as SERVER
from policies.resource_types import SQL_SERVER_KEY as SERVER_KEY
from policies.resource_types import USER_ASSIGNED_IDENTITY as UAMI
from tests.stacks import run_stack

PROVIDER_TENANT = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("dev")


def test_server_runs_as_the_identity_with_the_app_and_an_entra_only_admin(rec: Recording) -> None:
    identity = rec.get(UAMI, "provider-identity").id
    server = rec.get(SERVER, "sql-server")
    assert server.inputs == {
        "serverName": "sql-contoso-cmk-dev",
        "resourceGroupName": "rg-saas-contoso-dev",
        "location": "westeurope",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [identity]},
        "primaryUserAssignedIdentityId": identity,
        "federatedClientId": rec.get(APP, "provider-app").outputs["clientId"],
        "administrators": {
            "administratorType": "ActiveDirectory",
            "azureADOnlyAuthentication": True,
            "login": "sql-admins-contoso",
            "sid": "4e5f6a7b-8c9d-4e0f-9a1b-3c4d5e6f7a8b",
            "tenantId": PROVIDER_TENANT,
            "principalType": "Group",
        },
        "minimalTlsVersion": "1.2",
    }


def test_server_key_is_the_versioned_customer_key_named_vault_key_version(rec: Recording) -> None:
    uri = rec.get(KEY, "customer-key-cmk-shared").outputs["keyUriWithVersion"]
    version = uri.rsplit("/", 1)[1]
    server_key = rec.get(SERVER_KEY, "sql-key")
    assert server_key.inputs == {
        "keyName": f"kv-contoso-cmk-dev_cmk-shared_{version}",
        "serverName": "sql-contoso-cmk-dev",
        "resourceGroupName": "rg-saas-contoso-dev",
        "serverKeyType": "AzureKeyVault",
        "uri": uri,
    }


def test_protector_rotates_automatically_when_following_the_latest_version(rec: Recording) -> None:
    server_key = rec.get(SERVER_KEY, "sql-key")
    protector = rec.get(PROTECTOR, "sql-protector")
    assert protector.inputs == {
        "encryptionProtectorName": "current",
        "serverName": "sql-contoso-cmk-dev",
        "resourceGroupName": "rg-saas-contoso-dev",
        "serverKeyType": "AzureKeyVault",
        "serverKeyName": server_key.inputs["keyName"],
        "autoRotationEnabled": True,
    }
    assert protector.property_dependencies["serverKeyName"] == [server_key.urn]


def test_pinned_protector_does_not_rotate() -> None:
    protector = run_stack("dev", keyVersionPolicy="pinned").get(PROTECTOR, "sql-protector")
    assert protector.inputs["autoRotationEnabled"] is False


def test_server_key_waits_for_trust_grant_and_propagation_but_the_server_does_not(
    rec: Recording,
) -> None:
    gates = {
        rec.get(GRANT, "customer-grant-cmk-shared").urn,
        rec.get(SLEEP, "grant-propagation").urn,
        rec.get(FIC, "provider-federated-credential").urn,
    }
    assert gates <= set(rec.get(SERVER_KEY, "sql-key").dependencies)
    assert not gates & set(rec.get(SERVER, "sql-server").dependencies)


def test_server_has_no_key_id_so_the_protector_can_be_managed(rec: Recording) -> None:
    assert "keyId" not in rec.get(SERVER, "sql-server").inputs


def test_admin_principal_type_comes_from_config() -> None:
    server = run_stack("dev", sqlAdminPrincipalType="User").get(SERVER, "sql-server")
    assert server.inputs["administrators"]["principalType"] == "User"


def test_provider_stack_names_the_server_key_after_the_shared_uri() -> None:
    server_key = run_stack("provider").get(SERVER_KEY, "sql-key")
    assert server_key.inputs["keyName"] == (
        "kv-contoso-cmk-prod_cmk-shared_e9dbbb07559367c96169bcff3efd2445"
    )
    assert server_key.inputs["uri"] == (
        "https://kv-contoso-cmk-prod.vault.azure.net/keys/cmk-shared/"
        "e9dbbb07559367c96169bcff3efd2445"
    )


def test_sql_resources_are_children_of_the_component(rec: Recording) -> None:
    component = rec.get("dedicated-cmk:provider:SqlCmk", "sql")
    for type_, name in (
        (SERVER, "sql-server"),
        (SERVER_KEY, "sql-key"),
        (PROTECTOR, "sql-protector"),
    ):
        assert rec.get(type_, name).parent == component.urn
    assert rec.stack_outputs["sqlServerId"] == rec.get(SERVER, "sql-server").id
