"""The pack works as `pulumi policy publish` ships it: its directory alone, under another name.

``policies/`` is copied alone to a temporary directory of another name and started the way
the CLI starts a Python pack (``python -u -m pulumi.policy <engine> <pack dir>``, which runs
its ``__main__.py`` and prints the gRPC port); the test then talks to it with the SDK's own
client stubs. Nothing new is installed: the shared virtualenv stands in for the pack's own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies import resource_types as rt
from policies.pack import PACK_NAME, rule_metas

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
VAULT_URN = "urn:pulumi:dev::p::azure-native:keyvault/v20230701:Vault::kv"


def test_the_pack_imports_nothing_from_outside_its_directory() -> None:
    sources = [p for p in PACK_DIR.rglob("*.py") if "venv" not in p.parts]
    offending = [str(p) for p in sources
                 if any(word in p.read_text() for word in ("from components", "import components",
                                                            "from cmkctl", "import cmkctl"))]
    assert offending == []
    required = (PACK_DIR / "requirements.txt").read_text()
    assert "pulumi-policy>=1.21,<2" in required
    assert "virtualenv: venv" in (PACK_DIR / "PulumiPolicy.yaml").read_text()


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    pack = tmp_path_factory.mktemp("published") / "unpacked-cmk-pack-0.2.0"
    shutil.copytree(PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PULUMI_PROJECT")}
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(pack)],
        cwd=pack.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            pytest.fail(f"the pack did not print a port: {port!r} {process.communicate()[1]}")
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=30)


def test_a_copy_under_another_name_serves_every_rule(
        analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    assert info.name == PACK_NAME
    assert [p.name for p in info.policies] == [m.name for m in rule_metas()]


def test_a_copy_under_another_name_judges_a_versioned_vault(
        analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    properties = struct_pb2.Struct()
    properties.update({"vaultName": "kv", "location": "westeurope", "properties": {
        "enableSoftDelete": False, "enablePurgeProtection": True, "enableRbacAuthorization": True,
        "softDeleteRetentionInDays": 90,
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices"}}})
    request = analyzer_pb2.AnalyzeRequest(
        type=rt.VAULT.replace("keyvault:", "keyvault/v20230701:"), properties=properties,
        urn=VAULT_URN, name="kv")
    response = analyzer.Analyze(request, timeout=60)
    assert [(d.policyName, d.urn or VAULT_URN, d.enforcementLevel)
            for d in response.diagnostics] == [
        ("vault-soft-delete", VAULT_URN, analyzer_pb2.MANDATORY)]
