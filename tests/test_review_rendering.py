"""Property tests: no plan content can forge the review comment, and no finding is hidden.

Names, URNs and values are generated from the characters that open HTML, comments,
headings, fences, tables, links and Mermaid directives, at any size. The Markdown is parsed
with a CommonMark parser (markdown-it-py, GFM tables on) and its tokens are checked: the
only HTML is the comment's own ``<details>``/``<summary>`` lines, the only headings and
fences are its own, and every destructive finding is stated before the first fold.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from markdown_it import MarkdownIt
from markdown_it.token import Token

from cmkctl.plan.reader import parse_plan
from cmkctl.review import safe_text as st
from cmkctl.review.diff import Review, compare
from cmkctl.review.diff_render import COMMENT_LIMIT, as_json, as_markdown, as_text
from cmkctl.review.graph import mermaid
from cmkctl.review.risks import as_markdown_table, assess
from policies import resource_types as t

HOSTILE = "<>!-#`|*[]()%{}\n\r&;:\"'@_~/\\ =$^"
names = hs.text(alphabet=hs.sampled_from(HOSTILE + "ab1"), min_size=1, max_size=40)
huge = hs.builds(lambda s, n: s * n, names, hs.integers(min_value=1, max_value=1_700))
STACK = "urn:pulumi:dev::dedicated-cmk::pulumi:pulumi:Stack::dedicated-cmk-dev"
KEY_URL = "https://kv.vault.azure.net/keys/cmk/" + "a" * 32
HEADINGS = {"cmkctl diff", "Data loss", "Access loss", "Notices", "Picture of the plan",
            "Data-loss view", "Changes per resource",
            "Weakened protection (not destructive; the policy pack judges it)"}
SUMMARY = re.compile(r"^<summary><code>[^<>]*</code> [^<>]* <b>[^<>]*</b>"
                     r"( \(\d+ changes?\))?</summary>$")


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::dedicated-cmk::{type_}::{name}"


def _step(type_: str, name: str, inputs: dict[str, Any], deps: tuple[str, ...] = ()
          ) -> dict[str, Any]:
    urn = _urn(type_, name)
    return {"op": "create", "urn": urn, "newState": {
        "urn": urn, "type": type_, "custom": True, "inputs": inputs, "protect": True,
        "dependencies": list(deps), "provider": ""}}


def _plan(steps: list[dict[str, Any]]) -> dict[str, Any]:
    root = {"op": "create", "urn": STACK, "newState": {"urn": STACK,
                                                       "type": "pulumi:pulumi:Stack"}}
    return {"steps": [root, *steps], "changeSummary": {"create": len(steps) + 1}}


def hostile_review(vault: str, key: str, store: str, value: str, locks: list[str]
                   ) -> tuple[Review, dict[str, Any], dict[str, Any]]:
    """BASE: vault, key, locks and a bound store. HEAD: the store alone, moved to another
    key, with the hostile value in a tag: the vault, key and locks are deleted."""
    vault_step = _step(t.VAULT, vault, {"vaultName": "kv", "location": value})
    key_step = _step(t.KEY, key, {"keyName": "cmk"}, (vault_step["urn"],))
    lock_steps = [_step(t.LOCK, f"{name}-{i}", {"level": "CanNotDelete"}, (key_step["urn"],))
                  for i, name in enumerate(locks)]
    store_in = {"accountName": "sa", "tags": {"x": "y"}, "encryption": {"keyVaultProperties": {
        "keyVaultUri": "https://kv.vault.azure.net/", "keyName": "cmk"}}}
    moved = json.loads(json.dumps(store_in))
    moved["tags"]["x"] = value
    moved["encryption"]["keyVaultProperties"]["keyName"] = value
    base = _plan([vault_step, key_step, *lock_steps,
                  _step(t.STORAGE_ACCOUNT, store, store_in, (key_step["urn"],))])
    head = _plan([_step(t.STORAGE_ACCOUNT, store, moved)])
    return compare(base, head), base, head


def _inline_text(tokens: list[Token], index: int) -> str:
    return tokens[index + 1].content


def assert_cannot_be_forged(text: str, fences: int) -> None:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    for index, token in enumerate(tokens):
        assert token.type != "html_inline"
        if token.type == "html_block":
            for line in token.content.strip().splitlines():
                assert line in ("<details>", "</details>") or SUMMARY.match(line), line
        if token.type == "heading_open":
            assert _inline_text(tokens, index) in HEADINGS
        for child in token.children or ():
            assert child.type not in ("html_inline", "image", "link_open"), child
    found = [tok for tok in tokens if tok.type in ("fence", "code_block")]
    assert [(tok.type, tok.info) for tok in found] == [("fence", "mermaid")] * fences
    for fence in found:
        assert "%%{" not in fence.content and "```" not in fence.content


def assert_findings_before_any_fold(review: Review, text: str) -> None:
    fold = text.find("<details>")
    head = text if fold < 0 else text[:fold]
    for resource in review.destructive:
        for finding in (f for f in resource.findings if f.destructive):
            assert f"{finding.label}: {st.text(finding.title)}" in head
        shown = any(st.code(st.shorten(resource.name, width)) in head
                    for width in (200, 60, 24, 8))
        assert shown or "resource(s); names left out to fit the comment" in head


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vault=hs.one_of(names, huge), key=names, store=names, value=hs.one_of(names, huge),
       locks=hs.lists(hs.one_of(names, huge), max_size=40))
def test_no_plan_content_can_forge_the_comment_or_hide_a_finding(
        vault: str, key: str, store: str, value: str, locks: list[str]) -> None:
    review, base, head = hostile_review(vault, key, store, value, locks)
    olds = parse_plan(base).resources_after()
    deleted = [r for r in olds if r.urn in {x.urn for x in review.resources
                                            if x.op == "delete"}]
    chart = mermaid(parse_plan(head).resources_after(), {r.urn: r.op for r in review.resources},
                    deleted, risks={r.urn: r.risk.value for r in review.resources if r.risk})
    table = as_markdown_table(assess(olds, []))
    text = as_markdown(review, sections=[("Picture of the plan", f"```mermaid\n{chart}\n```"),
                                         ("Data-loss view", table)])
    assert len(text) < COMMENT_LIMIT
    picture_fits = "_Left out:" not in text.split("### Data-loss view")[0]
    assert_cannot_be_forged(text, fences=1 if picture_fits else 0)
    assert_findings_before_any_fold(review, text)
    assert_mermaid_is_inert(chart)
    assert all("\n" not in line and "\r" not in line for line in as_text(review).splitlines())


def assert_mermaid_is_inert(chart: str) -> None:
    """Every line is one the writer makes; labels hold no quote, backtick, % or markup."""
    allowed = re.compile(
        r'^(---|config:|  flowchart:|    \w+: \d+|    subGraphTitleMargin:|      \w+: \d+|'
        r'flowchart TD|  end|  subgraph (t\d+|tx|legend)\["[^"`%<>]*"\]|'
        r'    [nx]\d+\["[^"`%<>]*(<br/>[^"`%<>]*)?"\]|  [nx]\d+ --> n\d+|'
        r'  classDef \w+ [\w:#,.\- ]+|  class [n\d,]+ \w+|    legend_\w+\["[\w ]+"\]:::\w+)$')
    for line in chart.splitlines():
        assert allowed.match(line), line


@settings(max_examples=30, deadline=None)
@given(name=names, value=names)
def test_a_finding_title_or_value_cannot_escape_a_table_cell(name: str, value: str) -> None:
    review, _, _ = hostile_review(name, "key", "store", value, [])
    text = as_markdown(review)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    # Every row has its table's number of cells (summary 9, changes 4): no value split one.
    counts = _cells_per_row(tokens)
    assert counts[:2] == [9, 9] and set(counts[2:]) <= {4}


def _cells_per_row(tokens: list[Token]) -> list[int]:
    counts: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            counts.append(0)
        elif token.type in ("th_open", "td_open"):
            counts[-1] += 1
    return counts


SECRET_ENVELOPE = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
                   "plaintext": '"hunter2-plaintext"'}


def test_secret_envelopes_are_masked_in_every_format() -> None:
    vault = _step(t.VAULT, "vault", {"vaultName": "kv", "tags": {"a": "1"}})
    changed = json.loads(json.dumps(vault))
    changed["newState"]["inputs"]["tags"]["a"] = SECRET_ENVELOPE
    changed["newState"]["inputs"]["secret"] = {**SECRET_ENVELOPE, "value": "hunter2-value"}
    review = compare(_plan([vault]), _plan([changed]))
    for text in (as_text(review), as_markdown(review), as_json(review)):
        assert "hunter2" not in text
    document = json.loads(as_json(review))
    assert [(c["path"], c["new"]) for c in document["resources"][0]["changes"]] == [
        ("secret", "[secret]"), ("tags.a", "[secret]")]


@settings(max_examples=40, deadline=None)
@given(stack=names, message=names, urn=names)
def test_the_fleet_comment_cannot_be_forged_either(stack: str, message: str, urn: str) -> None:
    from cmkctl.fleet.report import MARKER, markdown  # noqa: PLC0415

    broken = {"stack": stack, "ok": False, "error": f"```\n{message}\n````", "resources": 0,
              "destructive": 0, "mandatory": 0, "advisory": 0, "undecided": 0,
              "violations": [], "changes": None}
    bound = {"stack": stack + "2", "ok": False, "error": None, "resources": 3,
             "destructive": 1, "mandatory": 1, "advisory": 0, "undecided": 0,
             "changes": {"delete": 1},
             "findings": [{"urn": urn, "type": t.VAULT, "op": "delete", "risk": "data-loss",
                           "title": message, "what": message, "safe": message}],
             "violations": [{"policy": "key-material-locks", "level": "mandatory",
                             "undecided": False, "urn": urn, "message": message}]}
    summary = {"stacks": [broken, bound], "options": {"base": message},
               "totals": {"stacks": 2, "failed": 2, "errors": 1, "destructive": 1,
                          "mandatory": 1}}
    text = markdown(summary)
    assert text.startswith(MARKER + "\n") and len(text) < COMMENT_LIMIT
    tokens = MarkdownIt("commonmark").enable("table").parse(text.split("\n", 1)[1])
    for token in tokens:
        assert token.type != "html_inline"
        if token.type == "heading_open":
            assert token.markup in {"###", "####"}
        for child in token.children or ():
            assert child.type not in ("html_inline", "image", "link_open"), child
        if token.type == "html_block":
            for line in token.content.strip().splitlines():
                assert re.fullmatch(r"<details><summary><code>[^<>]*</code>: [^<>]*</summary>|"
                                    r"</details>", line), line
    assert [tok.type for tok in tokens if tok.type in ("fence", "code_block")] in (
        [], ["fence"])
    headings = [tokens[i + 1].content for i, tok in enumerate(tokens)
                if tok.type == "heading_open"]
    assert headings[0].startswith("❌ cmkctl fleet: 2 of 2 stacks fail")
    sections = re.compile(r"(❌ Failed to run|⚠️ Destructive changes|Other changes|"
                          r"Compliance findings by rule) \(\d+( stacks)?\)")
    assert all(sections.fullmatch(heading) for heading in headings[1:]), headings
