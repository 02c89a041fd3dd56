"""Stack references offline: mutual pairs preview, self-reference and deep chains are clear
errors, every referenced stack is recorded at most once per run, and a referenced stack's
problem is reported once, as that stack's. Runs sit behind a hang guard (not a timing)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from cmkctl.plan import preview
from cmkctl.plan.recorder import ROOT, Recording, record, stack_config
from cmkctl.stacks import references as stack_references
from cmkctl.stacks.stack_file import read_stack_config
from components.config.keys import Mode
from tests.stacks import PREFIX, example

HANG_GUARD = 60.0
"""Seconds before a run counts as hung; a guard against endless recursion, not a timing."""
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def guarded(run: Callable[[], object]) -> object:
    """Run ``run`` on a thread and fail (not hang) if it never finishes."""
    result: list[object] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(run())
        except BaseException as error:  # reported below, on the test's thread
            failure.append(error)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive(), "the run did not finish: references recurse"
    if failure:
        raise failure[0]
    return result[0]


def project(tmp_path: Path, stacks: dict[str, dict[str, object] | str]) -> Path:
    """A project directory with the program and the given stack files (config or raw text)."""
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for stack, content in stacks.items():
        text = content if isinstance(content, str) else yaml.safe_dump({"config": content})
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    return tmp_path


def customer(provider_stack: str = "acme/dedicated-cmk/provider", **overrides: object) -> dict:
    return example("customer", Mode.CUSTOMER, providerAppClientId=None,
                   providerStack=provider_stack, **overrides)


def provider(customer_stack: str = "acme/dedicated-cmk/customer", **overrides: object) -> dict:
    return example("provider", Mode.PROVIDER, storageKeyUri=None, sqlKeyUri=None,
                   diskKeyUri=None, vaultLocation=None, customerStack=customer_stack,
                   **overrides)


def preview_of(root: Path, stack: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = guarded(lambda: preview.run(stack, None, False, stdout=out, stderr=err, root=root))
    return code, out.getvalue(), err.getvalue()  # type: ignore[return-value]


def recording(root: Path, stack: str) -> Recording:
    return guarded(lambda: record(stack, stack_config(stack, root, root), root=root,
                                  stack_dir=root))  # type: ignore[return-value]


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    """The documented split set-up with stack references both ways."""
    return project(tmp_path, {"customer": customer(), "provider": provider()})


def test_a_mutual_pair_previews_from_either_side(pair: Path) -> None:
    assert preview_of(pair, "customer")[0] == 0
    assert preview_of(pair, "provider")[0] == 0


def test_the_reference_back_into_the_chain_is_unknown_as_in_a_first_preview(pair: Path) -> None:
    rec = recording(pair, "customer")
    principal = rec.get("azuread:index/servicePrincipal:ServicePrincipal", "customer-provider-sp")
    assert principal.inputs["clientId"] == UNKNOWN
    assert rec.get("pulumi:pulumi:StackReference", "acme/dedicated-cmk/provider").read


def test_the_provider_side_binds_the_customers_keys_through_the_pair(pair: Path) -> None:
    rec = recording(pair, "provider")
    des = rec.get("azure-native:compute:DiskEncryptionSet", "disk-encryption-set")
    customer_outputs = recording(pair, "customer").stack_outputs
    assert des.inputs["activeKey"] == {"keyUrl": customer_outputs["diskKeyUri"]}


def test_a_provider_reading_the_customer_stack_needs_no_vault_location(tmp_path: Path) -> None:
    root = project(tmp_path, {"customer": example("customer", Mode.CUSTOMER),
                              "provider": provider()})
    assert recording(root, "customer").stack_outputs["vaultLocation"] == "westeurope"
    assert "vaultLocation" not in provider()
    assert preview_of(root, "provider")[0] == 0


def test_a_vault_in_another_region_than_the_disks_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, {"customer": example("customer", Mode.CUSTOMER,
                                                  customerLocation="northeurope"),
                              "provider": provider()})
    assert preview_of(root, "provider") == (1, "", (
        "cmkctl preview: customerStack acme/dedicated-cmk/customer: the vault is in "
        "'northeurope' but providerLocation is 'westeurope'; disk encryption sets need the "
        "vault in their region (pulumi config set providerLocation northeurope)\n"))


def test_each_referenced_stack_is_read_once_per_run(pair: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []

    def counting(root: Path, stack: str, stack_dir: Path | None = None) -> dict[str, str]:
        reads.append(stack)
        return read_stack_config(root, stack, stack_dir)

    monkeypatch.setattr(stack_references, "read_stack_config", counting)
    recording(pair, "customer")
    assert reads == ["provider"]


def test_a_stack_that_references_itself_is_refused_naming_the_chain(tmp_path: Path) -> None:
    root = project(tmp_path, {"customer": customer("acme/dedicated-cmk/customer")})
    assert preview_of(root, "customer") == (1, "", (
        "cmkctl preview: stack 'customer' (customer): providerStack acme/dedicated-cmk/customer "
        "names stack 'customer' itself; a stack cannot read its own outputs: name the other "
        "party's stack\n"))


def test_a_chain_deeper_than_the_bound_is_refused_naming_it(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "c1": customer("acme/dedicated-cmk/p1"), "p1": provider("acme/dedicated-cmk/c2"),
        "c2": customer("acme/dedicated-cmk/p2"), "p2": provider("acme/dedicated-cmk/c3"),
        "c3": customer("acme/dedicated-cmk/p3"),
    })
    code, _, err = preview_of(root, "c1")
    assert (code, err) == (1, (
        "cmkctl preview: stack 'p2' (c1 -> p1 -> c2 -> p2): customerStack acme/dedicated-cmk/c3: "
        "the chain c1 -> p1 -> c2 -> p2 -> c3 is deeper than 4 stacks; reference the stack that "
        "holds the values directly\n"))


BAD_REFERENCES = [
    ("missing stack file", None, 2,
     "cmkctl preview: stack 'customer' (customer): providerStack acme/dedicated-cmk/provider: "
     "Pulumi.provider.yaml: no such stack file; create it with `pulumi stack init` and "
     "`pulumi config set`\n"),
    ("invalid YAML", "config:\n  dedicated-cmk:mode: [provider\n", 2,
     "cmkctl preview: stack 'customer' (customer): providerStack acme/dedicated-cmk/provider: "
     "Pulumi.provider.yaml: line 3, column 1: expected ',' or ']', but got '<stream end>'\n"),
    ("invalid config", {PREFIX + "mode": "provider", PREFIX + "providerTenantId": "x"}, 1, None),
    ("lacks the output", {**example("customer", Mode.CUSTOMER)}, 1,
     "cmkctl preview: providerStack acme/dedicated-cmk/provider: that stack has no output "
     "'providerAppClientId'; it has diskKeyUri, diskKeyUriVersionless, keyIds, mode, "
     "providerServicePrincipalObjectId, sqlKeyUri, sqlKeyUriVersionless, storageKeyUri, "
     "storageKeyUriVersionless, vaultId, vaultLocation, vaultUri\n"),
]


@pytest.mark.parametrize(("content", "code", "expected"), [b[1:] for b in BAD_REFERENCES],
                         ids=[b[0] for b in BAD_REFERENCES])
def test_a_bad_referenced_stack_is_reported_once_as_that_stacks(
    tmp_path: Path, content: dict | str | None, code: int, expected: str | None
) -> None:
    stacks: dict[str, dict[str, object] | str] = {"customer": customer()}
    if content is not None:
        stacks["provider"] = content
    found = preview_of(project(tmp_path, stacks), "customer")
    if expected is None:
        assert found[:2] == (code, "")
        assert found[2].startswith(
            "cmkctl preview: stack 'customer' (customer): providerStack "
            "acme/dedicated-cmk/provider: referenced stack 'provider': invalid stack "
            "configuration (")
        assert found[2].count("invalid stack configuration") == 1
        assert "dedicated-cmk:providerTenantId: 'x' is not a GUID" in found[2]
        assert "Traceback" not in found[2]
    else:
        assert found == (code, "", expected)


def test_no_message_carries_a_traceback() -> None:
    for _, _, _, expected in BAD_REFERENCES:
        assert expected is None or not re.search(r"Traceback|File \"", expected)


def test_the_command_prints_one_line_and_nothing_else_on_stderr(tmp_path: Path) -> None:
    """An error raised inside the program leaves no asyncio noise or traceback behind."""
    root = project(tmp_path, {"customer": example("customer", Mode.CUSTOMER,
                                                  customerLocation="northeurope"),
                              "provider": provider()})
    script = ("import sys; from pathlib import Path; from cmkctl.plan import preview; "
              f"sys.exit(preview.run('provider', None, False, root=Path({str(root)!r})))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=HANG_GUARD, check=False)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("cmkctl preview: customerStack acme/dedicated-cmk/customer: "
                                  "the vault is in 'northeurope'")
