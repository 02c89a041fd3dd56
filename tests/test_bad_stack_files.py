"""Every bad stack file gets one clear error naming the file and the key, never a traceback;
and stack files read as the Pulumi CLI (yaml.v3) reads them."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from cmkctl.plan import preview
from cmkctl.plan.recorder import ROOT
from cmkctl.stacks.stack_file import read_stack_config
from tests.stacks import PREFIX

CUSTOMER = """\
config:
  dedicated-cmk:mode: customer
  dedicated-cmk:customerTenantId: 8f1d2a6b-3c4e-4f50-9a61-7b8c9d0e1f21
  dedicated-cmk:customerSubscriptionId: 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
  dedicated-cmk:customerLocation: westeurope
  dedicated-cmk:customerResourceGroup: rg-contoso-cmk
  dedicated-cmk:vaultName: kv-contoso-cmk
  dedicated-cmk:providerAppClientId: 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d
"""


def project(tmp_path: Path, text: str | bytes) -> Path:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    data = text.encode() if isinstance(text, str) else text
    (tmp_path / "Pulumi.ci.yaml").write_bytes(data)
    return tmp_path


def preview_of(root: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = preview.run("ci", None, False, stdout=out, stderr=err, root=root)
    return code, out.getvalue(), err.getvalue()


def fails(kind: str) -> str:
    return f"cmkctl preview: Pulumi.ci.yaml: {kind}\n"


TYPE = "Pulumi.yaml declares; the Pulumi CLI refuses the stack"
BAD_FILES = [
    ("invalid YAML", CUSTOMER + "  dedicated-cmk:vaultSku: [premium\n", 2,
     fails("line 10, column 1: expected ',' or ']', but got '<stream end>'")),
    ("bad indentation", "config:\n  dedicated-cmk:mode: customer\n bad: x\n", 2,
     fails("line 3, column 2: expected <block end>, but found '<block mapping start>'")),
    ("tab indentation", "config:\n\tdedicated-cmk:mode: customer\n", 2,
     fails("line 2, column 1: found character '\\t' that cannot start any token")),
    ("empty file", "", 2, fails("the file is empty: it sets no config; add a config: mapping "
                                "(pulumi config set <key> <value> writes one)")),
    ("only comments", "# nothing yet\n", 2,
     fails("the file is empty: it sets no config; add a config: mapping (pulumi config set "
           "<key> <value> writes one)")),
    ("top level is a list", "- config\n", 2,
     fails("the top level is a list, not a mapping with a config: key")),
    ("top level is a value", "config\n", 2,
     fails("the top level is a single value, not a mapping with a config: key")),
    ("config is a list", "config:\n  - dedicated-cmk:mode\n", 2,
     fails("config: is a list, not a mapping of keys to values (line 2)")),
    ("config is a value", "config: customer\n", 2,
     fails("config: is a single value, not a mapping of keys to values (line 1)")),
    ("string key given a list", CUSTOMER + "  dedicated-cmk:vaultSku: [premium]\n", 2,
     fails(f"dedicated-cmk:vaultSku: is a list, not a string as {TYPE} (fix: pulumi config set "
           "vaultSku <a string>)")),
    ("string key given a mapping", CUSTOMER + "  dedicated-cmk:vaultSku: {tier: premium}\n", 2,
     fails(f"dedicated-cmk:vaultSku: is a mapping, not a string as {TYPE} (fix: pulumi config "
           "set vaultSku <a string>)")),
    ("integer key given words", CUSTOMER + "  dedicated-cmk:vaultRetentionDays: ninety\n", 2,
     fails(f"dedicated-cmk:vaultRetentionDays: is 'ninety', not an integer (whole number) as "
           f"{TYPE} (fix: pulumi config set vaultRetentionDays <an integer (whole number)>)")),
    ("integer key given a fraction", CUSTOMER + "  dedicated-cmk:vaultRetentionDays: 90.5\n", 2,
     fails(f"dedicated-cmk:vaultRetentionDays: is '90.5', not an integer (whole number) as "
           f"{TYPE} (fix: pulumi config set vaultRetentionDays <an integer (whole number)>)")),
    ("boolean key given yes", CUSTOMER + "  dedicated-cmk:protectKeyMaterial: yes\n", 2,
     fails(f"dedicated-cmk:protectKeyMaterial: is 'yes', not true or false as {TYPE} (fix: "
           "pulumi config set protectKeyMaterial <true or false>)")),
    ("boolean key given on", CUSTOMER + "  dedicated-cmk:protectKeyMaterial: on\n", 2,
     fails(f"dedicated-cmk:protectKeyMaterial: is 'on', not true or false as {TYPE} (fix: "
           "pulumi config set protectKeyMaterial <true or false>)")),
    ("list key given a value", CUSTOMER + "  dedicated-cmk:vaultIpRules: 20.50.1.0/24\n", 2,
     fails(f"dedicated-cmk:vaultIpRules: is '20.50.1.0/24', not a list of strings as {TYPE} "
           "(fix: pulumi config set vaultIpRules <a list of strings>)")),
    ("list key given numbers", CUSTOMER + "  dedicated-cmk:services: [1, 2]\n", 2,
     fails(f"dedicated-cmk:services: is a list with entries that are not strings, not a list of "
           f"strings as {TYPE} (fix: pulumi config set services <a list of strings>)")),
    ("not a number JSON can hold", CUSTOMER + "  dedicated-cmk:vaultSku: .nan\n", 2,
     fails("dedicated-cmk:vaultSku: nan (.nan/.inf) is not a number the Pulumi CLI can store; "
           "quote it if a string is meant (line 9)")),
    ("encrypted value", CUSTOMER + "  dedicated-cmk:sqlAdminObjectId:\n    secure: v1:abc\n", 2,
     fails("dedicated-cmk:sqlAdminObjectId: is encrypted (secure:), which cannot be read without "
           "the stack's secrets provider; offline runs need a copy of the stack file with a "
           "plain placeholder value for it, or without it for a key that must stay secret such "
           "as credentialSecrets (line 9)")),
    ("duplicate key", CUSTOMER + "  dedicated-cmk:vaultName: kv-other\n", 2,
     fails("dedicated-cmk:vaultName: set again at line 9 (first at line 7); the Pulumi CLI "
           "refuses duplicate keys")),
    ("duplicate top-level key", CUSTOMER + "config: {}\n", 2,
     fails("config: set again at line 9 (first at line 1); the Pulumi CLI refuses duplicate "
           "keys")),
    ("same key with and without namespace", CUSTOMER + "  vaultName: kv-other\n", 2,
     fails("dedicated-cmk:vaultName: set twice, as 'dedicated-cmk:vaultName' and 'vaultName' "
           "(line 9); the CLI would keep either one; remove one of them")),
    ("not UTF-8", CUSTOMER.encode() + b"  dedicated-cmk:vaultSku: \xff\n", 2,
     fails("not UTF-8 text (byte 428); save the file as UTF-8")),
    ("impossible date", CUSTOMER + "  dedicated-cmk:keyExpiresOn: 2028-06-31\n", 1,
     "stack 'ci': invalid stack configuration (1 problem); nothing was created:\n"
     "  - dedicated-cmk:keyExpiresOn: '2028-06-31' is not a real date (day is out of range for "
     "month)\n    fix: pulumi config set keyExpiresOn 2028-12-31\n"),
    ("date in the past", CUSTOMER + "  dedicated-cmk:keyExpiresOn: 2020-01-31\n", 1, None),
    ("empty value of a required key", CUSTOMER.replace("kv-contoso-cmk", ""), 1,
     "stack 'ci': invalid stack configuration (1 problem); nothing was created:\n"
     "  - dedicated-cmk:vaultName: is required but not set\n"
     "    fix: pulumi config set vaultName kv-contoso-cmk\n"),
]


@pytest.mark.parametrize(("text", "code", "expected"), [b[1:] for b in BAD_FILES],
                         ids=[b[0] for b in BAD_FILES])
def test_a_bad_stack_file_gets_one_clear_error(tmp_path: Path, text: str | bytes, code: int,
                                               expected: str | None) -> None:
    found = preview_of(project(tmp_path, text))
    assert found[:2] == (code, "")
    assert "Traceback" not in found[2]
    if expected is None:
        assert "dedicated-cmk:keyExpiresOn: 2020-01-31 is not in the future" in found[2]
    else:
        assert found[2] == expected
    assert not list(tmp_path.glob("*.json"))


READ_AS_THE_CLI = [
    ("on stays a string", "on", "on"),
    ("yes stays a string", "yes", "yes"),
    ("True is a boolean", "True", "true"),
    ("YAML 1.1 octal", "0777", "511"),
    ("hexadecimal", "0x1F", "31"),
    ("underscores", "1_000", "1000"),
    ("float", "1.50", "1.5"),
    ("whole float", "2.0", "2"),
    ("null is empty", "~", ""),
    ("unquoted date", "2028-11-30", "2028-11-30 00:00:00 +0000 UTC"),
    ("impossible date stays text", "2028-06-31", "2028-06-31"),
    ("quoted date", '"2028-11-30"', "2028-11-30"),
    ("timestamp with offset", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.1 -0500 -0500"),
    ("list", "[a, 1, true]", '["a",1,true]'),
    ("mapping, sorted keys, HTML-safe", "{b: '<x>', a: 2}", '{"a":2,"b":"\\u003cx\\u003e"}'),
]


@pytest.mark.parametrize(("given", "expected"), [r[1:] for r in READ_AS_THE_CLI],
                         ids=[r[0] for r in READ_AS_THE_CLI])
def test_values_reach_the_program_as_the_cli_passes_them(tmp_path: Path, given: str,
                                                         expected: str) -> None:
    project(tmp_path, f"config:\n  other:value: {given}\n")
    assert read_stack_config(tmp_path, "ci")["other:value"] == expected


def test_a_byte_order_mark_and_bare_keys_are_read_as_the_cli_reads_them(tmp_path: Path) -> None:
    project(tmp_path, b"\xef\xbb\xbfconfig:\n  keyName: on\n")
    config = read_stack_config(tmp_path, "ci")
    assert config[PREFIX + "keyName"] == "on"
    assert config[PREFIX + "vaultSku"] == "standard"  # the project default, added as the CLI does


def test_an_unquoted_expiry_date_previews(tmp_path: Path) -> None:
    root = project(tmp_path, CUSTOMER + "  dedicated-cmk:keyExpiresOn: 2030-11-30\n")
    assert preview_of(root)[0] == 0
