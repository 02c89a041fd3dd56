"""A stack loads the SDK modules its resources need and nothing else (structural, not timed).

Each case runs ``cmkctl`` in a fresh interpreter and lists what that process loaded: the
provider SDK modules must be exactly those defining the resource types of the plan it wrote
(``bench.floor``, from the SDKs' own registration tables), Snowflake's SDK only for a
Snowflake stack, and the Azure SDKs (``azure.*``, used by verify and backup-key) never.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.floor import floor_of, plan_types
from cmkctl.plan.recorder import ROOT
from tests.stacks import EXAMPLE_STACKS

_RUN = """
import json, runpy, sys
from bench.floor import loaded_sdk_modules
sys.argv = ["cmkctl", *sys.argv[1:]]
try:
    runpy.run_module("cmkctl", run_name="__main__")
except SystemExit as done:
    assert not done.code, done.code
print(json.dumps({"sdk": sorted(loaded_sdk_modules()),
                  "snowflake": "pulumi_snowflake" in sys.modules,
                  "azure": sorted(n for n in sys.modules if n.split(".")[0] == "azure")}))
"""


def _loaded(*argv: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("stack", sorted(EXAMPLE_STACKS))
def test_preview_loads_exactly_the_sdk_modules_of_its_resource_types(
        stack: str, tmp_path: Path) -> None:
    out = tmp_path / f"{stack}.json"
    loaded = _loaded("preview", "--stack", stack, "--out", str(out))
    needed = set(floor_of(plan_types(json.loads(out.read_text()))))
    assert set(loaded["sdk"]) == needed
    assert loaded["snowflake"] == (stack == "snowflake")
    assert loaded["azure"] == []


def test_cli_help_loads_no_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, cmkctl.cli\n"
         "print(sorted(n for n in sys.modules if n.split('.')[0] in "
         "('azure', 'pulumi', 'pulumi_policy', 'pulumi_azure_native', 'pulumi_azuread', "
         "'pulumi_snowflake', 'pulumiverse_time', 'grpc', 'yaml')))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
