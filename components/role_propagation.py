"""A pause between the customer's grants and the provider's bindings, in one-stack mode.

Azure answers a new role assignment at once but applies it minutes later; a storage
account, SQL key or disk encryption set created in that window cannot read the key and
the first ``pulumi up`` fails. When one program makes both the grant and the binding, it
waits here, explicitly, instead of asking the operator to run ``up`` again:

- ``time.Sleep`` is a resource, so the wait is in the plan, sits between exactly the
  resources it separates, and is repeated only when a grant changes (``triggers``);
- a retry loop would hide the failure in logs and still fail the first ``up`` when the
  grant is slow, and there is no Azure API that reports propagation as complete.

Split stacks need no pause: the customer's grant is applied long before the provider binds.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi


def wait_after(name: str, grants: Mapping[str, pulumi.Resource],
               seconds: int) -> pulumi.Resource | None:
    """A sleep of ``seconds`` after every grant (keyed by key name); None when 0."""
    if seconds == 0 or not grants:
        return None
    import pulumiverse_time  # noqa: PLC0415 - loaded only by stacks that pause

    return pulumiverse_time.Sleep(
        name,
        create_duration=f"{seconds}s",
        # A replaced grant (new key, principal or scope) propagates again: wait again.
        triggers={key: _identity(grant) for key, grant in grants.items()},
        opts=pulumi.ResourceOptions(depends_on=list(grants.values())),
    )


def _identity(grant: pulumi.Resource) -> pulumi.Output[str]:
    """The grant's id, which changes whenever the grant is re-created."""
    if isinstance(grant, pulumi.CustomResource):
        return grant.id
    return grant.urn
