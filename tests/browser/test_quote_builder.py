"""The quote builder recalculates lines and totals in place as the user types."""
import re
from decimal import Decimal

import pytest

from conftest import make_account, make_contact
from models.products import Product, set_search_name
from models.quotes import add_product_line, create_quote

from .conftest import sign_in

pytestmark = pytest.mark.browser


def _product(code, price, cost, vat="21", stock="100"):
    product = Product(code=code, name=f"Product {code}", list_price=Decimal(price),
                      cost_price=Decimal(cost), vat_rate=Decimal(vat), stock=Decimal(stock),
                      reserved=Decimal("0"), unit="pc")
    set_search_name(product)
    product.save()
    return product


def test_typing_a_quantity_recalculates_in_place(page, live_server, user):
    from playwright.sync_api import expect
    account = make_account(user, "Recalc Bakery", language="en")
    contact = make_contact(account, emails="buyer@recalc.example")
    quote = create_quote(account, user, contact)
    cups = add_product_line(quote, _product("CUP-1", "2.50", "1.00"))
    add_product_line(quote, _product("LID-1", "10.00", "4.00", vat="9"))
    sign_in(page, user)
    page.goto(f"/quotes/{quote.id}")
    net = page.locator("[data-amount='total-net']")
    gross = page.locator("[data-amount='gross']")
    expect(net).to_contain_text("12.50")                 # 2.50 + 10.00
    url_before = page.url

    quantity = page.locator(f"#quantity-{cups.id}")
    quantity.fill("")
    quantity.type("12")                                  # 12 × 2.50 = 30.00
    expect(net).to_contain_text("40.00")                 # 30.00 + 10.00
    # VAT 21 % of 30.00 = 6.30 and 9 % of 10.00 = 0.90: 40.00 + 7.20 = 47.20
    expect(gross).to_contain_text("47.20")
    expect(page.get_by_text("not saved yet")).to_be_visible()
    # Still the same page, and the cursor stayed in the field being typed in.
    assert page.url == url_before
    assert page.evaluate("document.activeElement.id") == f"quantity-{cups.id}"

    discount = page.locator(f"#discount_pct-{cups.id}")
    discount.fill("10")                                  # 30.00 less 10 % = 27.00
    expect(net).to_contain_text("37.00")


def test_a_bad_quantity_is_named_at_the_field(page, live_server, user, page_watch):
    from playwright.sync_api import expect
    account = make_account(user, "Typo Traders", language="en")
    quote = create_quote(account, user, make_contact(account))
    line = add_product_line(quote, _product("BOX-1", "5.00", "2.00"))
    page_watch.expect_status(422, f"/quotes/{quote.id}")
    sign_in(page, user)
    page.goto(f"/quotes/{quote.id}")
    page.locator(f"#quantity-{line.id}").fill("-3")
    error = page.locator(f"#quantity-{line.id}-error")
    expect(error).not_to_be_empty()
    assert re.search(r"\w", error.inner_text())
    expect(page.locator(f"#quantity-{line.id}")).to_have_value("-3")
