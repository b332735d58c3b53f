"""escalation.memo.Memo: once per key within a scope, every time outside one."""

import pytest

from escalation.memo import Memo


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return calls, compute


def test_outside_a_scope_every_time_inside_once_per_key():
    memo = Memo("test")
    calls, compute = counter()
    assert [memo.get("a", compute), memo.get("a", compute)] == [1, 2]
    with memo.scope():
        assert [memo.get("a", compute), memo.get("a", compute), memo.get("b", compute)] == [3, 3, 4]
        with memo.scope():  # starts afresh
            assert memo.get("a", compute) == 5
        assert memo.get("a", compute) == 3  # the outer scope's again
    assert memo.get("a", compute) == 6 and len(calls) == 6


def test_a_scope_left_by_an_error_is_gone():
    memo = Memo("test")
    calls, compute = counter()
    with pytest.raises(RuntimeError), memo.scope():
        memo.get("a", compute)
        raise RuntimeError
    assert memo.get("a", compute) == 2
