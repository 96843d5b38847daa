"""How a number with its interval is written, once for every page, table and line."""

import numpy as np


def estimate_text(estimate, form: str = "{:.4f}", count: bool = False) -> str:
    """`value [low, high]`, a bound that does not exist as -, and `(n = N)` with `count`; a
    value without any interval (one seed) as `value (n = N, no interval)`; - without a value."""
    if estimate.n == 0 or not np.isfinite(estimate.value):
        return "-"
    value = form.format(estimate.value)
    if not (np.isfinite(estimate.low) or np.isfinite(estimate.high)):
        return f"{value} (n = {estimate.n}, no interval)"
    low, high = (form.format(b) if np.isfinite(b) else "-" for b in (estimate.low, estimate.high))
    return f"{value} [{low}, {high}]" + (f" (n = {estimate.n})" if count else "")
