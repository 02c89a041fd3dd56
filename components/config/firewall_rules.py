"""The vault firewall's IP allow-list kept narrow: public IPv4 ranges, no wider than allowed.

The source document prescribes network protection against key compromise; an allow-list of
``0.0.0.0/0`` (or a /8) undoes it while the firewall still reads "Deny". Key Vault takes IPv4
addresses or CIDR ranges only (``IPRule.value``: "An IPv4 address range in CIDR notation") and
refuses private ranges (Add-AzKeyVaultNetworkRule: "any IP range inside 10.0.0.0-10.255.255.255
(private IP addresses) cannot be used"); other non-public ranges never carry a client's traffic
to a public endpoint. The documentation ranges of RFC 5737 are accepted, as examples use them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

WIDEST_PREFIX = 16
"""Default shortest prefix an entry may have (the policy pack's ``minPrefixLength`` too)."""

DOCUMENTATION = tuple(ipaddress.IPv4Network(n) for n in
                      ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_KINDS = (
    ("is_loopback", "a loopback range"),
    ("is_link_local", "a link-local range"),
    ("is_multicast", "a multicast range"),
    ("is_unspecified", "the unspecified address"),
    ("is_reserved", "a reserved range (240.0.0.0/4)"),
)
_PRIVATE = (
    (ipaddress.IPv4Network("10.0.0.0/8"), "a private range (RFC 1918)"),
    (ipaddress.IPv4Network("172.16.0.0/12"), "a private range (RFC 1918)"),
    (ipaddress.IPv4Network("192.168.0.0/16"), "a private range (RFC 1918)"),
    (ipaddress.IPv4Network("100.64.0.0/10"), "carrier-grade NAT space (RFC 6598)"),
)


def entry_problem(value: str) -> str | None:
    """Why ``value`` cannot be an entry of the allow-list at all (any width), or None."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return f"{value!r} is not an IPv4 address or CIDR range with host bits clear"
    if not isinstance(network, ipaddress.IPv4Network):
        return f"{value!r} is IPv6; Key Vault firewall rules take IPv4 only"
    if network.prefixlen == 0:
        return (f"{value!r} allows every IPv4 address, which undoes the firewall; list the "
                "public ranges that must reach the vault")
    kind = next((label for attr, label in _KINDS if getattr(network, attr)), None)
    kind = kind or next((label for block, label in _PRIVATE if network.overlaps(block)), None)
    if kind is None and not network.is_global:
        if any(network.subnet_of(d) for d in DOCUMENTATION):
            return None
        kind = "a special-purpose range (IANA registry), not a public one"
    if kind is None:
        return None
    return f"{value!r} is {kind}; the vault firewall admits public IPv4 addresses only"


def allow_list_problems(rules: Sequence[str], widest: int) -> Iterator[tuple[int, str]]:
    """(index, problem) for entries wider than /``widest`` or covered by an earlier entry
    (the same range spelled differently, or inside it); entries are already valid."""
    networks = [ipaddress.IPv4Network(rule) for rule in rules]
    for index, network in enumerate(networks):
        if network.prefixlen < widest:
            yield index, (f"{rules[index]!r} is a /{network.prefixlen} range "
                          f"({network.num_addresses} addresses), wider than the /{widest} "
                          "allowed; list narrower ranges (vaultIpRuleWidestPrefix sets the "
                          "limit)")
            continue
        for earlier in range(index):
            if rules[earlier] != rules[index] and network.subnet_of(networks[earlier]):
                yield index, (f"{rules[index]!r} is already covered by vaultIpRules[{earlier}] "
                              f"{rules[earlier]!r}; remove the duplicate")
                break
