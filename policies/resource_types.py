"""Engine type tokens the rules match on (never resource names)."""

from typing import Final

RESOURCE_GROUP: Final = "azure-native:resources:ResourceGroup"
VAULT: Final = "azure-native:keyvault:Vault"
KEY: Final = "azure-native:keyvault:Key"
ACCESS_POLICY: Final = "azure-native:keyvault:AccessPolicy"
LOCK: Final = "azure-native:authorization:ManagementLockByScope"
ROLE_ASSIGNMENT: Final = "azure-native:authorization:RoleAssignment"
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
SERVICE_PRINCIPAL: Final = "azuread:index/servicePrincipal:ServicePrincipal"
SNOWFLAKE_EXECUTE: Final = "snowflake:index/execute:Execute"
SLEEP: Final = "time:index/sleep:Sleep"
