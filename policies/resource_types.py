"""The engine type tokens the program registers (tests build plans with them).

Rules never match these strings: they match kinds (:mod:`policies.resource_kinds`), which
cover every spelling of each type.
"""

from typing import Final

RESOURCE_GROUP: Final = "azure-native:resources:ResourceGroup"
VAULT: Final = "azure-native:keyvault:Vault"
KEY: Final = "azure-native:keyvault:Key"
ACCESS_POLICY: Final = "azure-native:keyvault:AccessPolicy"
LOCK: Final = "azure-native:authorization:ManagementLockByScope"
LOCK_AT_RESOURCE_LEVEL: Final = "azure-native:authorization:ManagementLockAtResourceLevel"
ROLE_ASSIGNMENT: Final = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION: Final = "azure-native:authorization:RoleDefinition"
IDENTITY_FEDERATED_CREDENTIAL: Final = (
    "azure-native:managedidentity:FederatedIdentityCredential")
USER_ASSIGNED_IDENTITY: Final = "azure-native:managedidentity:UserAssignedIdentity"
STORAGE_ACCOUNT: Final = "azure-native:storage:StorageAccount"
SQL_SERVER: Final = "azure-native:sql:Server"
SQL_SERVER_KEY: Final = "azure-native:sql:ServerKey"
SQL_ENCRYPTION_PROTECTOR: Final = "azure-native:sql:EncryptionProtector"
DISK_ENCRYPTION_SET: Final = "azure-native:compute:DiskEncryptionSet"
APPLICATION: Final = "azuread:index/application:Application"
APPLICATION_PASSWORD: Final = "azuread:index/applicationPassword:ApplicationPassword"
FEDERATED_CREDENTIAL: Final = (
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential")
APPLICATION_CERTIFICATE: Final = "azuread:index/applicationCertificate:ApplicationCertificate"
FLEXIBLE_FEDERATED_CREDENTIAL: Final = (
    "azuread:index/applicationFlexibleFederatedIdentityCredential:"
    "ApplicationFlexibleFederatedIdentityCredential")
SERVICE_PRINCIPAL_PASSWORD: Final = (
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword")
SERVICE_PRINCIPAL_CERTIFICATE: Final = (
    "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate")
SERVICE_PRINCIPAL: Final = "azuread:index/servicePrincipal:ServicePrincipal"
SNOWFLAKE_EXECUTE: Final = "snowflake:index/execute:Execute"
SLEEP: Final = "time:index/sleep:Sleep"
