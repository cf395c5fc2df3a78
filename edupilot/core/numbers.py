"""A number as the pages, messages and exports write it."""

from __future__ import annotations

from decimal import Decimal


def plain(value) -> str:
    """``value`` (int, float or Decimal) as one writes it: 18, 2.5, 0.05 — never 18.0, 2.50
    or 5E-2. A float is read as its shortest repr, so 0.1 + 0.2 shows as it prints."""
    return f"{Decimal(str(value)).normalize():f}"
