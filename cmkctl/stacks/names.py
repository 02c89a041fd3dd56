"""Stack names as the Pulumi CLI accepts them: a name is data, never a path or markup.

The rule is the CLI's own (pulumi/pulumi ``sdk/go/common/tokens/stack_name.go``,
``ParseStackName``): not empty, at most 100 characters, only ASCII letters, digits, ``-``,
``_`` and ``.`` (``^[A-Za-z0-9_.-]*`` matched to the end). A name from a file name in a pull
request is checked here before it reaches a summary, a path or a comment, so it can never
hold ``/``, a line break or markup; the messages are the CLI's.
"""

from __future__ import annotations

import re
from typing import Final

MAX_LENGTH: Final = 100
_ALLOWED: Final = re.compile(r"[A-Za-z0-9_.-]*")


class StackNameError(ValueError):
    """Not a name the Pulumi CLI would accept; the message says which character and where."""


def check_stack_name(name: str) -> str:
    """``name`` unchanged when the CLI accepts it, else :class:`StackNameError`."""
    if not name:
        raise StackNameError("a stack name may not be empty")
    if len(name) > MAX_LENGTH:
        raise StackNameError(f"a stack name cannot exceed {MAX_LENGTH} characters")
    end = _ALLOWED.match(name)
    if end is not None and end.end() == len(name):
        return name
    position = end.end() if end is not None else 0
    raise StackNameError("a stack name may only contain alphanumeric, hyphens, underscores, or "
                         f"periods: invalid character {name[position]!r} at position {position}")


def is_stack_name(name: object) -> bool:
    """Whether ``name`` is a string the CLI accepts as a stack name."""
    if not isinstance(name, str):
        return False
    try:
        check_stack_name(name)
    except StackNameError:
        return False
    return True
