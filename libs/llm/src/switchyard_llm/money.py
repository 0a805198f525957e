"""USD amounts: Decimal in code, decimal strings on the wire, NUMERIC in PostgreSQL."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)
# The largest amount a budget may hold: the ledgers store NUMERIC(20, 10), i.e. below 10^10 USD.
MAX_BUDGET_USD = Decimal(1_000_000_000)


def parse_usd(value: str | float | int | Decimal | None) -> Decimal:
    """Parse an amount; empty or None is zero. Raises ValueError on anything else malformed."""
    if value is None or value == "":
        return ZERO
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not d.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return d


def format_usd(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros (``"0.000123"``, ``"0"``)."""
    if not value:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
