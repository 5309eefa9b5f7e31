"""Fitting lines into Discord's limits (`core.text`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core import text as rules

MORE = "…and {} more."


def test_lines_that_fit_on_hand_made_cases() -> None:
    assert rules.lines_that_fit("h", ["a", "b"], 5, "+{}") == 2  # "h\na\nb" is 5
    assert rules.lines_that_fit("h", [], 1, "+{}") == 0
    # "h\naa\nb\ncccccc" is 13: two lines and "+1" fit in 10.
    assert rules.lines_that_fit("h", ["aa", "b", "cccccc"], 10, "+{}") == 2
    # Not even the first line fits beside "…and 2 more.": nothing is shown but the count.
    assert rules.lines_that_fit("h", ["aaaa", "b"], 7, MORE) == 0


@given(
    header=st.text(max_size=30),
    lines=st.lists(st.text(max_size=60), max_size=40),
    limit=st.integers(min_value=60, max_value=400),
)
def test_lines_that_fit_fit_and_count_the_rest(header: str, lines: list[str], limit: int) -> None:
    shown = rules.lines_that_fit(header, lines, limit, MORE)
    assert 0 <= shown <= len(lines)
    text = "\n".join([header, *lines[:shown]])
    if shown < len(lines):
        text += "\n" + MORE.format(len(lines) - shown)
        # As many as possible: one more line would not fit with its own "more" line.
        bigger = "\n".join([header, *lines[: shown + 1]])
        if shown + 1 < len(lines):
            bigger += "\n" + MORE.format(len(lines) - shown - 1)
        assert len(bigger) > limit
    assert len(text) <= limit


@given(items=st.lists(st.integers(), max_size=30), size=st.integers(1, 7))
def test_chunks_keep_every_item_in_order(items: list[int], size: int) -> None:
    parts = rules.chunks(items, size)
    assert [item for part in parts for item in part] == items
    assert all(1 <= len(part) <= size for part in parts)
    assert all(len(part) == size for part in parts[:-1])
