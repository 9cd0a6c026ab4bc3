"""Quote arithmetic against examples worked out by hand."""
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from models.money import cents, parse_decimal
from models.quotes import calculate, line_amounts


def line(quantity, unit_price, discount="0", cost="0", vat="21"):
    return SimpleNamespace(quantity=D(quantity), unit_price=D(unit_price), discount_pct=D(discount),
                           cost_price=D(cost), vat_rate=D(vat))


def test_half_up_rounding_to_cents():
    assert cents(D("0.005")) == D("0.01")
    assert cents(D("0.015")) == D("0.02")     # not banker's rounding
    assert cents(D("2.675")) == D("2.68")
    assert cents(D("-0.005")) == D("-0.01")


def test_a_line_by_hand():
    # 3 × 19.99 = 59.97; less 7.5 % (4.49775) = 55.47225 → 55.47; cost 3 × 12.3333 = 36.9999 → 37.00
    amounts = line_amounts(line("3", "19.99", "7.5", "12.3333"))
    assert amounts.net == D("55.47")
    assert amounts.cost == D("37.00")
    assert amounts.margin == D("18.47")
    assert amounts.margin_pct == D("33.3")    # 18.47 / 55.47 = 33.297 %


def test_vat_per_rate_on_the_sum_of_nets():
    # Two 21 % lines: 10.05 + 10.05 = 20.10 → VAT 4.221 → 4.22 (per line it would be 2.11 + 2.11 = 4.22 too)
    # A 9 % line 0.05 → 0.0045 → 0.00; a 9 % line 0.06 → 0.0054 → 0.01; together 0.11 → 0.0099 → 0.01.
    totals = calculate([line("1", "10.05"), line("1", "10.05"),
                        line("1", "0.05", vat="9"), line("1", "0.06", vat="9"),
                        line("2", "50", vat="0")])
    assert totals.net == D("120.21")   # 20.10 + 0.11 + 100.00
    assert totals.vat_by_rate == {D("0"): (D("100.00"), D("0.00")),
                                  D("9"): (D("0.11"), D("0.01")),
                                  D("21"): (D("20.10"), D("4.22"))}
    assert totals.vat == D("4.23")
    assert totals.gross == D("124.44")


def test_totals_margin_and_empty_quote():
    totals = calculate([line("10", "4.50", cost="3.10"), line("1", "100", "100", cost="20")])
    # 45.00 − 31.00 = 14.00; free line: 0.00 − 20.00 = −20.00 → margin −6.00 on 45.00
    assert (totals.net, totals.cost, totals.margin) == (D("45.00"), D("51.00"), D("-6.00"))
    assert totals.margin_pct == D("-13.3")
    empty = calculate([])
    assert (empty.net, empty.vat, empty.gross, empty.margin_pct) == (D("0"), D("0"), D("0"), None)


@pytest.mark.parametrize("text, places, expected", [
    ("1234.5", 2, D("1234.5")), ("1234,50", 2, D("1234.50")), ("1.234,50", 2, D("1234.50")),
    ("1,234.50", 2, D("1234.50")), (" 7 ", 0, D("7")), ("1.23456", 4, None), ("-1", 2, None),
    ("abc", 2, None), ("NaN", 2, None), ("Infinity", 2, None), ("1e400", 2, None), ("", 2, None),
])
def test_parsing_user_decimals(text, places, expected):
    assert parse_decimal(text, places=places) == expected
