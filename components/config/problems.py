"""Config problems: collected, then reported all at once before any resource exists."""

from __future__ import annotations

from dataclasses import dataclass

PROJECT = "dedicated-cmk"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the stack config, phrased so the reader can fix it without help."""

    key: str
    """Config key without the project namespace, e.g. ``vaultName``."""
    problem: str
    """What is wrong, including the offending value unless it is a secret."""
    fix: str
    """What to do, usually a ``pulumi config set`` line."""

    def render(self) -> str:
        return f"{PROJECT}:{self.key}: {self.problem}\n    fix: {self.fix}"


class ConfigError(Exception):
    """Raised once with every problem found, so a user fixes the whole stack in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"invalid stack configuration ({count} {noun}); nothing was created:"]
        lines += [f"  - {p.render()}" for p in self.problems]
        return "\n".join(lines)


def set_line(key: str, example: str, *, secret: bool = False) -> str:
    """The exact command that sets ``key``; arrays use ``--path`` entries."""
    flag = " --secret" if secret else ""
    return f"pulumi config set{flag} {key} {example}"


def show(value: object, *, secret: bool = False) -> str:
    """Quote a config value for an error message; secrets are never echoed."""
    return "[secret]" if secret else repr(value)
