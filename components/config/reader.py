"""Typed reads of raw string config that record problems instead of raising.

Pulumi hands config to a program as strings (structured values JSON-encoded). Parsing
them here, rather than with ``Config.get_int`` and friends, lets every problem in a
stack be collected and reported together, each with its key and a fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping

from components.config.problems import Problem, set_line, show

Check = Callable[[str], str | None]

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class ConfigReader:
    """Reads keys of one project namespace from ``raw`` and keeps a list of problems."""

    def __init__(self, raw: Mapping[str, str], secret_keys: frozenset[str] = frozenset()) -> None:
        self._raw = raw
        self._secret = secret_keys
        self._read: set[str] = set()
        self.problems: list[Problem] = []
        forms = {f for key in secret_keys if raw.get(key, "").strip() for f in _forms(raw[key])}
        self._secret_forms = re.compile(
            "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)), re.IGNORECASE
        ) if forms else None

    def fail(self, key: str, problem: str, fix: str) -> None:
        """Record a problem; no spelling of any secret value survives into its text."""
        self.problems.append(Problem(key, self._scrub(problem), self._scrub(fix)))

    def _scrub(self, text: str) -> str:
        return self._secret_forms.sub(SECRET, text) if self._secret_forms else text

    def _show(self, key: str, value: object) -> str:
        return SECRET if key in self._secret else show(value)

    def drop(self, keys: set[str]) -> None:
        """Read ``keys`` as unset from now on (their problem is already reported)."""
        self._raw = {k: v for k, v in self._raw.items() if k not in keys}

    def is_secret(self, key: str) -> bool:
        """Whether Pulumi holds ``key`` encrypted (set with ``--secret``)."""
        return key in self._secret

    def present(self, key: str) -> bool:
        self._read.add(key)
        return key in self._raw and self._raw[key] != ""

    def text(
        self,
        key: str,
        example: str,
        *,
        required: bool = False,
        default: str | None = None,
        check: Check | None = None,
        why_required: str = "",
    ) -> str | None:
        """A string value; ``check`` returns a problem description or None."""
        if not self.present(key):
            if required:
                reason = f" ({why_required})" if why_required else ""
                self.fail(key, f"is required but not set{reason}", set_line(key, example))
                return None
            return default
        value = self._raw[key].strip()
        problem = check(value) if check else None
        if problem:
            self.fail(key, problem, set_line(key, example))
            return None
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(key, options[0], default=default)
        if value is None:
            return default
        for option in options:
            if value.lower() == option.lower():
                return option
        self.fail(
            key,
            f"{self._show(key, value)} is not one of {', '.join(options)}",
            set_line(key, default),
        )
        return default

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.text(key, str(default))
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(key, f"{self._show(key, value)} is not a whole number",
                      set_line(key, str(default)))
            return default
        if not low <= number <= high:
            self.fail(
                key,
                f"{self._show(key, number)} is outside the allowed range {low}-{high}",
                set_line(key, str(min(max(number, low), high))),
            )
            return default
        return number

    def boolean(self, key: str, default: bool) -> bool:
        value = self.text(key, str(default).lower())
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.fail(key, f"{self._show(key, value)} is not true or false", set_line(key, "true"))
        return default

    def strings(self, key: str, example: str, check: Check | None = None) -> tuple[str, ...]:
        """A JSON array of strings, each checked; bad entries are named by index."""
        if not self.present(key):
            return ()
        fix = f"pulumi config set --path '{key}[0]' {example}"
        try:
            decoded = json.loads(self._raw[key])
        except json.JSONDecodeError:
            self.fail(key, f"{self._show(key, self._raw[key])} is not a list", fix)
            return ()
        if not isinstance(decoded, list) or not all(isinstance(v, str) for v in decoded):
            self.fail(key, f"{self._show(key, decoded)} is not a list of strings", fix)
            return ()
        good: list[str] = []
        for index, item in enumerate(decoded):
            problem = check(item) if check else None
            if problem:
                self.fail(f"{key}[{index}]", problem, fix.replace("[0]", f"[{index}]"))
            else:
                good.append(item)
        if len(set(good)) != len(good):
            self.fail(key, f"{self._show(key, decoded)} lists the same entry twice",
                      "remove the duplicate")
        return tuple(good)

    def unknown_keys(self, known: frozenset[str]) -> None:
        """Flag keys nobody reads: a typo would otherwise silently fall back to a default."""
        for key in sorted(set(self._raw) - known):
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.fail(
                key,
                f"is not a setting of this project{hint}",
                f"pulumi config rm {key}"
                + (f" && pulumi config set {close[0]} ..." if close else ""),
            )


SECRET = "the value given"
"""What a message says in place of a secret key's value."""


def _forms(value: str) -> Iterator[str]:
    """Every spelling of a secret value a message could carry: as given, stripped, quoted
    (Python and JSON escapes), its JSON elements, and the number it parses as."""
    texts = {value, value.strip()}
    try:
        decoded = json.loads(value)
    except ValueError:
        decoded = None
    texts.update(_strings(decoded))
    if re.fullmatch(r"\s*[+-]?\d+\s*", value):
        texts.add(str(int(value)))
    for text in texts:
        if text.strip():
            yield from (repr(text), json.dumps(text), repr(text)[1:-1], json.dumps(text)[1:-1],
                        text)


def _strings(decoded: object) -> Iterator[str]:
    if isinstance(decoded, str):
        yield decoded
    elif isinstance(decoded, list):
        for item in decoded:
            yield from _strings(item)
    elif isinstance(decoded, dict):  # names (e.g. credentialSecrets identifiers) may show
        for item in decoded.values():
            yield from _strings(item)
    elif decoded is not None:
        yield json.dumps(decoded)
