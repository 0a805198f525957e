"""The routing generation: a counter that moves whenever something that shapes plans changes (a
deployment starts cooling down, a health check flips, the registry changes). Edges drop the
plans they cached when it moves."""

from __future__ import annotations

from collections.abc import Callable


class Generation:
    def __init__(self) -> None:
        self.value = 1
        self._listeners: list[Callable[[int], None]] = []

    def bump(self) -> None:
        self.value += 1
        for listener in list(self._listeners):
            listener(self.value)

    def subscribe(self, listener: Callable[[int], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[int], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
