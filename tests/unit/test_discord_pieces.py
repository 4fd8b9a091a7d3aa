"""Discord takes 2,000 characters a message: a longer answer is cut into messages
between its lines, in order, losing nothing (bridges/discord/render.pieces)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridges.discord.render import pieces

LINES = st.lists(st.text(alphabet="ab €", min_size=1, max_size=30), max_size=40)


@given(LINES, st.integers(min_value=1, max_value=60))
def test_every_piece_fits_and_together_they_are_the_whole_text(
    lines: list[str], limit: int
) -> None:
    text = "\n".join(lines)
    got = pieces(text, limit)
    assert all(len(p) <= limit for p in got)
    assert all(got) or got == [""]  # Discord refuses an empty message
    assert "".join(got).replace("\n", "") == text.replace("\n", "")
    if all(len(line) <= limit for line in lines):
        assert "\n".join(got) == text  # cut only between lines


def test_a_short_answer_is_one_message() -> None:
    assert pieces("Assigned to Dana.") == ["Assigned to Dana."]
    assert pieces("") == [""]


def test_lines_are_kept_together_while_they_fit() -> None:
    assert pieces("aaa\nbbb\nccc", 7) == ["aaa\nbbb", "ccc"]
    assert pieces("aaa\n\nbbb", 7) == ["aaa\n", "bbb"]  # a blank line is kept
