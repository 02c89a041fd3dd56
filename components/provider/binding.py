"""What every provider-side binding shares: the key it encrypts with and who it acts as.

A binding reaches the customer's vault as the provider's user-assigned identity,
federated to the multitenant app the customer installed and granted. The key arrives
either parsed from config (split stacks) or as an output of the customer's component or
stack (one stack, stack reference); both are checked against what the service accepts,
and a bad one is reported under the config key or export it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from components.config.common import Service
from components.config.key_uri import KeyUri, parse_key_uri
from components.config.provider import key_version_problem


class KeyUriError(ValueError):
    """A key URI a service cannot use, named by where it came from."""


@dataclass(frozen=True)
class FederatedIdentity:
    """The provider identity a binding runs as across the tenant boundary."""

    identity_id: pulumi.Input[str]
    """ARM id of the user-assigned identity attached to the bound resource."""
    app_client_id: pulumi.Input[str]
    """Client id of the multitenant app: the federated client id every binding sets."""
    trust: pulumi.Resource
    """The federated credential; until it exists the identity cannot act as the app."""


@dataclass(frozen=True)
class BindingArgs:
    """Inputs common to the storage, SQL and disk bindings."""

    key_uri: KeyUri | pulumi.Output[str]
    """The customer's key URI: parsed from config, or an output (vault key, stack reference)."""
    key_source: str
    """Config key or stack export the URI came from, named in errors (e.g. ``sqlKeyUri``)."""
    identity: FederatedIdentity
    follow_latest: bool
    """True: pick up new key versions automatically; False: stay on the given version."""
    resource_group_name: pulumi.Input[str]
    location: str
    protect: bool
    """Pulumi ``protect`` on the bound resources: deleting one loses its data or its key."""
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)
    """Resources to finish first, e.g. the customer's grant and the propagation wait."""

    def guarded(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options for a bound resource that need not wait for the key: a protected child."""
        return pulumi.ResourceOptions(parent=parent, protect=self.protect)

    def options(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options for a resource that reads the key: protected, after the trust and grants."""
        return pulumi.ResourceOptions.merge(
            self.guarded(parent),
            pulumi.ResourceOptions(depends_on=[self.identity.trust, *self.after]))


def checked_key(args: BindingArgs, service: Service) -> pulumi.Output[KeyUri]:
    """The key as a ``KeyUri``, refused if ``service`` cannot use it.

    A URI from config is checked now; one from another resource or stack when it is known,
    which fails the update before the bound resource is sent to Azure.
    """
    if isinstance(args.key_uri, KeyUri):
        return pulumi.Output.from_input(_check(args.key_uri, args, service))
    return args.key_uri.apply(lambda value: _check(_parse(value, args), args, service))


def _parse(value: str, args: BindingArgs) -> KeyUri:
    parsed = parse_key_uri(value)
    if parsed is None:
        raise KeyUriError(f"{args.key_source}: {value!r} is not a key URI "
                          "(https://<vault>.vault.azure.net/keys/<name>/<version>)")
    return parsed


def _check(key: KeyUri, args: BindingArgs, service: Service) -> KeyUri:
    problem = key_version_problem(service, key, args.follow_latest)
    if problem:
        raise KeyUriError(f"{args.key_source}: {problem}")
    return key
