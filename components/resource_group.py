"""Each side's resource group: created and protected, or read when it already exists.

An existing group is *read* under the same resource name, so it keeps the URN a created
group has. That makes switching ``*ResourceGroupExisting`` from false to true safe: when a
stack that created its group later reads it instead, the engine sees a read of the same id
at the same URN and releases the group from its state (it calls this "relinquish", see
``GenerateReadSteps`` in pulumi/pulumi ``pkg/resource/deploy/step_generator.go``) instead
of deleting the group and everything in it, which dropping the resource would do.
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import resources

from components.config.common import TenantTarget


def group_id(target: TenantTarget) -> str:
    """The ARM id Azure gives the group (the id a created group has in the state)."""
    return f"/subscriptions/{target.subscription_id}/resourceGroups/{target.resource_group}"


def resource_group(
    name: str, target: TenantTarget, parent: pulumi.Resource, protect: bool
) -> pulumi.Output[str]:
    """The group's name, from a group created (and protected) or read under ``{name}-rg``."""
    if target.resource_group_existing:
        existing = resources.ResourceGroup.get(
            f"{name}-rg", group_id(target), opts=pulumi.ResourceOptions(parent=parent)
        )
        return existing.name
    group = resources.ResourceGroup(
        f"{name}-rg",
        resource_group_name=target.resource_group,
        location=target.location,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    return group.name
