"""``cmkctl cert``: files parsed back with cryptography, owner-only key, no silent overwrite."""

from __future__ import annotations

import io
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from cmkctl import cli
from cmkctl.cert import certificate as cert


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    parsed = cli.parser().parse_args(["cert", *args])
    code = cert.run(parsed.out_dir, parsed.subject, parsed.days, parsed.force, out, err)
    return code, out.getvalue(), err.getvalue()


def test_files_are_a_matching_key_and_self_signed_certificate(tmp_path: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    code, out, err = run("--out-dir", str(tmp_path), "--subject", "CN=contoso,O=Contoso",
                         "--days", "30")
    assert (code, err) == (0, "")
    combined = (tmp_path / "my-certificate.pem").read_bytes()
    assert combined.count(b"-----BEGIN PRIVATE KEY-----") == 1
    key = serialization.load_pem_private_key(combined, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    from_combined = x509.load_pem_x509_certificate(combined[combined.index(b"-----BEGIN CERT"):])
    der = x509.load_der_x509_certificate((tmp_path / "azure-cert.cer").read_bytes())
    pem_only = (tmp_path / "azure-cert.pem").read_bytes()
    assert b"PRIVATE KEY" not in pem_only
    assert from_combined == der == x509.load_pem_x509_certificate(pem_only)
    assert der.subject == der.issuer
    assert der.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "contoso"
    assert der.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Contoso"
    public = der.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == key.public_key().public_numbers()
    public.verify(der.signature, der.tbs_certificate_bytes, padding.PKCS1v15(),
                  hashes.SHA256())  # self-signed with that key
    assert before <= der.not_valid_before_utc <= datetime.now(UTC)
    assert der.not_valid_after_utc - der.not_valid_before_utc == timedelta(days=30)
    thumbprint = der.fingerprint(hashes.SHA1()).hex().upper()
    assert out.splitlines()[-2:] == [f"thumbprint (SHA-1): {thumbprint}",
                                     f"expires: {der.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"]
    for name in ("my-certificate.pem", "azure-cert.cer", "azure-cert.pem"):
        assert str(tmp_path / name) in out


def test_private_key_is_owner_only_and_certificates_are_readable(tmp_path: Path) -> None:
    assert run("--out-dir", str(tmp_path))[0] == 0
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"my-certificate.pem": 0o600, "azure-cert.cer": 0o644,
                     "azure-cert.pem": 0o644}


def test_existing_files_are_not_replaced_without_force(tmp_path: Path) -> None:
    assert run("--out-dir", str(tmp_path))[0] == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, out, err = run("--out-dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert err.startswith(f"cmkctl cert: {tmp_path / 'my-certificate.pem'}, ")
    assert "nothing was written. Pass --force to replace them" in err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_one_existing_file_is_enough_to_refuse(tmp_path: Path) -> None:
    (tmp_path / "azure-cert.pem").write_text("keep me")
    code, _, err = run("--out-dir", str(tmp_path))
    assert code == 1 and str(tmp_path / "azure-cert.pem") in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["azure-cert.pem"]


def test_force_replaces_and_tightens_a_loose_key_file(tmp_path: Path) -> None:
    assert run("--out-dir", str(tmp_path))[0] == 0
    key_file = tmp_path / "my-certificate.pem"
    key_file.chmod(0o666)
    old = key_file.read_bytes()
    assert run("--out-dir", str(tmp_path), "--force")[0] == 0
    assert key_file.read_bytes() != old
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.parametrize(("args", "message"), [
    (("--days", "0"), "cmkctl cert: --days 0 is outside 1-3650; the document uses 365\n"),
    (("--subject", "not a name"),
     "cmkctl cert: --subject 'not a name' is not an RFC 4514 name"),
    (("--subject", ""), "cmkctl cert: --subject is empty; use e.g. --subject "
                        "CN=credential-store\n"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path: Path, args: tuple[str, ...],
                                                message: str) -> None:
    code, out, err = run("--out-dir", str(tmp_path / "certs"), *args)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert not (tmp_path / "certs").exists()


def test_a_certificate_over_the_upload_limit_is_refused(tmp_path: Path) -> None:
    huge = "CN=" + "x" * 64 + "," + ",".join(f"OU={'y' * 60}{i}" for i in range(150))
    code, _, err = run("--out-dir", str(tmp_path / "certs"), "--subject", huge)
    assert code == 2
    assert "over the upload limit of 10000; use a shorter --subject" in err
    assert not (tmp_path / "certs").exists()


def test_out_dir_that_is_a_file_is_a_clean_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    code, out, err = run("--out-dir", str(target))
    assert (code, out, err) == (2, "", f"cmkctl cert: --out-dir {target} is not a directory\n")


def test_a_symlink_in_place_of_the_key_file_is_not_written_through(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "my-certificate.pem").symlink_to(elsewhere)
    code, _, err = run("--out-dir", str(tmp_path / "out"), "--force")
    link = tmp_path / "out" / "my-certificate.pem"
    assert (code, err) == (2, f"cmkctl cert: {link}: a symbolic link, not a file; refusing to "
                              "replace it. Remove the link or choose another --out-dir\n")
    assert elsewhere.read_text() == "keep" and link.is_symlink()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["my-certificate.pem"]


def test_force_writes_a_new_file_so_an_open_reader_keeps_the_old_key(tmp_path: Path) -> None:
    """The old key file is never truncated or rewritten in place: a process that had it
    open still reads the old key, and the new key is a new inode, owner-only."""
    assert run("--out-dir", str(tmp_path))[0] == 0
    key_file = tmp_path / "my-certificate.pem"
    old_inode = key_file.stat().st_ino
    with key_file.open("rb") as reader:
        assert run("--out-dir", str(tmp_path), "--force")[0] == 0
        kept = reader.read()
    assert kept != key_file.read_bytes()
    assert b"PRIVATE KEY" in kept
    assert key_file.stat().st_ino != old_inode
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # No temporary file is left beside the three.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "azure-cert.cer", "azure-cert.pem", "my-certificate.pem"]
