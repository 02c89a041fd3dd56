"""The token table: every spelling of a kind, checked or reported as not checked."""

import pytest

from policies.resource_kinds import Kind, checked_kind, is_unchecked, kind_of, spelling_of

CHECKED = [
    ("azure-native:keyvault:Vault", Kind.VAULT),
    ("azure-native:keyvault/v20230701:Vault", Kind.VAULT),
    ("azure-native:keyvault/v20240401preview:Vault", Kind.VAULT),
    ("azure-native:keyvault/latest:Vault", Kind.VAULT),
    ("azure-nextgen:keyvault/v20190901:Vault", Kind.VAULT),
    ("azure-native:keyvault/v20230701:Key", Kind.KEY),
    ("azure-native:keyvault:AccessPolicy", Kind.ACCESS_POLICY),
    ("azure-native:authorization:ManagementLockByScope", Kind.LOCK),
    ("azure-native:authorization:ManagementLockAtResourceLevel", Kind.LOCK),
    ("azure-native:authorization/v20200501:ManagementLockAtResourceLevel", Kind.LOCK),
    ("azure-native:authorization/v20170401:ManagementLockByScope", Kind.LOCK),
    ("azure-native:authorization:ManagementLockAtResourceGroupLevel", Kind.LOCK),
    ("azure-native:authorization:ManagementLockAtSubscriptionLevel", Kind.LOCK),
    ("azure-native:authorization/v20220401:RoleAssignment", Kind.ROLE_ASSIGNMENT),
    ("azure-native:managedidentity/v20230131:UserAssignedIdentity", Kind.USER_ASSIGNED_IDENTITY),
    ("azure-native:storage/v20230101:StorageAccount", Kind.STORAGE_ACCOUNT),
    ("azure-native:sql/v20230801:Server", Kind.SQL_SERVER),
    ("azure-native:sql:ServerKey", Kind.SQL_SERVER_KEY),
    ("azure-native:sql:EncryptionProtector", Kind.SQL_ENCRYPTION_PROTECTOR),
    ("azure-native:compute/v20240302:DiskEncryptionSet", Kind.DISK_ENCRYPTION_SET),
    ("azure-native:resources/v20240301:ResourceGroup", Kind.RESOURCE_GROUP),
    ("azuread:index/application:Application", Kind.APPLICATION),
    ("azuread:index/applicationRegistration:ApplicationRegistration", Kind.APPLICATION),
    ("azuread:index/applicationPassword:ApplicationPassword", Kind.APPLICATION_PASSWORD),
    ("azuread:index/applicationCertificate:ApplicationCertificate", Kind.APPLICATION_CERTIFICATE),
    ("azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
     Kind.SERVICE_PRINCIPAL_PASSWORD),
    ("azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate",
     Kind.SERVICE_PRINCIPAL_CERTIFICATE),
    ("azuread:index/applicationFlexibleFederatedIdentityCredential:"
     "ApplicationFlexibleFederatedIdentityCredential", Kind.FEDERATED_CREDENTIAL),
    ("snowflake:index/execute:Execute", Kind.SNOWFLAKE_EXECUTE),
    ("azure-native:managedidentity/v20230131:FederatedIdentityCredential",
     Kind.IDENTITY_FEDERATED_CREDENTIAL),
]

UNCHECKED = [
    ("azure:keyvault/keyVault:KeyVault", Kind.VAULT),
    ("azure:keyvault/key:Key", Kind.KEY),
    ("azure:keyvault/accessPolicy:AccessPolicy", Kind.ACCESS_POLICY),
    ("azure:management/lock:Lock", Kind.LOCK),
    ("azure:authorization/assignment:Assignment", Kind.ROLE_ASSIGNMENT),
    ("azure:storage/customerManagedKey:CustomerManagedKey", Kind.STORAGE_CUSTOMER_MANAGED_KEY),
    ("azure:mssql/serverTransparentDataEncryption:ServerTransparentDataEncryption",
     Kind.SQL_ENCRYPTION_PROTECTOR),
    ("azure:compute/diskEncryptionSet:DiskEncryptionSet", Kind.DISK_ENCRYPTION_SET),
    ("azure-native:sql/v20230801:ManagedInstanceKey", Kind.SQL_MANAGED_INSTANCE_KEY),
]


@pytest.mark.parametrize(("token", "kind"), CHECKED)
def test_every_spelling_the_rules_check_maps_to_its_kind(token: str, kind: Kind) -> None:
    assert (kind_of(token), checked_kind(token), is_unchecked(token)) == (kind, kind, False)


@pytest.mark.parametrize(("token", "kind"), UNCHECKED)
def test_spellings_the_rules_cannot_read_are_known_but_unchecked(token: str, kind: Kind) -> None:
    assert (kind_of(token), checked_kind(token), is_unchecked(token)) == (kind, None, True)


@pytest.mark.parametrize("token", [
    "azure-native:keyvault:Secret", "azure-native:keyvault/v2023:Vault",
    "azure-native:keyvault:Vault:extra", "azure:keyvault/secret:Secret", "pulumi:pulumi:Stack",
    "", "keyvault:Vault", "pulumi:providers:azure-native",
])
def test_other_tokens_are_no_kind(token: str) -> None:
    assert (kind_of(token), spelling_of(token)) == (None, None)


def test_spelling_names_the_provider() -> None:
    found = spelling_of("azure-nextgen:keyvault/latest:Vault")
    assert found is not None and (found.provider, found.checked) == ("azure-nextgen", True)
