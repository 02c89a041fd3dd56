"""What the fork server loads before forking workers, so every worker starts warm.

The provider SDKs load their sub-modules lazily: ``from pulumi_azure_native import keyvault``
gives a placeholder whose module body runs at the first attribute read. Read here, in the fork
server, the modules are loaded once and shared by every worker (copy-on-write pages) instead
of being loaded again, privately, in each worker at its first stack: the pool's peak memory
(PSS) fell by about 20 MiB with two workers. The installed project's ``Pulumi.yaml`` is parsed
here too, once, instead of at each fresh worker's first stack (:mod:`cmkctl.fleet.pool`
replaces workers as they age).
"""

import contextlib

from pulumi_azure_native import (
    authorization,
    compute,
    keyvault,
    managedidentity,
    resources,
    sql,
    storage,
)

import cmkctl.fleet.stack  # noqa: F401 - the stack runner and, through it, the pack
import components.customer.vault
import components.program
import components.provider.disk
import components.provider.identity
import components.provider.sql
import components.provider.storage  # noqa: F401
from cmkctl.stacks.project import INSTALLED
from cmkctl.stacks.stack_file import StackFileError, project_schema

LOADED = (authorization.RoleAssignment, compute.DiskEncryptionSet, keyvault.Vault,
          managedidentity.UserAssignedIdentity, resources.ResourceGroup, sql.Server,
          storage.StorageAccount)
"""One class of each sub-module the fleet's components use: reading it loads the module."""

with contextlib.suppress(StackFileError):  # not installed from a project: workers parse theirs
    project_schema(INSTALLED)
