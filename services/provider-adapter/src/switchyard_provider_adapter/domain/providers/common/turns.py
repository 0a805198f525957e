"""The turns of a conversation for APIs that want the roles of their turns to alternate."""

from __future__ import annotations

from typing import Any


class Turns:
    """Turns ``{"role": ..., <key>: [blocks]}``; consecutive turns of one role are merged (tool
    results and the user message after them form one user turn, as Claude, Converse and Gemini
    expect after a tool call), and a turn without blocks is left out."""

    __slots__ = ("_key", "turns")

    def __init__(self, key: str = "content") -> None:
        self._key = key
        self.turns: list[dict[str, Any]] = []

    def add(self, role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if self.turns and self.turns[-1]["role"] == role:
            self.turns[-1][self._key].extend(blocks)
        else:
            self.turns.append({"role": role, self._key: blocks})
