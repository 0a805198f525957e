"""Tool-call arguments are JSON documents; a guardrail checks their string values, not the raw
text. A mask can then never land inside an escape sequence (in ``"a\\nbob@x.com"`` the e-mail
pattern matches from the ``n`` of ``\\n``, so masking the raw text would leave an invalid
``\\[`` escape), and escaped text such as ``\\u0040`` is checked as what it says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson


class Document:
    """A parsed JSON document whose string values can be read and replaced in place."""

    def __init__(self, value: Any) -> None:
        self._box: list[Any] = [value]
        self._slots = list(_slots(self._box))

    @classmethod
    def parse(cls, text: str) -> Document | None:
        """The document, or None when ``text`` is not JSON."""
        try:
            return cls(orjson.loads(text))
        except orjson.JSONDecodeError:
            return None

    def strings(self) -> list[str]:
        """The string values (not the object keys), in one fixed order."""
        return [node[key] for node, key in self._slots]

    def replace(self, values: list[str]) -> str:
        """The document serialised again with ``values`` (as many as ``strings()``, in its order)
        for its string values."""
        for (node, key), value in zip(self._slots, values, strict=True):
            node[key] = value
        return orjson.dumps(self._box[0]).decode()


def _slots(root: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every string value. Iterative: orjson accepts nesting deeper than
    Python's recursion limit."""
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(value, str):
                yield node, key
            elif isinstance(value, dict | list):
                stack.append(value)
