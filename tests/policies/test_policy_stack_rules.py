"""Stack rules (relations between resources): exact violating and undecided URNs per fixture."""

from __future__ import annotations

import math

import pytest

from policies import resource_types as rt
from tests.policies.cmk_plan_fixtures import (
    CRYPTO_USER_ROLE,
    CUSTOMER_SUB,
    CUSTOMER_TENANT,
    DELETE,
    OWNER_ROLE,
    PROVIDER_SUB,
    UNKNOWN,
    Case,
    Ref,
    Spec,
    assert_case,
    baseline,
    edit,
    modify,
    role,
    vault_properties,
    without,
)

B = baseline()
AP = baseline(rbac=False)
OTHER_PRINCIPAL = "99999999-9999-4999-8999-999999999999"
ADMIN_ROLE = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
CUSTOMER_ONLY = without(B, "st", "sql", "des")
"""A customer-side stack: vault, key, locks, the app's service principal and its grant."""
CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603"
KV_CONTRIBUTOR = "f25e0fa2-a7c8-4377-a976-54943a77a395"
RG_C = f"/subscriptions/{CUSTOMER_SUB}/resourceGroups/rg-c"
VAULT_ID = f"{RG_C}/providers/Microsoft.KeyVault/vaults/kv-cmk"


def _extra(*specs: Spec, base: list[Spec] = B) -> list[Spec]:
    return [*base, *specs]


def _assignment(name: str, principal: object, role_guid: str, scope: object) -> Spec:
    return Spec(rt.ROLE_ASSIGNMENT, name, {"principalId": principal,
                                           "principalType": "ServicePrincipal",
                                           "roleDefinitionId": role(role_guid), "scope": scope},
                parent="customer", provider="customer-arm")


def _credentials(count: int, application: object) -> list[Spec]:
    return [Spec(rt.FEDERATED_CREDENTIAL, f"fic-{i}", {
        "applicationId": application, "displayName": f"env-{i}",
        "audiences": ["api://AzureADTokenExchange"],
        "issuer": "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0",
        "subject": Ref("uami", "principalId")}, parent="provider", provider="provider-ad")
        for i in range(count)]


SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"


def _credential_store(rbac: bool = True) -> list[Spec]:
    """The credential store's shape: own single-tenant app with a certificate, its principal,
    a vault without keys and a secret-read grant."""
    properties = vault_properties(rbac=True)
    if not rbac:
        properties = {**properties, "enableRbacAuthorization": False, "accessPolicies": [{
            "tenantId": CUSTOMER_TENANT, "objectId": Ref("store-sp", "objectId"),
            "permissions": {"secrets": ["get"]}}]}
    specs = [
        Spec(rt.APPLICATION, "store-app", {"displayName": "store",
                                           "signInAudience": "AzureADMyOrg"}),
        Spec("azuread:index/applicationCertificate:ApplicationCertificate", "store-cert", {
            "applicationId": Ref("store-app", "id"), "type": "AsymmetricX509Cert",
            "value": "pem", "endDate": "2099-01-01T00:00:00Z"}),
        Spec(rt.SERVICE_PRINCIPAL, "store-sp", {"clientId": Ref("store-app", "clientId")}),
        Spec(rt.VAULT, "store-kv", {"resourceGroupName": "rg-c", "vaultName": "kv-store",
                                    "location": "westeurope", "properties": properties}),
    ]
    if rbac:
        specs.append(_assignment("store-grant", Ref("store-sp", "objectId"), SECRETS_USER_ROLE,
                                 Ref("store-kv", "id")))
    return specs


def _org_app_with_secret() -> list[Spec]:
    """An organisation's own KMS app: single tenant, a client secret, its principal granted
    Crypto Service Encryption User on the key."""
    return [
        Spec(rt.APPLICATION, "org-app", {"displayName": "org-kms",
                                         "signInAudience": "AzureADMyOrg"}),
        Spec(rt.APPLICATION_PASSWORD, "org-pw", {"applicationId": Ref("org-app", "id"),
                                                 "endDate": "2099-01-01T00:00:00Z"}),
        Spec(rt.SERVICE_PRINCIPAL, "org-sp", {"clientId": Ref("org-app", "clientId")}),
        _assignment("org-grant", Ref("org-sp", "objectId"), CRYPTO_USER_ROLE, Ref("key", "id")),
    ]


def _snowflake(key: str = "cmk") -> Spec:
    return Spec(rt.SNOWFLAKE_EXECUTE, "tss", {
        "execute": f"SELECT SYSTEM$REGISTER_CMK_INFO('https://kv-cmk.vault.azure.net/', '{key}')",
        "revert": "SELECT 1"}, parent="provider")


_SNOWFLAKE_ACTIONS = ["Microsoft.KeyVault/vaults/keys/read",
                      "Microsoft.KeyVault/vaults/keys/wrap/action",
                      "Microsoft.KeyVault/vaults/keys/unwrap/action",
                      "Microsoft.KeyVault/vaults/keys/sign/action",
                      "Microsoft.KeyVault/vaults/keys/verify/action"]


def _snowflake_key() -> Spec:
    """A second key in the baseline vault, ``sf``, that only Snowflake uses."""
    return Spec(rt.KEY, "sf-key", {
        "resourceGroupName": "rg-c", "vaultName": Ref("kv", "name"), "keyName": "sf",
        "properties": {"kty": "RSA", "keySize": 2048,
                       "keyOps": ["wrapKey", "unwrapKey", "sign", "verify"]},
        "tags": {"tri-secret-secure": "snowflake"}}, parent="customer", provider="customer-arm")


def _snowflake_role_grant(actions: list[str] = _SNOWFLAKE_ACTIONS,
                          principal: object = OTHER_PRINCIPAL, key: str = "key") -> list[Spec]:
    """The program's Snowflake grant: a custom role and its assignment on the key."""
    return [
        Spec(rt.ROLE_DEFINITION, "sf-role", {
            "roleDefinitionId": "0c6b4d7e-1f2a-5b3c-8d4e-5f6a7b8c9d0e",
            "scope": f"/subscriptions/{CUSTOMER_SUB}/resourceGroups/rg-c",
            "permissions": [{"actions": [], "dataActions": actions}]}, parent="customer",
            provider="customer-arm"),
        Spec(rt.ROLE_ASSIGNMENT, "sf-grant", {
            "principalId": principal, "principalType": "ServicePrincipal",
            "roleDefinitionId": Ref("sf-role", "id"), "scope": Ref(key, "id")},
            parent="customer", provider="customer-arm"),
    ]


def _protected_by_server_key(key_type: object = "AzureKeyVault") -> list[Spec]:
    """The program's SQL shape: no keyId; a server key and the 'current' protector."""
    return _extra(
        Spec(rt.SQL_SERVER_KEY, "sql-key", {
            "resourceGroupName": "rg-p", "serverName": Ref("sql", "serverName"),
            "keyName": "kv-cmk_cmk_v1", "serverKeyType": "AzureKeyVault",
            "uri": Ref("key", "keyUriWithVersion")}, parent="provider"),
        Spec(rt.SQL_ENCRYPTION_PROTECTOR, "sql-protector", {
            "resourceGroupName": "rg-p", "serverName": Ref("sql", "serverName"),
            "encryptionProtectorName": "current", "serverKeyType": key_type,
            "serverKeyName": "kv-cmk_cmk_v1", "autoRotationEnabled": True}, parent="provider"),
        base=edit(B, "sql", "keyId", None))


_ROLE_ONLY_ON_AP_VAULT = _extra(_assignment("grant", Ref("sp", "objectId"),
                                            "e147488a-f6f5-4113-8e2d-b22465e65bf6",
                                            Ref("key", "id")),
                                base=edit(AP, "kv", "properties.accessPolicies", []))

_IDENTITY_CI = _extra(Spec(
    rt.IDENTITY_FEDERATED_CREDENTIAL, "uami-ci", {
        "resourceGroupName": "rg-p", "resourceName": Ref("uami", "id"),
        "federatedIdentityCredentialResourceName": "ci",
        "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:acme/infra:ref:refs/heads/main",
        "audiences": ["api://AzureADTokenExchange"]}, parent="provider", provider="provider-arm"))
"""A CI system federated with the managed identity the CMK app trusts."""

_RESOURCE_LEVEL_LOCKS = [
    *without(B, "kv-lock", "key-lock"),
    Spec(rt.LOCK_AT_RESOURCE_LEVEL, "kv-lock", {
        "resourceGroupName": "rg-c", "resourceProviderNamespace": "Microsoft.KeyVault",
        "parentResourcePath": "", "resourceType": "vaults",
        "resourceName": Ref("kv", "name"), "level": "CanNotDelete"},
        parent="customer", provider="customer-arm"),
    Spec(rt.LOCK_AT_RESOURCE_LEVEL, "key-lock", {
        "resourceGroupName": "rg-c", "resourceProviderNamespace": "Microsoft.KeyVault",
        "parentResourcePath": "vaults/kv-cmk", "resourceType": "keys",
        "resourceName": Ref("key", "name"), "level": "CanNotDelete"},
        parent="customer", provider="customer-arm")]

CASES: dict[str, list[Case]] = {
    "key-material-locks": [
        Case("fail_lock_scope_value_is_the_resource_group",
             edit(B, "kv-lock", "scope", Ref("kv", "id", value=RG_C)), ("kv",)),
        Case("pass_resource_level_locks", _RESOURCE_LEVEL_LOCKS),
        Case("pass_resource_level_locks_first_preview", _RESOURCE_LEVEL_LOCKS,
             first_preview=True),
        Case("pass_versioned_lock_token", [
            *without(B, "kv-lock"),
            Spec(rt.LOCK.replace("authorization:", "authorization/v20200501:"), "kv-lock",
                 {"scope": Ref("kv", "id"), "level": "CanNotDelete", "lockName": "cmk"},
                 parent="customer", provider="customer-arm")]),
        Case("pass_vault_and_key_locked", B),
        Case("pass_first_preview_by_dependencies", B, first_preview=True),
        Case("pass_without_property_dependencies", B, property_dependencies=False,
             first_preview=True),
        Case("pass_literal_scopes_matched_by_value",
             edit(edit(B, "kv-lock", "scope", Ref("kv", "id", literal=True)), "key-lock", "scope",
                  Ref("key", "id", literal=True))),
        Case("fail_key_unlocked", without(B, "key-lock"), ("key",)),
        Case("fail_nothing_locked", without(B, "key-lock", "kv-lock"), ("kv", "key")),
        Case("fail_read_only_is_not_can_not_delete", edit(B, "kv-lock", "level", "ReadOnly"),
             ("kv",)),
        Case("fail_vault_lock_does_not_cover_key",
             edit(B, "key-lock", "scope", Ref("kv", "id")), ("key",)),
        Case("undecided_scope_unknown_without_dependency", edit(B, "kv-lock", "scope", UNKNOWN),
             undecided=("kv",)),
    ],
    "vault-resource-group-protected": [
        Case("pass_vault_group_not_in_this_stack", B),
        Case("pass_protected_group", _extra(Spec(
            rt.RESOURCE_GROUP, "rg", {"resourceGroupName": "rg-c", "location": "westeurope"},
            parent="customer", provider="customer-arm"))),
        Case("fail_unprotected_group_of_the_vault", _extra(Spec(
            rt.RESOURCE_GROUP, "rg", {"resourceGroupName": "RG-C", "location": "westeurope"},
            parent="customer", provider="customer-arm", protect=False)), ("rg",)),
        Case("pass_unprotected_group_of_something_else", _extra(Spec(
            rt.RESOURCE_GROUP, "rg", {"resourceGroupName": "rg-p", "location": "westeurope"},
            parent="customer", provider="customer-arm", protect=False))),
        Case("undecided_group_name_unknown", _extra(Spec(
            rt.RESOURCE_GROUP, "rg", {"resourceGroupName": UNKNOWN, "location": "westeurope"},
            parent="customer", provider="customer-arm", protect=False)), (), ("kv",)),
    ],
    "key-material-protected": [
        Case("pass_all_protected", B),
        Case("fail_vault_unprotected", modify(B, "kv", protect=False), ("kv",)),
        Case("fail_key_and_lock_unprotected",
             modify(modify(B, "key", protect=False), "key-lock", protect=False),
             ("key", "key-lock")),
        Case("pass_unrelated_lock_unprotected", _extra(Spec(
            rt.LOCK, "rg-lock", {"scope": "/subscriptions/x/resourceGroups/rg-c",
                                 "level": "CanNotDelete", "lockName": "rg"}, protect=False))),
        Case("undecided_unprotected_lock_scope_unknown",
             modify(edit(B, "kv-lock", "scope", UNKNOWN), "kv-lock", protect=False),
             undecided=("kv-lock",)),
        # The data-loss table's "access revoked" row: the grant to the provider's app.
        Case("fail_grant_to_the_app_unprotected", modify(B, "grant", protect=False),
             ("grant",)),
        Case("fail_grant_without_principal_type_unprotected",
             modify(edit(B, "grant", "principalType", DELETE), "grant", protect=False),
             ("grant",)),
        Case("pass_unprotected_grant_to_a_user", _extra(Spec(rt.ROLE_ASSIGNMENT, "admin-read", {
            "principalId": OTHER_PRINCIPAL, "principalType": "User",
            "roleDefinitionId": role(CRYPTO_USER_ROLE), "scope": Ref("kv", "id")},
            parent="customer", provider="customer-arm", protect=False))),
        Case("fail_standalone_access_policy_unprotected", _extra(Spec(rt.ACCESS_POLICY, "ap", {
            "resourceGroupName": "rg-c", "vaultName": Ref("kv", "name"),
            "policy": {"tenantId": CUSTOMER_TENANT, "objectId": Ref("sp", "objectId"),
                       "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}},
            parent="customer", protect=False), base=edit(AP, "kv", "properties.accessPolicies",
                                                          [])), ("ap",)),
        Case("undecided_unprotected_grant_scope_unknown",
             modify(edit(B, "grant", "scope", UNKNOWN), "grant", protect=False),
             undecided=("grant",)),
    ],
    "cmk-chain-protected": [
        Case("pass_all_protected", B),
        Case("pass_first_preview", B, first_preview=True),
        Case("fail_storage_account_unprotected", modify(B, "st", protect=False), ("st",)),
        Case("fail_sql_server_and_disk_encryption_set_unprotected",
             modify(modify(B, "sql", protect=False), "des", protect=False), ("sql", "des")),
        Case("fail_identity_chain_unprotected",
             modify(modify(B, "uami", protect=False), "fic", protect=False), ("uami", "fic")),
        Case("fail_credential_on_a_shared_app_named_by_literal_client_id",
             modify(edit(B, "fic", "applicationId", "/applications/0000-shared"), "fic",
                    protect=False), ("fic",)),
        Case("fail_server_key_and_protector_unprotected", _extra(
            Spec(rt.SQL_SERVER_KEY, "sql-key", {
                "resourceGroupName": "rg-p", "serverName": Ref("sql", "serverName"),
                "serverKeyType": "AzureKeyVault", "uri": Ref("key", "keyUriWithVersion")},
                protect=False),
            Spec(rt.SQL_ENCRYPTION_PROTECTOR, "sql-protector", {
                "resourceGroupName": "rg-p", "serverName": Ref("sql", "serverName"),
                "serverKeyType": "AzureKeyVault", "serverKeyName": "kv_cmk_1"},
                protect=False)), ("sql-key", "sql-protector")),
        Case("pass_store_without_customer_key_unprotected", _extra(Spec(
            rt.STORAGE_ACCOUNT, "logs", {"resourceGroupName": "rg-p", "accountName": "stlogs",
                                         "location": "westeurope",
                                         "encryption": {"keySource": "Microsoft.Storage"}},
            protect=False))),
        Case("pass_service_managed_protector_unprotected", _extra(Spec(
            rt.SQL_ENCRYPTION_PROTECTOR, "sm-protector", {
                "resourceGroupName": "rg-p", "serverName": "other",
                "serverKeyType": "ServiceManaged", "serverKeyName": "ServiceManaged"},
            protect=False))),
        Case("undecided_server_key_source_unknown_before_apply", _extra(
            Spec(rt.SQL_ENCRYPTION_PROTECTOR, "sql-protector", {
                "resourceGroupName": "rg-p", "serverName": Ref("sql", "serverName"),
                "serverKeyType": UNKNOWN, "serverKeyName": UNKNOWN}),
            base=modify(edit(B, "sql", "keyId", DELETE), "sql", protect=False)),
            undecided=("sql",)),
    ],
    "provider-grant-least-privilege": [
        Case("fail_scope_value_is_the_subscription_beside_the_key",
             edit(B, "grant", "scope", Ref("key", "id", value=f"/subscriptions/{CUSTOMER_SUB}")),
             ("grant",)),
        Case("pass_crypto_service_encryption_user_on_key", B),
        Case("pass_first_preview", B, first_preview=True),
        Case("pass_access_policy_get_wrap_unwrap", AP),
        Case("pass_access_policy_first_preview", AP, first_preview=True),
        Case("fail_owner_role", edit(B, "grant", "roleDefinitionId", role(OWNER_ROLE)),
             ("grant",)),
        Case("fail_extra_administrator_on_vault",
             _extra(_assignment("admin", Ref("sp", "objectId"), ADMIN_ROLE, Ref("kv", "id"))),
             ("admin",)),
        Case("fail_user_principal_type", edit(B, "grant", "principalType", "User"), ("grant",)),
        Case("fail_resource_group_scope",
             edit(B, "grant", "scope", f"/subscriptions/{PROVIDER_SUB}/resourceGroups/rg-c"),
             ("grant",)),
        Case("pass_other_principal_may_be_owner",
             _extra(_assignment("ops", OTHER_PRINCIPAL, OWNER_ROLE, Ref("kv", "id")))),
        Case("pass_owner_when_configured", edit(B, "grant", "roleDefinitionId", role(OWNER_ROLE)),
             config={"allowedRoleDefinitionIds": [OWNER_ROLE]}),
        Case("fail_access_policy_decrypt", edit(
            AP, "kv", "properties.accessPolicies.0.permissions.keys",
            ["get", "wrapKey", "unwrapKey", "decrypt"]), ("kv",)),
        Case("fail_access_policy_secrets", edit(
            AP, "kv", "properties.accessPolicies.0.permissions.secrets", ["get"]), ("kv",)),
        Case("fail_access_policy_when_rbac_required", AP, ("kv",),
             config={"requireRbac": True}),
        Case("undecided_principal_unknown_without_dependency",
             edit(B, "grant", "principalId", UNKNOWN), undecided=("grant",)),
        # A credential store's reader: another app's principal, secrets only, no keys there.
        Case("pass_credential_store_secrets_user_on_keyless_vault", _extra(*_credential_store())),
        Case("pass_credential_store_access_policy_secret_get",
             _extra(*_credential_store(rbac=False))),
        Case("pass_credential_store_first_preview", _extra(*_credential_store()),
             first_preview=True),
        Case("fail_other_apps_principal_granted_on_the_key_vault", _extra(
            *_credential_store(), _assignment("store-admin", Ref("store-sp", "objectId"),
                                              ADMIN_ROLE, Ref("kv", "id"))), ("store-admin",)),
        Case("fail_other_apps_principal_in_key_vault_access_policy", edit(
            [*_credential_store(), *AP], "kv", "properties.accessPolicies",
            [*vault_properties(rbac=False)["accessPolicies"], {
                "tenantId": CUSTOMER_TENANT, "objectId": Ref("store-sp", "objectId"),
                "permissions": {"secrets": ["get"]}}]), ("kv",)),
    ],
    "consumed-key-granted": [
        Case("pass_rbac_grant_on_key", B),
        Case("pass_rbac_first_preview", B, first_preview=True),
        Case("pass_access_policy", AP),
        Case("pass_access_policy_first_preview", AP, first_preview=True),
        Case("pass_grant_on_vault", edit(B, "grant", "scope", Ref("kv", "id"))),
        Case("pass_standalone_access_policy", _extra(Spec(rt.ACCESS_POLICY, "ap", {
            "resourceGroupName": "rg-c", "vaultName": Ref("kv", "name"),
            "policy": {"tenantId": CUSTOMER_TENANT, "objectId": Ref("sp", "objectId"),
                       "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}},
            parent="customer"), base=edit(AP, "kv", "properties.accessPolicies", []))),
        Case("fail_no_grant", without(B, "grant"), ("key",)),
        Case("fail_grant_to_someone_else", edit(B, "grant", "principalId", OTHER_PRINCIPAL),
             ("key",)),
        Case("fail_role_without_wrap_rights", edit(B, "grant", "roleDefinitionId",
                                                   role(OWNER_ROLE)), ("key",)),
        Case("fail_rbac_vault_with_access_policy_only", edit(
            without(B, "grant"), "kv", "properties.accessPolicies",
            vault_properties(rbac=False)["accessPolicies"]), ("key",)),
        Case("fail_access_policy_vault_with_role_only", _ROLE_ONLY_ON_AP_VAULT, ("key",)),
        Case("fail_snowflake_key_ungranted", _extra(_snowflake(), base=without(B, "grant")),
             ("key",)),
        Case("fail_snowflake_key_granted_only_to_the_provider_app",
             _extra(_snowflake("sf"), _snowflake_key(), _assignment(
                 "sf-app-grant", Ref("sp", "objectId"), CRYPTO_USER_ROLE, Ref("sf-key", "id"))),
             ("sf-key", "sf-app-grant")),
        Case("pass_snowflake_only_key_with_only_snowflakes_grant",
             _extra(_snowflake("sf"), _snowflake_key(),
                    *_snowflake_role_grant(key="sf-key"))),
        Case("pass_snowflake_custom_role_on_the_key",
             _extra(_snowflake(), *_snowflake_role_grant())),
        Case("fail_snowflake_role_that_cannot_unwrap",
             _extra(_snowflake(), *_snowflake_role_grant(_SNOWFLAKE_ACTIONS[:2])), ("key",)),
        Case("fail_snowflake_role_given_to_the_provider_app",
             _extra(_snowflake(), *_snowflake_role_grant(principal=Ref("sp", "objectId"))),
             ("key",)),
        Case("pass_snowflake_access_policy", edit(
            _extra(_snowflake(), base=AP), "kv", "properties.accessPolicies",
            [*vault_properties(rbac=False)["accessPolicies"],
             {"tenantId": CUSTOMER_TENANT, "objectId": OTHER_PRINCIPAL,
              "permissions": {"keys": ["get", "wrapKey", "unwrapKey", "sign", "verify"]}}])),
        Case("undecided_permission_model_unknown",
             edit(B, "kv", "properties.enableRbacAuthorization", UNKNOWN), undecided=("key",)),
    ],
    "federated-credential-subject": [
        Case("fail_subject_is_the_identity_client_id",
             edit(B, "fic", "subject", Ref("uami", "clientId")), ("fic",)),
        Case("pass_subject_is_uami", B),
        Case("pass_first_preview", B, first_preview=True),
        Case("pass_subject_matched_by_value",
             edit(B, "fic", "subject", Ref("uami", "principalId", literal=True))),
        Case("fail_subject_not_an_identity_here", edit(B, "fic", "subject", OTHER_PRINCIPAL),
             ("fic",)),
        Case("fail_issuer_not_identity_tenant", edit(
            B, "fic", "issuer", f"https://login.microsoftonline.com/{CUSTOMER_TENANT}/v2.0"),
            ("fic",)),
        Case("undecided_subject_unknown_without_dependency", edit(B, "fic", "subject", UNKNOWN),
             undecided=("fic",)),
    ],
    "provider-app-no-secrets": [
        Case("pass_multitenant_without_password", B),
        Case("fail_single_tenant", edit(B, "app", "signInAudience", "AzureADMyOrg"), ("app",)),
        Case("fail_audience_omitted", edit(B, "app", "signInAudience", None), ("app",)),
        Case("fail_password_block", edit(B, "app", "password", {"displayName": "ci"}), ("app",)),
        Case("fail_application_password", _extra(Spec(
            rt.APPLICATION_PASSWORD, "pw", {"applicationId": Ref("app", "id")},
            parent="provider")), ("pw",)),
        Case("pass_password_of_another_app", _extra(Spec(
            rt.APPLICATION_PASSWORD, "pw", {"applicationId": "/applications/other"}))),
        Case("fail_password_by_literal_application_id", _extra(Spec(
            rt.APPLICATION_PASSWORD, "pw", {"applicationId": Ref("app", "id", literal=True)},
            parent="provider")), ("pw",)),
        Case("fail_application_certificate", _extra(Spec(
            rt.APPLICATION_CERTIFICATE, "cert", {"applicationId": Ref("app", "id"),
                                                 "type": "AsymmetricX509Cert", "value": "x"},
            parent="provider")), ("cert",)),
        Case("fail_service_principal_password", _extra(Spec(
            rt.SERVICE_PRINCIPAL_PASSWORD, "sp-pw", {"servicePrincipalId": Ref("sp", "id")},
            parent="customer")), ("sp-pw",)),
        Case("fail_service_principal_certificate", _extra(Spec(
            rt.SERVICE_PRINCIPAL_CERTIFICATE, "sp-cert", {
                "servicePrincipalId": Ref("sp", "id"), "type": "AsymmetricX509Cert",
                "value": "x"}, parent="customer")), ("sp-cert",)),
        Case("fail_ci_federated_credential_on_the_cmk_app", _extra(Spec(
            rt.FEDERATED_CREDENTIAL, "fic-ci", {
                "applicationId": Ref("app", "id"), "displayName": "ci",
                "audiences": ["api://AzureADTokenExchange"],
                "issuer": "https://token.actions.githubusercontent.com",
                "subject": "repo:acme/infra:ref:refs/heads/main"}, parent="provider")),
             ("fic-ci",)),
        Case("fail_flexible_federated_credential_on_the_cmk_app", _extra(Spec(
            rt.FLEXIBLE_FEDERATED_CREDENTIAL, "fic-flex", {
                "applicationId": Ref("app", "id"), "displayName": "ci",
                "audience": "api://AzureADTokenExchange",
                "issuer": "https://token.actions.githubusercontent.com",
                "claimsMatchingExpression": "claims['sub'] matches 'repo:acme/*'"},
            parent="provider")), ("fic-flex",)),
        Case("fail_federated_credential_on_the_cmk_identity", _IDENTITY_CI, ("uami-ci",)),
        Case("fail_federated_credential_on_the_cmk_identity_first_preview", _IDENTITY_CI,
             ("uami-ci",), first_preview=True),
        Case("pass_credential_store_app_with_password", _extra(
            Spec(rt.APPLICATION, "store", {"displayName": "store",
                                           "signInAudience": "AzureADMyOrg"}, parent="provider"),
            Spec(rt.APPLICATION_PASSWORD, "store-pw", {"applicationId": Ref("store", "id")},
                 parent="provider"))),
        # Apps that carry credentials by design are not the CMK app: the credential store's
        # reader (secrets on a vault without keys) and an organisation's own single-tenant
        # KMS app granted the key in its own tenant.
        Case("pass_credential_store_app_with_certificate", _extra(*_credential_store())),
        Case("pass_organisation_app_with_client_secret_granted_the_key",
             _extra(*_org_app_with_secret())),
        # ...unless it is used as the CMK app: federated into, named by a binding, or
        # installable in other tenants while granted the key.
        Case("fail_single_tenant_app_federated_into", _extra(
            *_org_app_with_secret(), *_credentials(1, Ref("org-app", "id"))),
            ("org-app", "org-pw")),
        Case("fail_single_tenant_app_named_by_a_binding", edit(
            [*_org_app_with_secret()[:2], *B], "sql", "federatedClientId",
            Ref("org-app", "clientId")), ("org-app", "org-pw")),
        Case("fail_multitenant_app_granted_the_key_with_client_secret", _extra(*edit(
            _org_app_with_secret(), "org-app", "signInAudience", "AzureADMultipleOrgs")),
            ("org-pw",)),
        Case("fail_app_identified_by_its_grant_alone", _extra(
            Spec(rt.APPLICATION_PASSWORD, "pw", {"applicationId": Ref("app", "id")},
                 parent="provider"),
            base=without(B, "fic")), ("pw",)),
    ],
    "binding-federated-client-id": [
        Case("pass_app_client_id", B),
        Case("pass_first_preview_by_dependency", B, first_preview=True),
        Case("fail_identity_client_id",
             edit(edit(B, "sql", "federatedClientId", Ref("uami", "clientId")), "st",
                  "encryption.encryptionIdentity.encryptionFederatedIdentityClientId",
                  Ref("uami", "clientId", literal=True)), ("sql", "st")),
        Case("fail_identity_client_id_first_preview",
             edit(B, "des", "federatedClientId", Ref("uami", "clientId")), ("des",),
             first_preview=True),
        Case("fail_identity_principal_id",
             edit(B, "des", "federatedClientId", Ref("uami", "principalId")), ("des",)),
        Case("fail_other_guid", edit(B, "sql", "federatedClientId", OTHER_PRINCIPAL), ("sql",)),
        Case("fail_another_apps_client_id", [
            Spec(rt.APPLICATION, "other-app", {"displayName": "other",
                                               "signInAudience": "AzureADMultipleOrgs"},
                 parent="provider"),
            *edit(B, "des", "federatedClientId", Ref("other-app", "clientId"))], ("des",)),
        Case("pass_literal_client_id_of_the_app",
             edit(B, "sql", "federatedClientId", Ref("app", "clientId", literal=True))),
        Case("undecided_secret_client_id", edit(B, "sql", "federatedClientId", "[secret]"),
             undecided=("sql",)),
    ],
    "customer-key-granted": [
        Case("pass_customer_stack_grants_its_key", CUSTOMER_ONLY),
        Case("fail_customer_stack_grants_its_key_to_nobody", without(CUSTOMER_ONLY, "grant"),
             ("key",)),
        Case("pass_customer_stack_on_access_policies",
             without(AP, "st", "sql", "des")),
        Case("fail_customer_stack_access_policy_without_unwrap_key",
             edit(without(AP, "st", "sql", "des"), "kv",
                  "properties.accessPolicies.0.permissions.keys", ["get", "wrapKey"]),
             ("key",)),
        Case("pass_stack_with_bindings_is_judged_by_consumed_key_granted", without(B, "grant")),
    ],
    "binding-vault-in-stack": [
        Case("pass_key_in_this_stack", B),
        Case("fail_storage_bound_to_a_vault_elsewhere", _extra(Spec(
            rt.STORAGE_ACCOUNT, "st2", {"accountName": "st2", "encryption": {
                "keySource": "Microsoft.Keyvault", "keyVaultProperties": {
                    "keyVaultUri": "https://kv-elsewhere.vault.azure.net/", "keyName": "cmk"}}},
            parent="provider", provider="provider-arm")), ("st2",)),
    ],
    "purge-role-only-administrators": [
        Case("pass_crypto_service_encryption_user", B),
        Case("fail_key_vault_administrator_on_the_vault",
             _extra(_assignment("ops", OTHER_PRINCIPAL, ADMIN_ROLE, Ref("kv", "id"))), ("ops",)),
        Case("fail_owner_on_the_resource_group",
             _extra(_assignment("ops", OTHER_PRINCIPAL, OWNER_ROLE, RG_C)), ("ops",)),
        Case("pass_owner_on_another_resource_group", _extra(_assignment(
            "ops", OTHER_PRINCIPAL, OWNER_ROLE, f"/subscriptions/{CUSTOMER_SUB}/resourceGroups/x"),
        )),
        Case("pass_listed_administrator",
             _extra(_assignment("ops", OTHER_PRINCIPAL, ADMIN_ROLE, Ref("kv", "id"))),
             config={"administratorPrincipalIds": [OTHER_PRINCIPAL]}),
        Case("fail_crypto_officer_on_the_key_first_preview",
             _extra(_assignment("ops", OTHER_PRINCIPAL, CRYPTO_OFFICER, Ref("key", "id"))),
             ("ops",), first_preview=True),
        # Key Vault Contributor's notActions exclude purge and it has no data actions; it can
        # only grant itself purge through an access policy, so only access-policy vaults count.
        Case("pass_key_vault_contributor_on_an_rbac_vault",
             _extra(_assignment("ops", OTHER_PRINCIPAL, KV_CONTRIBUTOR, Ref("kv", "id")))),
        Case("pass_key_vault_contributor_on_the_resource_group_of_an_rbac_vault",
             _extra(_assignment("ops", OTHER_PRINCIPAL, KV_CONTRIBUTOR, RG_C))),
        Case("fail_key_vault_contributor_on_an_access_policy_vault",
             _extra(_assignment("ops", OTHER_PRINCIPAL, KV_CONTRIBUTOR, Ref("kv", "id")),
                    base=AP), ("ops",)),
        Case("fail_key_vault_contributor_on_the_resource_group_of_an_access_policy_vault",
             _extra(_assignment("ops", OTHER_PRINCIPAL, KV_CONTRIBUTOR, RG_C), base=AP),
             ("ops",)),
    ],
    "references-match-dependencies": [
        Case("pass_values_name_their_dependencies", B),
        Case("pass_first_preview", B, first_preview=True),
        Case("pass_access_policies", AP),
        Case("fail_subject_is_the_identity_client_id",
             edit(B, "fic", "subject", Ref("uami", "clientId")), ("fic",)),
        Case("fail_subject_other_guid_computed_from_identity",
             edit(B, "fic", "subject", Ref("uami", "principalId", value=OTHER_PRINCIPAL)),
             ("fic",)),
        Case("fail_grant_scoped_to_subscription_beside_key",
             edit(B, "grant", "scope", Ref("key", "id", value=f"/subscriptions/{CUSTOMER_SUB}")),
             ("grant",)),
        Case("fail_lock_scoped_to_resource_group_beside_vault",
             edit(B, "kv-lock", "scope", Ref("kv", "id", value=RG_C)), ("kv-lock",)),
        Case("fail_binding_key_in_another_vault",
             edit(B, "st", "encryption.keyVaultProperties.keyVaultUri",
                  "https://kv-elsewhere.vault.azure.net/"), ("st",)),
        Case("fail_grant_to_another_principal_beside_the_app",
             edit(B, "grant", "principalId", Ref("sp", "objectId", value=OTHER_PRINCIPAL)),
             ("grant",)),
        Case("pass_scope_names_the_vault_holding_its_key",
             edit(B, "grant", "scope", Ref("key", "id", value=VAULT_ID))),
    ],
    "sql-cross-tenant-cmk": [
        Case("pass_key_id", B),
        Case("pass_key_vault_protector", _protected_by_server_key()),
        Case("undecided_identity_first_preview", _protected_by_server_key(),
             first_preview=True, undecided=("sql",)),
        Case("fail_no_key", edit(B, "sql", "keyId", None), ("sql",)),
        Case("fail_service_managed_protector", _protected_by_server_key("ServiceManaged"),
             ("sql",)),
        Case("fail_no_federated_client_id", edit(B, "sql", "federatedClientId", None),
             ("sql",)),
        Case("fail_primary_identity_not_listed",
             edit(B, "sql", "primaryUserAssignedIdentityId", "/subscriptions/x/other"), ("sql",)),
        Case("undecided_protector_type_unknown", _protected_by_server_key(UNKNOWN),
             undecided=("sql",)),
    ],
    "disk-encryption-set-region": [
        Case("pass_same_region", B),
        Case("pass_first_preview", B, first_preview=True),
        Case("pass_display_name_region", edit(B, "des", "location", "West Europe")),
        Case("fail_other_region", edit(B, "des", "location", "northeurope"), ("des",)),
        Case("undecided_region_unknown", edit(B, "des", "location", UNKNOWN), undecided=("des",)),
    ],
    "consumed-key-size-per-service": [
        Case("pass_2048_everywhere", B),
        Case("pass_size_omitted_is_the_arm_default_2048",
             edit(B, "key", "properties.keySize", DELETE)),
        Case("fail_size_omitted_2048_when_disk_needs_4096",
             edit(B, "key", "properties.keySize", DELETE), ("key",),
             config={"serviceKeySizes": {"disk": [4096]}}),
        Case("fail_size_nan", edit(B, "key", "properties.keySize", math.nan), ("key",)),
        Case("fail_4096_for_sql", edit(B, "key", "properties.keySize", 4096), ("key",)),
        Case("pass_3072_for_storage_sql_disk", edit(B, "key", "properties.keySize", 3072)),
        Case("fail_3072_for_snowflake", _extra(_snowflake(),
                                               base=edit(B, "key", "properties.keySize", 3072)),
             ("key",)),
        Case("fail_disk_limited_by_config", B, ("key",), config={"serviceKeySizes": {
            "disk": [4096]}}),
        Case("pass_key_outside_stack", edit(B, "sql", "keyId",
                                            "https://elsewhere.vault.azure.net/keys/k/1")),
        Case("undecided_binding_key_unknown_without_dependency",
             edit(B, "sql", "keyId", UNKNOWN), undecided=("sql",)),
    ],
    "federated-credential-limit": [
        Case("pass_one_credential", B),
        Case("fail_21_on_the_app", _extra(*_credentials(20, Ref("app", "id"))), ("app",)),
        Case("pass_20_on_the_app", _extra(*_credentials(19, Ref("app", "id")))),
        Case("fail_3_when_limit_is_2", _extra(*_credentials(2, Ref("app", "id"))), ("app",),
             config={"maxCredentialsPerApplication": 2}),
        Case("fail_app_outside_stack", _extra(*_credentials(3, "/applications/shared")),
             ("fic-2",), config={"maxCredentialsPerApplication": 2}),
        Case("undecided_credentials_unrelated_yet", _extra(*_credentials(2, UNKNOWN)),
             undecided=("",), config={"maxCredentialsPerApplication": 2}),
    ],
}


@pytest.mark.parametrize(("policy", "case"), [(p, c) for p, cases in CASES.items() for c in cases],
                         ids=lambda v: v if isinstance(v, str) else v.id)
def test_stack_rule_case(policy: str, case: Case) -> None:
    assert_case(policy, case)
