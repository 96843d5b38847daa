"""A failure in one line: whitespace folded, terminal codes dropped, cut at its limit."""

import pytest

from echo.errors import one_line


@pytest.mark.parametrize("message, expected", [
    ("plain", "ValueError: plain"),
    ("two\nlines\tand  spaces", "ValueError: two lines and spaces"),
    ("\x1b[1;31mred\x1b[0m text\x07", "ValueError: red text"),
    ("\x1b]0;a title\x07kept", "ValueError: kept"),
    ("", "ValueError: ValueError"),
])
def test_a_failure_reads_as_one_plain_line(message, expected):
    assert one_line(ValueError(message)) == expected


def test_a_long_failure_is_cut_at_its_limit():
    assert one_line(ValueError("x" * 100), limit=20) == "ValueError: xxxxxxxx"
