"""The pack on what the program really produces: every example stack has no mandatory violation.

Plans come from the offline recorder (``cmkctl.plan.preview.build_plan``), the same JSON a
reviewer would feed to ``cmkctl check``.
"""

from __future__ import annotations

import pytest
from pulumi_policy import EnforcementLevel

from cmkctl.plan.preview import build_plan
from tests.policies.cmk_plan_fixtures import results
from tests.stacks import EXAMPLE_STACKS

STACKS = EXAMPLE_STACKS  # users' own stack files beside them are not the pack's examples


def test_the_dev_stack_is_an_example() -> None:
    assert "dev" in STACKS


@pytest.mark.parametrize("stack", STACKS)
def test_example_stack_has_no_mandatory_violation(stack: str) -> None:
    plan = build_plan(stack)
    found = results(plan)
    mandatory = [f"{r.policy} {r.urn}: {r.message}" for r in found
                 if r.level == EnforcementLevel.MANDATORY]
    assert mandatory == []
    assert len(plan["steps"]) > 1, "the example should create resources"
