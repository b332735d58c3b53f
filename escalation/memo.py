"""Values computed once per key within a scope (a `with` block), and every time outside one: for
work that reads the same thing many times at one moment (a clock tick's batch of new incidents
reads the rules once; a timeline shown reads each customer it names once)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Memo:
    def __init__(self, name: str):
        self._values: ContextVar[dict | None] = ContextVar(name, default=None)

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Within the block, each key's value is computed once (a block inside another starts
        afresh)."""
        token = self._values.set({})
        try:
            yield
        finally:
            self._values.reset(token)

    def get(self, key, compute: Callable[[], object]):
        """`compute()`, once per key within a scope (outside one: every time)."""
        values = self._values.get()
        if values is None:
            return compute()
        if key not in values:
            values[key] = compute()
        return values[key]
