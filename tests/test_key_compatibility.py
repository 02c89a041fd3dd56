"""Config validation and the default pack read one key-compatibility table and never disagree."""

from __future__ import annotations

from itertools import combinations

import pytest
from pulumi_policy import EnforcementLevel

from cmkctl.plan.digest import preview_digest
from components.config.problems import ConfigError
from components.config.stack import load
from policies.key_compatibility import PREREQUISITE_KEY_SIZES, SERVICE_KEY_SIZES, accepted_by_all
from tests.policies.cmk_plan_fixtures import results
from tests.stacks import PREFIX, config_of, run_stack

SERVICES = ("storage", "sql", "disk", "snowflake")
SUBSETS = [c for n in range(1, 5) for c in combinations(SERVICES, n)]


def _validates(size: int, services: tuple[str, ...], beyond: bool) -> bool:
    raw = {k[len(PREFIX):]: v for k, v in config_of("customer", diskKeyName=None).items()}
    raw.update(keySize=str(size), services=str(list(services)).replace("'", '"'))
    if beyond:
        raw["allowKeySizeBeyondPrerequisite"] = "true"
    try:
        load(raw)
    except ConfigError:
        return False
    return True


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_without_the_setting_only_the_prerequisite_size_validates(size: int) -> None:
    for services in SUBSETS:
        assert _validates(size, services, beyond=False) == (size in PREREQUISITE_KEY_SIZES), (
            size, services)


@pytest.mark.parametrize("size", [3072, 4096])
def test_with_the_setting_a_size_validates_when_every_consumer_accepts_it(size: int) -> None:
    for services in SUBSETS:
        expected = all(size in SERVICE_KEY_SIZES[s] for s in services)
        assert _validates(size, services, beyond=True) == expected, (size, services)
        assert (size in accepted_by_all(services)) == expected


def test_a_validated_configuration_passes_the_default_pack() -> None:
    plan = preview_digest(run_stack("customer", services='["storage", "sql", "disk", '
                                                         '"snowflake"]'))
    assert [r for r in results(plan) if r.level == EnforcementLevel.MANDATORY] == []
