"""How a failure reads in one line: in errors.csv, and in a refusal of bad input."""


def one_line(error: BaseException, limit: int = 500) -> str:
    """'Type: message' with the message's whitespace folded, at most `limit` characters."""
    message = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:limit]
