"""How a failure reads in one line: in errors.csv, and in a refusal of bad input."""

import re

# A terminal's escape sequences (colours, cursor moves) and other control characters: a message
# read in a file or a table shows none of them.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]"
                      r"|[\x00-\x08\x0b-\x1f\x7f]")


def one_line(error: BaseException, limit: int = 500) -> str:
    """'Type: message' with the message's whitespace folded and terminal codes dropped, at most
    `limit` characters."""
    message = " ".join(_CONTROL.sub(" ", str(error)).split()) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:limit]
