"""Random mutations of a compliant plan never crash ``cmkctl check``.

Whatever a plan becomes (values of other types, deep nesting, deleted fields, secrets and
unknowns anywhere, other encodings, truncation), the check exits 0 or 1 with one JSON
document on stdout and nothing on stderr, or 2 with one ``error:`` line on stderr and
nothing on stdout: never a traceback, never exit 1 for a crash.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import io
import json
import math
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmkctl.check.run import run
from tests.policies.cmk_plan_fixtures import UNKNOWN, baseline, build_plan

COMPLIANT: dict[str, Any] = build_plan(baseline())

Path_ = tuple[str | int, ...]

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.5, 90.0, 2048.0]),
    st.sampled_from(["[secret]", UNKNOWN, "true", "false", "90", "", "create", "delete",
                     "urn:pulumi:dev::p::t:m:T::x", "0.0.0.0/0", "CanNotDelete"]),
    st.text(max_size=8),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


ALL_PATHS = [p for p in _paths(COMPLIANT) if p]


def _apply(document: Any, path: Path_, action: str, value: Any, depth: int) -> None:
    holder = document
    for step in path[:-1]:
        holder = holder[step]
    last = path[-1]
    if action == "delete":
        del holder[last]
    elif action == "replace":
        holder[last] = value
    elif action == "nest":
        nested = holder[last]
        for _ in range(depth):
            nested = [nested] if depth % 2 else {"v": nested}
        holder[last] = nested
    else:  # "stringify": the value as a string, as a careless tool might write it
        holder[last] = json.dumps(holder[last])


MUTATION = st.tuples(st.sampled_from(ALL_PATHS),
                     st.sampled_from(["delete", "replace", "nest", "stringify"]),
                     VALUES, st.integers(1, 1200))


def _encode(document: Any, encoding: str, cut: int | None) -> bytes:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000))  # writing the deep plan, not reading it
    try:
        text = json.dumps(document)
    finally:
        sys.setrecursionlimit(limit)
    data = {"utf-8-sig": codecs.BOM_UTF8 + text.encode(),
            "utf-16-be-bom": codecs.BOM_UTF16_BE + text.encode("utf-16-be")}.get(
        encoding) or text.encode(encoding)
    return data[:cut] if cut is not None else data


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be-bom",
                                 "utf-32"]),
       cut=st.one_of(st.none(), st.integers(0, 4000)))
def test_any_mutation_gives_a_verdict_or_one_error_line(
        tmp_path_factory: Any, mutations: list[tuple[Path_, str, Any, int]], encoding: str,
        cut: int | None) -> None:
    document = copy.deepcopy(COMPLIANT)
    for path, action, value, depth in mutations:
        with contextlib.suppress(KeyError, IndexError, TypeError):
            _apply(document, path, action, value, depth)
    plan = Path(tmp_path_factory.mktemp("fuzz")) / "plan.json"
    plan.write_bytes(_encode(document, encoding, cut))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = run(str(plan), None, "json", out)
    assert code in (0, 1, 2)
    if code == 2:
        assert out.getvalue() == ""
        assert err.getvalue().startswith("error: ") and err.getvalue().count("\n") == 1
        assert "Traceback" not in err.getvalue()
    else:
        assert err.getvalue() == ""
        assert set(json.loads(out.getvalue())) == {"violations", "summary"}


def test_the_unmutated_plan_passes_in_every_encoding(tmp_path: Path) -> None:
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be-bom", "utf-32"):
        plan = tmp_path / f"{encoding}.json"
        plan.write_bytes(_encode(COMPLIANT, encoding, None))
        assert run(str(plan), None, "json", io.StringIO()) == 0, encoding
