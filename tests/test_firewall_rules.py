"""Each refused vault allow-list entry, with the key, the value and the fix; and the accepted."""

from __future__ import annotations

import json

import pytest

from components.config.problems import ConfigError
from components.config.stack import load
from tests.test_config import CUSTOMER

PUBLIC = "the vault firewall admits public IPv4 addresses only"
REFUSED = [
    ("everything", ["0.0.0.0/0"],
     "vaultIpRules[0]: '0.0.0.0/0' allows every IPv4 address, which undoes the firewall; list "
     "the public ranges that must reach the vault"),
    ("a /8", ["20.0.0.0/8"],
     "vaultIpRules[0]: '20.0.0.0/8' is a /8 range (16777216 addresses), wider than the /16 "
     "allowed; list narrower ranges (vaultIpRuleWidestPrefix sets the limit)"),
    ("a /15", ["20.0.0.0/15"],
     "vaultIpRules[0]: '20.0.0.0/15' is a /15 range (131072 addresses), wider than the /16 "
     "allowed; list narrower ranges (vaultIpRuleWidestPrefix sets the limit)"),
    *((name, [rule], f"vaultIpRules[0]: {rule!r} is {kind}; {PUBLIC}") for name, rule, kind in (
        ("RFC 1918 10/8", "10.1.0.0/16", "a private range (RFC 1918)"),
        ("RFC 1918 172.16/12", "172.20.1.0/24", "a private range (RFC 1918)"),
        ("RFC 1918 192.168/16", "192.168.4.4", "a private range (RFC 1918)"),
        ("CGNAT", "100.64.1.0/24", "carrier-grade NAT space (RFC 6598)"),
        ("loopback", "127.0.0.1", "a loopback range"),
        ("link-local", "169.254.169.254", "a link-local range"),
        ("multicast", "224.0.0.0/24", "a multicast range"),
        ("reserved", "240.0.0.0/16", "a reserved range (240.0.0.0/4)"),
        ("this network", "0.0.0.0/16", "a special-purpose range (IANA registry), not a public one"),
        ("benchmarking", "198.18.0.0/24",
         "a special-purpose range (IANA registry), not a public one"),
    )),
    ("IPv6", ["2001:db8::/32"],
     "vaultIpRules[0]: '2001:db8::/32' is IPv6; Key Vault firewall rules take IPv4 only"),
    ("host bits", ["20.50.1.1/24"],
     "vaultIpRules[0]: '20.50.1.1/24' is not an IPv4 address or CIDR range with host bits clear"),
    ("same entry twice", ["20.50.1.0/24", "20.50.1.0/24"],
     "vaultIpRules: ['20.50.1.0/24', '20.50.1.0/24'] lists the same entry twice"),
    ("same range spelled twice", ["20.50.1.7", "20.50.1.7/32"],
     "vaultIpRules[1]: '20.50.1.7/32' is already covered by vaultIpRules[0] '20.50.1.7'; remove "
     "the duplicate"),
    ("covered by a wider entry", ["20.50.0.0/16", "20.50.1.0/24"],
     "vaultIpRules[1]: '20.50.1.0/24' is already covered by vaultIpRules[0] '20.50.0.0/16'; "
     "remove the duplicate"),
]


@pytest.mark.parametrize(("rules", "expected"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_a_refused_entry_is_named_with_its_value(rules: list[str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load({**CUSTOMER, "vaultIpRules": json.dumps(rules)})
    assert [f"{p.key}: {p.problem}" for p in caught.value.problems] == [expected]
    assert all(p.fix for p in caught.value.problems)


@pytest.mark.parametrize("rules", [["20.50.1.0/24"], ["20.50.0.0/16"], ["20.50.1.7"],
                                   ["203.0.113.0/24", "198.51.100.8/29"], ["52.0.0.0/16",
                                                                            "20.50.1.0/24"]])
def test_narrow_public_ranges_are_accepted(rules: list[str]) -> None:
    customer = load({**CUSTOMER, "vaultIpRules": json.dumps(rules)}).customer
    assert customer is not None and customer.vault.ip_rules == tuple(rules)


def test_the_widest_prefix_is_configurable_but_never_below_8() -> None:
    customer = load({**CUSTOMER, "vaultIpRules": '["20.0.0.0/12"]',
                     "vaultIpRuleWidestPrefix": "12"}).customer
    assert customer is not None and customer.vault.ip_rules == ("20.0.0.0/12",)
    with pytest.raises(ConfigError) as caught:
        load({**CUSTOMER, "vaultIpRules": '["20.0.0.0/12"]', "vaultIpRuleWidestPrefix": "0"})
    assert [p.render() for p in caught.value.problems] == [
        "dedicated-cmk:vaultIpRuleWidestPrefix: 0 is outside the allowed range 8-32\n"
        "    fix: pulumi config set vaultIpRuleWidestPrefix 8",
        "dedicated-cmk:vaultIpRules[0]: '20.0.0.0/12' is a /12 range (1048576 addresses), wider "
        "than the /16 allowed; list narrower ranges (vaultIpRuleWidestPrefix sets the limit)\n"
        "    fix: pulumi config set --path 'vaultIpRules[0]' <narrower public range>",
    ]


def test_zero_prefix_is_refused_whatever_the_limit() -> None:
    with pytest.raises(ConfigError) as caught:
        load({**CUSTOMER, "vaultIpRules": '["0.0.0.0/0"]', "vaultIpRuleWidestPrefix": "8"})
    assert [p.key for p in caught.value.problems] == ["vaultIpRules[0]"]
