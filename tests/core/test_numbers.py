"""``core.numbers.plain``: the one way messages write a number (dimension subtotals, the
self-assessment gate, grade bands, quota formulas)."""

from decimal import Decimal

import pytest

from edupilot.core.numbers import plain


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (18, "18"),
        (18.0, "18"),
        (2.5, "2.5"),
        (Decimal("2.50"), "2.5"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.00"), "0"),
        (0.05, "0.05"),
        (1e-05, "0.00001"),
        (123456.75, "123456.75"),
    ],
)
def test_plain_writes_no_trailing_zero_and_no_exponent(value, written):
    assert plain(value) == written
