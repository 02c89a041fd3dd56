"""``cmkctl risks``: a plan (from a stack run offline or a file), the pack on it, the view."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from cmkctl.check.pack_config import PackConfig
from cmkctl.check.runner import PolicyCrashError, evaluate
from cmkctl.plan.reader import Plan, PlanError, load, parse_plan
from cmkctl.review.risks import Assessment, as_json_document, as_markdown_table, as_text, assess
from cmkctl.stacks.project import INSTALLED
from policies.pack import PACK_ENFORCEMENT_LEVEL, build_policies


def assess_plan(plan: Plan) -> list[Assessment]:
    """The view of the stack the plan leaves, with the pack's default configuration; every
    verdict undecided when the plan does not list every resource."""
    resources = plan.resources_after()
    results = evaluate(resources, build_policies(), PackConfig(), PACK_ENFORCEMENT_LEVEL,
                       plan.partial)
    return assess(resources, results, plan.partial)


def run(stack: str | None, plan: str | None, fmt: str, out: TextIO, err: TextIO,
        root: Path = INSTALLED) -> int:
    """Exit 0 with the view; 1 when the stack's config is invalid; 2 when unusable."""
    from cmkctl.plan.preview import PreviewError, build_plan  # noqa: PLC0415
    from components.config.problems import ConfigError  # noqa: PLC0415

    try:
        read = parse_plan(build_plan(stack, root)) if stack else load(str(plan))
        assessments = assess_plan(read.require_judgeable())
    except ConfigError as error:
        print(f"stack {stack!r}: {error.render()}", file=err)
        return 1
    except (PreviewError, PlanError, PolicyCrashError) as error:
        print(f"cmkctl risks: {plan or stack}: {error}", file=err)
        return 2
    name = stack or str(plan)
    if fmt == "json":
        print(json.dumps(as_json_document(name, assessments), indent=2), file=out)
    elif fmt == "markdown":
        print(as_markdown_table(assessments), file=out)
    else:
        print(as_text(name, assessments), file=out)
    return 0
