"""The provider's app, identity and federated credential: multitenant, secret-free, one subject."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from cmkctl.plan.recorder import Recording
from policies.resource_types import APPLICATION as APP
from policies.resource_types import FEDERATED_CREDENTIAL as FIC
from policies.resource_types import RESOURCE_GROUP as GROUP
from policies.resource_types import SERVICE_PRINCIPAL as SP
from policies.resource_types import USER_ASSIGNED_IDENTITY as UAMI
from tests.stacks import run_stack

PROVIDER_TENANT = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
CUSTOMER_TENANT = "8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21"
PROVIDER_SUB = "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a"
SHARED_APP = "9b8a7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
EXISTING_OBJECT_ID = "0f1e2d3c-4b5a-4697-8877-665544332211"
IDENTITY_ID = (
    f"/subscriptions/{PROVIDER_SUB}/resourceGroups/rg-saas-contoso-dev/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-contoso-cmk-dev"
)


@pytest.fixture(scope="module")
def rec() -> Recording:
    return run_stack("dev")


def test_new_app_is_multitenant_without_password_and_survives_a_destroy(rec: Recording) -> None:
    app = rec.get(APP, "provider-app")
    assert app.inputs == {
        "displayName": "contoso-saas-cmk",
        "signInAudience": "AzureADMultipleOrgs",
        "preventDuplicateNames": True,
    }
    assert app.retain_on_delete and not app.protect


def test_identity_lives_in_the_provider_group_it_creates(rec: Recording) -> None:
    group = rec.get(GROUP, "provider-rg")
    assert group.inputs == {"resourceGroupName": "rg-saas-contoso-dev", "location": "westeurope"}
    identity = rec.get(UAMI, "provider-identity")
    assert identity.inputs == {
        "resourceName": "id-contoso-cmk-dev",
        "resourceGroupName": "rg-saas-contoso-dev",
        "location": "westeurope",
    }
    assert identity.id == IDENTITY_ID
    assert identity.property_dependencies["resourceGroupName"] == [group.urn]


def test_existing_provider_group_is_read_not_created() -> None:
    rec = run_stack("dev", providerResourceGroupExisting="true")
    assert [(g.name, g.read) for g in rec.by_type(GROUP)] == [("customer-rg", False),
                                                              ("provider-rg", True)]
    assert rec.get(UAMI, "provider-identity").inputs["resourceGroupName"] == "rg-saas-contoso-dev"


def test_federated_credential_trusts_the_identity_through_the_provider_tenant(
    rec: Recording,
) -> None:
    identity = rec.get(UAMI, "provider-identity")
    app = rec.get(APP, "provider-app")
    credential = rec.get(FIC, "provider-federated-credential")
    principal = identity.outputs["principalId"]
    assert credential.inputs == {
        "applicationId": f"/applications/{app.outputs['objectId']}",
        "displayName": f"cmk-{principal}",
        "description": "Lets managed identity id-contoso-cmk-dev act as this app for "
        "cross-tenant customer-managed keys",
        "issuer": f"https://login.microsoftonline.com/{PROVIDER_TENANT}/v2.0",
        "subject": principal,
        "audiences": ["api://AzureADTokenExchange"],
    }
    assert credential.property_dependencies["subject"] == [identity.urn]
    assert credential.property_dependencies["applicationId"] == [app.urn]
    assert CUSTOMER_TENANT not in credential.inputs["issuer"]


def test_issuer_follows_the_configured_provider_tenant() -> None:
    other = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
    credential = run_stack("dev", providerTenantId=other).get(FIC, "provider-federated-credential")
    assert credential.inputs["issuer"] == f"https://login.microsoftonline.com/{other}/v2.0"


def test_identity_children_use_the_provider_tenant_providers(rec: Recording) -> None:
    component = rec.get("dedicated-cmk:provider:Identity", "provider")
    arm = rec.get("pulumi:providers:azure-native", "provider-arm")
    graph = rec.get("pulumi:providers:azuread", "provider-graph")
    assert (arm.inputs["tenantId"], arm.inputs["subscriptionId"]) == (PROVIDER_TENANT, PROVIDER_SUB)
    assert graph.inputs["tenantId"] == PROVIDER_TENANT
    children = [r for r in rec.resources if r.parent == component.urn]
    assert sorted(c.name for c in children) == [
        "provider-app",
        "provider-federated-credential",
        "provider-identity",
        "provider-rg",
    ]
    for child in children:
        expected = graph if child.type.startswith("azuread:") else arm
        assert child.provider == f"{expected.urn}::{expected.id}", child.name


def test_stack_exports_the_app_client_id_and_identity(rec: Recording) -> None:
    app = rec.get(APP, "provider-app")
    identity = rec.get(UAMI, "provider-identity")
    assert rec.stack_outputs["providerAppClientId"] == app.outputs["clientId"]
    assert rec.stack_outputs["providerIdentityId"] == identity.id


def test_an_existing_app_is_looked_up_not_created() -> None:
    calls: list[Mapping[str, Any]] = []

    def lookup(args: Mapping[str, Any]) -> dict[str, Any]:
        calls.append(args)
        return {
            "clientId": args["clientId"],
            "objectId": EXISTING_OBJECT_ID,
            "signInAudience": "AzureADMultipleOrgs",
        }

    rec = run_stack(
        "dev",
        providerAppClientId=SHARED_APP,
        providerAppDisplayName=None,
        appFederatedCredentialsElsewhere="19",
        invokes={"azuread:index/getApplication:getApplication": lookup},
    )
    assert rec.by_type(APP) == []
    assert [c["clientId"] for c in calls] == [SHARED_APP]
    credential = rec.get(FIC, "provider-federated-credential")
    assert credential.inputs["applicationId"] == f"/applications/{EXISTING_OBJECT_ID}"
    assert rec.get(SP, "customer-provider-sp").inputs["clientId"] == SHARED_APP
    assert rec.stack_outputs["providerAppClientId"] == SHARED_APP


def test_an_existing_app_that_is_not_multitenant_is_refused() -> None:
    def single_tenant(args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "clientId": args["clientId"],
            "objectId": EXISTING_OBJECT_ID,
            "signInAudience": "AzureADMyOrg",
        }

    with pytest.raises(
        Exception,
        match=(
            f"providerAppClientId: app {SHARED_APP} has sign-in audience 'AzureADMyOrg'; the "
            "customer can only install an AzureADMultipleOrgs app"
        ),
    ):
        run_stack(
            "dev",
            providerAppClientId=SHARED_APP,
            providerAppDisplayName=None,
            invokes={"azuread:index/getApplication:getApplication": single_tenant},
        )
