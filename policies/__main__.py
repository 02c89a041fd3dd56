"""Serves the cmk-prerequisites pack to the Pulumi CLI; the rules live in ``pack.py``.

The CLI runs this file from wherever it unpacked the published pack (a directory of any
name, with nothing beside it), so the pack registers its own directory as the
``policies`` package instead of relying on its directory name or a parent on sys.path.
"""

import importlib.util
import sys
from pathlib import Path

if "policies" not in sys.modules:
    _HERE = Path(__file__).resolve().parent
    _SPEC = importlib.util.spec_from_file_location(
        "policies", _HERE / "__init__.py", submodule_search_locations=[str(_HERE)])
    if _SPEC is None or _SPEC.loader is None:
        raise ImportError(f"cannot load the policy pack from {_HERE}")
    sys.modules["policies"] = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(sys.modules["policies"])

from pulumi_policy import PolicyPack

from policies.pack import (
    PACK_DESCRIPTION,
    PACK_ENFORCEMENT_LEVEL,
    PACK_NAME,
    build_policies,
)

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    description=PACK_DESCRIPTION,
)
