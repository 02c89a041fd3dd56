"""Resource rules (one resource's inputs): exact violating and undecided URNs per fixture."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from policies import resource_types as rt
from tests.policies.cmk_plan_fixtures import (
    DELETE,
    UNKNOWN,
    Case,
    Ref,
    Spec,
    assert_case,
    baseline,
    edit,
)

APPLICATION_CERTIFICATE = "azuread:index/applicationCertificate:ApplicationCertificate"
B = baseline()
AP = baseline(rbac=False)
KP = "properties"
ROT = f"{KP}.rotationPolicy"


def _standalone_policy(permissions: dict[str, list[str]]) -> list[Spec]:
    return [*B, Spec(rt.ACCESS_POLICY, "ap", {
        "resourceGroupName": "rg-c", "vaultName": Ref("kv", "name"),
        "policy": {"tenantId": "t", "objectId": Ref("sp", "objectId"),
                   "permissions": permissions}}, parent="customer", provider="customer-arm")]


ADMIN = "abababab-abab-4bab-8bab-abababababab"
OTHER = "cdcdcdcd-cdcd-4dcd-8dcd-cdcdcdcdcdcd"


def _days_from_now(days: int) -> int:
    return int(time.time()) + days * 86400


def _in_days(days: float) -> str:
    """An RFC 3339 end date ``days`` from now (the expiry rule compares with the clock)."""
    return f"{datetime.now(UTC) + timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}"


ORG_APP = Spec(rt.APPLICATION, "org-app", {"displayName": "org-kms",
                                           "signInAudience": "AzureADMyOrg"})


def _credential(type_: str, **inputs: object) -> list[Spec]:
    """An organisation's own app (no cross-tenant use) with one credential."""
    return [*B, ORG_APP, Spec(type_, "cred", {"applicationId": Ref("org-app", "id"), **inputs})]


CASES: dict[str, list[Case]] = {
    "app-credential-expiry": [
        Case("pass_secret_ends_in_a_year", _credential(rt.APPLICATION_PASSWORD,
                                                       endDate=_in_days(365))),
        Case("pass_certificate_ends_in_a_year", _credential(
            APPLICATION_CERTIFICATE, type="AsymmetricX509Cert", value="pem",
            endDate=_in_days(365))),
        Case("fail_secret_ends_in_ten_days", _credential(rt.APPLICATION_PASSWORD,
                                                         endDate=_in_days(10)), ("cred",)),
        Case("fail_certificate_expired", _credential(APPLICATION_CERTIFICATE,
                                                     endDate=_in_days(-1)), ("cred",)),
        Case("fail_no_end_date", _credential(rt.APPLICATION_PASSWORD), ("cred",)),
        Case("fail_relative_end_within_days", _credential(
            rt.APPLICATION_PASSWORD, endDateRelative="240h"), ("cred",)),
        Case("pass_relative_end_beyond_days", _credential(
            rt.APPLICATION_PASSWORD, endDateRelative="2400h30m")),
        Case("fail_unreadable_end_date", _credential(rt.APPLICATION_PASSWORD,
                                                     endDate="next year"), ("cred",)),
        Case("pass_ten_days_when_window_is_five", _credential(
            rt.APPLICATION_PASSWORD, endDate=_in_days(10)), config={"withinDays": 5}),
        Case("undecided_end_date_unknown", _credential(rt.APPLICATION_PASSWORD,
                                                       endDate=UNKNOWN), undecided=("cred",)),
    ],
    "app-client-secret": [
        Case("pass_certificate", _credential(APPLICATION_CERTIFICATE, endDate=_in_days(365))),
        Case("pass_baseline_federation_only", B),
        Case("fail_application_password", _credential(rt.APPLICATION_PASSWORD,
                                                      endDate=_in_days(365)), ("cred",)),
        Case("fail_password_block", [*B, Spec(rt.APPLICATION, "org-app", {
            "displayName": "org-kms", "password": {"displayName": "s"}})], ("org-app",)),
        Case("undecided_password_block_unknown", [*B, Spec(rt.APPLICATION, "org-app", {
            "displayName": "org-kms", "password": UNKNOWN})], undecided=("org-app",)),
    ],
    "vault-soft-delete": [
        Case("pass_enabled", B),
        Case("fail_disabled", edit(B, "kv", f"{KP}.enableSoftDelete", False), ("kv",)),
        Case("pass_omitted_is_the_arm_default", edit(B, "kv", f"{KP}.enableSoftDelete", DELETE)),
        Case("fail_string_true", edit(B, "kv", f"{KP}.enableSoftDelete", "true"), ("kv",)),
        Case("undecided_unknown", edit(B, "kv", f"{KP}.enableSoftDelete", UNKNOWN),
             undecided=("kv",)),
    ],
    "vault-purge-protection": [
        Case("pass_enabled", B),
        Case("fail_disabled", edit(B, "kv", f"{KP}.enablePurgeProtection", False), ("kv",)),
        Case("fail_omitted", edit(B, "kv", f"{KP}.enablePurgeProtection", DELETE), ("kv",)),
        Case("fail_string_true", edit(B, "kv", f"{KP}.enablePurgeProtection", "true"), ("kv",)),
        Case("fail_string_false", edit(B, "kv", f"{KP}.enablePurgeProtection", "false"),
             ("kv",)),
        Case("undecided_secret", edit(B, "kv", f"{KP}.enablePurgeProtection", "[secret]"),
             undecided=("kv",)),
    ],
    "vault-soft-delete-retention": [
        Case("pass_90_days", B),
        Case("fail_30_days", edit(B, "kv", f"{KP}.softDeleteRetentionInDays", 30), ("kv",)),
        Case("pass_omitted_is_the_arm_default_90",
             edit(B, "kv", f"{KP}.softDeleteRetentionInDays", DELETE)),
        Case("pass_90_as_a_float", edit(B, "kv", f"{KP}.softDeleteRetentionInDays", 90.0)),
        Case("fail_nan", edit(B, "kv", f"{KP}.softDeleteRetentionInDays", math.nan), ("kv",)),
        Case("fail_infinity", edit(B, "kv", f"{KP}.softDeleteRetentionInDays", math.inf),
             ("kv",)),
        Case("fail_string_90", edit(B, "kv", f"{KP}.softDeleteRetentionInDays", "90"), ("kv",)),
        Case("fail_boolean", edit(B, "kv", f"{KP}.softDeleteRetentionInDays", True), ("kv",)),
        Case("pass_30_days_when_minimum_is_30",
             edit(B, "kv", f"{KP}.softDeleteRetentionInDays", 30),
             config={"minRetentionDays": 30}),
        Case("fail_45_days_when_minimum_is_60",
             edit(B, "kv", f"{KP}.softDeleteRetentionInDays", 45), ("kv",),
             config={"minRetentionDays": 60}),
    ],
    "vault-rbac-authorization": [
        Case("pass_rbac", B),
        Case("fail_access_policies", AP, ("kv",)),
        Case("fail_omitted", edit(B, "kv", f"{KP}.enableRbacAuthorization", DELETE), ("kv",)),
    ],
    "vault-network-firewall": [
        Case("pass_deny_with_bypass", B),
        Case("pass_allow_but_public_access_disabled",
             edit(edit(B, "kv", f"{KP}.networkAcls.defaultAction", "Allow"), "kv",
                  f"{KP}.publicNetworkAccess", "disabled")),
        Case("fail_allow_and_public", edit(B, "kv", f"{KP}.networkAcls.defaultAction", "Allow"),
             ("kv",)),
        Case("fail_no_bypass", edit(B, "kv", f"{KP}.networkAcls.bypass", "None"), ("kv",)),
        Case("fail_no_network_acls_is_allow", edit(B, "kv", f"{KP}.networkAcls", DELETE),
             ("kv",)),
        Case("pass_bypass_omitted_is_azure_services",
             edit(B, "kv", f"{KP}.networkAcls.bypass", DELETE)),
        Case("fail_allow_list_everything",
             edit(B, "kv", f"{KP}.networkAcls.ipRules", [{"value": "0.0.0.0/0"}]), ("kv",)),
        Case("fail_allow_list_wider_than_16",
             edit(B, "kv", f"{KP}.networkAcls.ipRules", [{"value": "10.0.0.0/8"}]), ("kv",)),
        Case("pass_allow_list_of_an_address_and_a_24",
             edit(B, "kv", f"{KP}.networkAcls.ipRules",
                  [{"value": "203.0.113.7"}, {"value": "198.51.100.0/24"}])),
        Case("pass_allow_list_of_a_8_when_configured",
             edit(B, "kv", f"{KP}.networkAcls.ipRules", [{"value": "10.0.0.0/8"}]),
             config={"minPrefixLength": 8}),
        Case("fail_allow_list_entry_not_an_address",
             edit(B, "kv", f"{KP}.networkAcls.ipRules", [{"value": "any"}]), ("kv",)),
        Case("undecided_public_access_unknown",
             edit(edit(B, "kv", f"{KP}.networkAcls.defaultAction", "Allow"), "kv",
                  f"{KP}.publicNetworkAccess", UNKNOWN), undecided=("kv",)),
    ],
    "key-type-and-size": [
        Case("pass_rsa_2048", B),
        Case("pass_rsa_hsm", edit(B, "key", f"{KP}.kty", "RSA-HSM")),
        Case("fail_ec", edit(B, "key", f"{KP}.kty", "EC"), ("key",)),
        Case("fail_4096_by_default", edit(B, "key", f"{KP}.keySize", 4096), ("key",)),
        Case("pass_size_omitted_is_the_arm_default_2048", edit(B, "key", f"{KP}.keySize", DELETE)),
        Case("fail_size_omitted_when_only_4096_allowed", edit(B, "key", f"{KP}.keySize", DELETE),
             ("key",), config={"allowedKeySizes": [4096]}),
        Case("fail_size_nan", edit(B, "key", f"{KP}.keySize", math.nan), ("key",)),
        Case("fail_size_string", edit(B, "key", f"{KP}.keySize", "2048"), ("key",)),
        Case("pass_4096_when_allowed", edit(B, "key", f"{KP}.keySize", 4096),
             config={"allowedKeySizes": [2048, 4096]}),
        Case("fail_hsm_when_only_rsa_allowed", edit(B, "key", f"{KP}.kty", "RSA-HSM"), ("key",),
             config={"allowedKeyTypes": ["RSA"]}),
    ],
    "key-wrap-operations": [
        Case("pass_wrap_unwrap", B),
        Case("fail_encrypt_decrypt", edit(B, "key", f"{KP}.keyOps", ["encrypt", "decrypt"]),
             ("key",)),
        Case("fail_wrap_only", edit(B, "key", f"{KP}.keyOps", ["wrapKey"]), ("key",)),
        Case("fail_omitted_means_every_operation", edit(B, "key", f"{KP}.keyOps", DELETE),
             ("key",)),
        Case("fail_extra_encrypt", edit(B, "key", f"{KP}.keyOps",
                                        ["wrapKey", "unwrapKey", "encrypt"]), ("key",)),
        Case("fail_extra_release_and_import", edit(B, "key", f"{KP}.keyOps",
                                                   ["wrapKey", "unwrapKey", "release", "import"]),
             ("key",)),
        Case("pass_sign_verify_on_a_snowflake_key",
             edit(edit(B, "key", f"{KP}.keyOps", ["wrapKey", "unwrapKey", "sign", "verify"]),
                  "key", "tags", {"tri-secret-secure": "snowflake"})),
        Case("fail_sign_verify_on_an_untagged_key",
             edit(B, "key", f"{KP}.keyOps", ["wrapKey", "unwrapKey", "sign", "verify"]),
             ("key",)),
        Case("fail_encrypt_on_a_snowflake_key",
             edit(edit(B, "key", f"{KP}.keyOps", ["wrapKey", "unwrapKey", "encrypt"]),
                  "key", "tags", {"tri-secret-secure": "snowflake"}), ("key",)),
        Case("pass_extra_encrypt_when_allowed",
             edit(B, "key", f"{KP}.keyOps", ["wrapKey", "unwrapKey", "encrypt"]),
             config={"allowedOperations": ["wrapKey", "unwrapKey", "encrypt"]}),
        Case("undecided_unknown_entry", edit(B, "key", f"{KP}.keyOps", ["wrapKey", UNKNOWN]),
             undecided=("key",)),
    ],
    "key-rotation-policy": [
        Case("pass_180_days_after_create", B),
        Case("fail_400_days", edit(B, "key", f"{ROT}.lifetimeActions.0.trigger.timeAfterCreate",
                                   "P400D"), ("key",)),
        Case("pass_400_days_when_allowed",
             edit(B, "key", f"{ROT}.lifetimeActions.0.trigger.timeAfterCreate", "P400D"),
             config={"maxRotationDays": 400}),
        Case("pass_one_month_before_yearly_expiry",
             edit(edit(B, "key", f"{ROT}.attributes.expiryTime", "P1Y"), "key",
                  f"{ROT}.lifetimeActions.0.trigger", {"timeBeforeExpiry": "P1M"})),
        Case("fail_one_month_before_two_year_expiry",
             edit(B, "key", f"{ROT}.lifetimeActions.0.trigger", {"timeBeforeExpiry": "P1M"}),
             ("key",)),
        Case("fail_notify_only", edit(B, "key", f"{ROT}.lifetimeActions.0.action.type", "notify"),
             ("key",)),
        Case("fail_unreadable_duration",
             edit(B, "key", f"{ROT}.lifetimeActions.0.trigger.timeAfterCreate", "90 days"),
             ("key",)),
        Case("fail_no_policy", edit(B, "key", f"{KP}.rotationPolicy", DELETE), ("key",)),
        Case("undecided_unknown_policy", edit(B, "key", f"{KP}.rotationPolicy", UNKNOWN),
             undecided=("key",)),
    ],
    "key-expiry": [
        Case("pass_expires", B),
        Case("fail_omitted", edit(B, "key", f"{KP}.attributes.expires", DELETE), ("key",)),
        Case("fail_expires_within_30_days",
             edit(B, "key", f"{KP}.attributes.expires", _days_from_now(10)), ("key",)),
        Case("pass_expires_in_10_days_when_warning_5",
             edit(B, "key", f"{KP}.attributes.expires", _days_from_now(10)),
             config={"warnWithinDays": 5}),
        Case("fail_expires_nan", edit(B, "key", f"{KP}.attributes.expires", math.nan), ("key",)),
    ],
    "key-state": [
        Case("pass_enabled_not_exportable_future_expiry", B),
        Case("pass_attributes_omitted_are_the_arm_defaults",
             edit(B, "key", f"{KP}.attributes", DELETE)),
        Case("fail_disabled", edit(B, "key", f"{KP}.attributes.enabled", False), ("key",)),
        Case("fail_enabled_as_a_string", edit(B, "key", f"{KP}.attributes.enabled", "true"),
             ("key",)),
        Case("fail_exportable", edit(B, "key", f"{KP}.attributes.exportable", True), ("key",)),
        Case("fail_expired", edit(B, "key", f"{KP}.attributes.expires", 946684800), ("key",)),
        Case("fail_expiry_infinity", edit(B, "key", f"{KP}.attributes.expires", -math.inf),
             ("key",)),
        Case("undecided_enabled_unknown", edit(B, "key", f"{KP}.attributes.enabled", UNKNOWN),
             undecided=("key",)),
    ],
    "access-policy-no-purge": [
        Case("pass_rbac", B),
        Case("pass_cmk_access_policy", AP),
        Case("fail_inline_purge", edit(AP, "kv", f"{KP}.accessPolicies.0.permissions.keys",
                                       ["get", "wrapKey", "unwrapKey", "purge"]), ("kv",)),
        Case("fail_standalone_all_secrets", _standalone_policy({"secrets": ["all"]}), ("ap",)),
        Case("pass_standalone_cmk", _standalone_policy({"keys": ["get", "wrapKey", "unwrapKey"]})),
        Case("undecided_unknown_list", edit(AP, "kv", f"{KP}.accessPolicies", UNKNOWN),
             undecided=("kv",)),
        Case("pass_purge_for_a_listed_administrator", edit(
            edit(AP, "kv", f"{KP}.accessPolicies.0.permissions.keys", ["get", "purge"]), "kv",
            f"{KP}.accessPolicies.0.objectId", ADMIN),
             config={"administratorObjectIds": [ADMIN]}),
        Case("fail_purge_for_an_unlisted_principal", edit(
            edit(AP, "kv", f"{KP}.accessPolicies.0.permissions.keys", ["get", "purge"]), "kv",
            f"{KP}.accessPolicies.0.objectId", ADMIN), ("kv",),
             config={"administratorObjectIds": [OTHER]}),
    ],
    "vault-region-failover": [
        Case("pass_paired_region", B),
        Case("pass_display_name_spelling", edit(B, "kv", "location", "West Europe")),
        Case("fail_region_without_pair", edit(B, "kv", "location", "polandcentral"), ("kv",)),
        Case("fail_qatar_central", edit(B, "kv", "location", "qatarcentral"), ("kv",)),
        Case("pass_region_added_by_config", edit(B, "kv", "location", "polandcentral"),
             config={"additionalRegions": ["polandcentral"]}),
        Case("undecided_location_unknown", edit(B, "kv", "location", UNKNOWN),
             undecided=("kv",)),
    ],
    "federated-credential-claims": [
        Case("pass_token_exchange_from_provider_tenant", B),
        Case("fail_extra_audience", edit(B, "fic", "audiences",
                                         ["api://AzureADTokenExchange", "api://other"]), ("fic",)),
        Case("fail_issuer_other_tenant",
             edit(B, "fic", "issuer", "https://login.microsoftonline.com/"
                  "22222222-2222-4222-8222-222222222222/v2.0"), ("fic",)),
        Case("fail_issuer_v1", edit(B, "fic", "issuer", "https://sts.windows.net/tenant/"),
             ("fic",)),
        Case("undecided_issuer_unknown", edit(B, "fic", "issuer", UNKNOWN), undecided=("fic",)),
    ],
    "storage-cross-tenant-cmk": [
        Case("pass_federated_cmk", B),
        Case("fail_platform_keys", edit(B, "st", "encryption.keySource", "Microsoft.Storage"),
             ("st",)),
        Case("fail_no_federated_client_id",
             edit(B, "st", "encryption.encryptionIdentity.encryptionFederatedIdentityClientId",
                  DELETE), ("st",)),
        Case("fail_system_assigned", edit(B, "st", "identity.type", "SystemAssigned"), ("st",)),
        Case("fail_identity_not_listed",
             edit(B, "st", "encryption.encryptionIdentity.encryptionUserAssignedIdentity",
                  "/subscriptions/x/resourceGroups/y/providers/Microsoft.ManagedIdentity/"
                  "userAssignedIdentities/other"), ("st",)),
        Case("undecided_first_preview", B, first_preview=True, undecided=("st",)),
    ],
    "disk-encryption-set-cross-tenant-cmk": [
        Case("pass_federated_cmk", B),
        Case("pass_double_encryption",
             edit(B, "des", "encryptionType", "EncryptionAtRestWithPlatformAndCustomerKeys")),
        Case("fail_platform_key", edit(B, "des", "encryptionType",
                                       "EncryptionAtRestWithPlatformKey"), ("des",)),
        Case("fail_source_vault", edit(B, "des", "activeKey.sourceVault",
                                       {"id": Ref("kv", "id")}), ("des",)),
        Case("fail_versionless_key_url", edit(B, "des", "activeKey.keyUrl", Ref("key", "keyUri")),
             ("des",)),
        Case("fail_client_id_cleared", edit(B, "des", "federatedClientId", "None"), ("des",)),
        Case("fail_no_identity", edit(B, "des", "identity", DELETE), ("des",)),
    ],
    "unchecked-resource-spelling": [
        Case("pass_azure_native_only", B),
        Case("fail_classic_vault_key_lock_and_binding", [
            *B,
            Spec("azure:keyvault/keyVault:KeyVault", "classic-kv", {
                "name": "kv-classic", "purgeProtectionEnabled": False}),
            Spec("azure:keyvault/key:Key", "classic-key", {"keyType": "RSA", "keySize": 2048}),
            Spec("azure:management/lock:Lock", "classic-lock", {"lockLevel": "CanNotDelete"}),
            Spec("azure:storage/customerManagedKey:CustomerManagedKey", "classic-cmk",
                 {"keyName": "cmk"}),
            Spec("azure:keyvault/secret:Secret", "classic-secret", {"name": "s"}),
        ], ("classic-kv", "classic-key", "classic-lock", "classic-cmk")),
    ],
}


@pytest.mark.parametrize(("policy", "case"), [(p, c) for p, cases in CASES.items() for c in cases],
                         ids=lambda v: v if isinstance(v, str) else v.id)
def test_resource_rule_case(policy: str, case: Case) -> None:
    assert_case(policy, case)


def test_resource_rules_ignore_other_types() -> None:
    """A vault rule never reports a key, and the reverse: rules match by type, not name."""
    specs = edit(edit(B, "kv", f"{KP}.enableSoftDelete", False), "key", f"{KP}.keyOps", [])
    assert_case("vault-soft-delete", Case("fail_vault_only", specs, ("kv",)))
    assert_case("key-wrap-operations", Case("fail_key_only", specs, ("key",)))

