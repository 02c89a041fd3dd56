"""backup-key: an owner-only blob that is never overwritten silently, and a proved restore."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from cmkctl.live.backup_key import run
from tests.verify.conftest import CURRENT_VERSION, ENV, KEY, KEY_URI, VAULT, healthy_vault
from tests.verify.fake_cloud import Cloud, b64url

SECOND = "kvbackup1"
SECOND_URI = f"https://{SECOND}.vault.azure.net/"


def backup(connector: Any, out: Path, **options: Any) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(options.pop("key_uri", KEY_URI), str(out), stdout=stdout, stderr=stderr,
               environ=options.pop("environ", ENV), connector=connector, **options)
    return code, stdout.getvalue(), stderr.getvalue()


def empty_vault(cloud: Cloud, name: str = SECOND, subscription: str | None = None) -> None:
    vault = healthy_vault(name, subscription or cloud.vaults[VAULT].subscription)
    vault.keys.clear()
    cloud.vaults[name] = vault


def test_blob_is_written_owner_only_and_never_printed(connector: Any, cloud: Cloud,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "cmk.blob"
    code, stdout, stderr = backup(connector, out)
    (blob,) = cloud.backups
    assert (code, stderr) == (0, "")
    assert out.read_bytes() == blob
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stdout.startswith(f"backup of key {KEY} from https://{VAULT}.vault.azure.net/ written "
                             f"to {out} ({len(blob)} bytes, mode 0600, sha256 ")
    assert b64url(blob) not in stdout and blob.hex() not in stdout
    record = Path(f"{out}.json")
    assert sorted(tmp_path.iterdir()) == [out, record]  # no temporary file left behind
    public = cloud.vaults[VAULT].keys[KEY].versions[-1].private.public_key().public_numbers()
    assert json.loads(record.read_text()) == {
        "key": KEY, "vault": f"https://{VAULT}.vault.azure.net/",
        "blobSha256": hashlib.sha256(blob).hexdigest(), "version": CURRENT_VERSION,
        "publicKeySha256": hashlib.sha256(
            public.n.to_bytes(256, "big") + b"." + public.e.to_bytes(3, "big")).hexdigest()}
    assert stat.S_IMODE(record.stat().st_mode) == 0o600


def test_existing_file_is_not_overwritten_without_force(connector: Any, cloud: Cloud,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "cmk.blob"
    out.write_bytes(b"earlier backup")
    code, stdout, stderr = backup(connector, out)
    assert (code, stdout) == (2, "")
    assert stderr == (f"cmkctl backup-key: --out {out} exists; refusing to overwrite a backup "
                      "(pass --force to replace it)\n")
    assert out.read_bytes() == b"earlier backup"
    assert cloud.requests == []
    code, _, _ = backup(connector, out, force=True)
    assert code == 0
    assert out.read_bytes() == next(iter(cloud.backups))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_restore_into_a_second_vault_is_proved(connector: Any, cloud: Cloud,
                                               tmp_path: Path) -> None:
    empty_vault(cloud)
    code, stdout, stderr = backup(connector, tmp_path / "cmk.blob", restore_into=SECOND_URI)
    assert (code, stderr) == (0, "")
    restored = cloud.vaults[SECOND].keys[KEY].versions[-1].private.public_key().public_numbers()
    source = cloud.vaults[VAULT].keys[KEY].versions[-1].private.public_key().public_numbers()
    assert restored == source
    assert f"restore proved: {SECOND_URI} now holds {KEY}" in stdout


def test_restore_conflict_keeps_the_blob_and_exits_1(connector: Any, cloud: Cloud,
                                                     tmp_path: Path) -> None:
    empty_vault(cloud)
    cloud.vaults[SECOND].keys[KEY] = cloud.vaults[VAULT].keys[KEY]
    out = tmp_path / "cmk.blob"
    code, _, stderr = backup(connector, out, restore_into=SECOND_URI)
    assert code == 1
    assert out.exists()
    assert stderr.startswith(f"cmkctl backup-key: 409 Conflict: vault {SECOND} already has a key "
                             f"(or a soft-deleted key) named {KEY}")


def test_restore_into_another_subscription_is_refused(connector: Any, cloud: Cloud,
                                                      tmp_path: Path) -> None:
    empty_vault(cloud, subscription="99999999-2222-3333-4444-555555555555")
    code, _, stderr = backup(connector, tmp_path / "cmk.blob", restore_into=SECOND_URI)
    assert code == 1
    assert stderr.startswith(f"cmkctl backup-key: restore not proved: 403 Forbidden while "
                             f"restoring into {SECOND}")
    assert "same subscription and geography" in stderr


def test_backup_of_a_purged_key_fails(connector: Any, cloud: Cloud, tmp_path: Path) -> None:
    del cloud.vaults[VAULT].keys[KEY]
    out = tmp_path / "cmk.blob"
    code, _, stderr = backup(connector, out)
    assert (code, out.exists()) == (1, False)
    assert stderr.startswith("cmkctl backup-key: 404 KeyNotFound while backing up key cmk")


@pytest.mark.parametrize(("options", "message"), [
    ({"key_uri": "kvcustomer1/cmk"}, "--key-uri: 'kvcustomer1/cmk' is not a key URI"),
    ({"restore_into": f"https://{VAULT}.vault.azure.net/"},
     "--verify-restore-into names the key's own vault"),
    ({"restore_into": "https://kvbackup1.vault.azure.cn/"},
     "--verify-restore-into is in another cloud"),
    ({"restore_into": "kvbackup1"}, "--verify-restore-into 'kvbackup1' is not a vault URI"),
    ({"environ": {}}, "no credential chosen"),
])
def test_bad_arguments_exit_2_before_any_request(connector: Any, cloud: Cloud, tmp_path: Path,
                                                 options: dict[str, Any], message: str) -> None:
    code, stdout, stderr = backup(connector, tmp_path / "cmk.blob", **options)
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"cmkctl backup-key: {message}")
    assert cloud.requests == []
    assert list(tmp_path.iterdir()) == []


def test_out_in_a_missing_directory_is_refused(connector: Any, tmp_path: Path) -> None:
    code, _, stderr = backup(connector, tmp_path / "nope" / "cmk.blob")
    assert (code, stderr) == (2, f"cmkctl backup-key: --out: directory {tmp_path / 'nope'} does "
                                 "not exist\n")


def test_cli_wiring_checks_arguments_before_credentials(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    from cmkctl.cli import main  # noqa: PLC0415

    monkeypatch.delenv("CMKCTL_AUTH", raising=False)
    out = tmp_path / "cmk.blob"
    out.write_bytes(b"kept")
    assert main(["backup-key", "--key-uri", KEY_URI, "--out", str(out), "--auth", "cli"]) == 2
    assert capsys.readouterr().err == (f"cmkctl backup-key: --out {out} exists; refusing to "
                                       "overwrite a backup (pass --force to replace it)\n")
    assert main(["backup-key", "--key-uri", KEY_URI, "--out", str(tmp_path / "new.blob")]) == 2
    assert "no credential chosen" in capsys.readouterr().err
    assert out.read_bytes() == b"kept"
