"""Serves the cmk-prerequisites pack to the Pulumi CLI; the rules live in ``pack.py``."""

import sys
from pathlib import Path

# The CLI runs this directory as a script; make ``policies`` importable as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies.pack import PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, PACK_NAME, build_policies

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    description=PACK_DESCRIPTION,
)
