"""Price agreements per account: the product agreement wins over the category one;
who may change them; validation; the page and its fragment."""
from decimal import Decimal

import pytest

from conftest import login, make_account, make_user, text_of
from models.pricing import (PriceAgreement, agreed_discounts, clean_agreement, discount_limit,
                            set_agreement)
from models.products import clean_product, save_product
from models.validation import Invalid

HTMX = {"HX-Request": "true"}


def make_product(code, category="Flour", price="10"):
    return save_product(clean_product({"code": code, "name": f"Product {code}",
                                       "list_price": price, "cost_price": "5",
                                       "vat_rate": "9", "category": category, "active": "1"}))


def agree(account, discount, category=None, product=None):
    return set_agreement(account, clean_agreement(
        {"category": category or "", "product": product.code if product else "",
         "discount_pct": discount}))


def test_product_agreement_wins_over_category_then_nothing(app, user):
    account = make_account(user)
    other = make_account(user, "Other account")
    flour, special, sugar = make_product("FLR"), make_product("FLR-X"), make_product("SUG", "Sugar")
    agree(account, "10", category="Flour")
    agree(account, "12.5", product=special)
    agree(other, "50", category="Sugar")
    assert agreed_discounts(account, [flour, special, sugar]) == {
        flour.id: Decimal("10"), special.id: Decimal("12.5"), sugar.id: Decimal("0")}
    # Agreeing again for the same category updates, it does not add a second row.
    agree(account, "11", category="Flour")
    assert agreed_discounts(account, [flour])[flour.id] == Decimal("11")
    assert PriceAgreement.select().where(PriceAgreement.account == account).count() == 2


@pytest.mark.parametrize("data, field", [
    ({"category": "Flour", "discount_pct": "101"}, "discount_pct"),
    ({"category": "Flour", "discount_pct": "-1"}, "discount_pct"),
    ({"category": "Flour", "discount_pct": "1.234"}, "discount_pct"),
    ({"category": "Flour", "discount_pct": ""}, "discount_pct"),
    ({"discount_pct": "5"}, "category"),
    ({"category": "Flour", "product": "FLR", "discount_pct": "5"}, "category"),
    ({"product": "NOPE", "discount_pct": "5"}, "product"),
])
def test_agreement_validation(app, data, field):
    make_product("FLR")
    with pytest.raises(Invalid) as raised:
        clean_agreement(data)
    assert field in raised.value.errors


def test_page_and_fragment_and_saving(client, user, manager):
    account = make_account(user)
    product = make_product("FLR")
    login(client, manager)
    auth = client
    page = auth.get(f"/accounts/{account.id}/prices")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "No agreed prices" in text_of(page)
    assert "Prices" in text_of(auth.get(f"/accounts/{account.id}"))
    response = auth.post(f"/accounts/{account.id}/prices",
                         data={"category": "Flour", "discount_pct": "7,5"}, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.get_data(as_text=True)
    assert "Discount for Flour saved" in text_of(response)
    response = auth.post(f"/accounts/{account.id}/prices",
                         data={"product": "FLR", "discount_pct": "9"})
    assert response.status_code == 303
    assert agreed_discounts(account, [product])[product.id] == Decimal("9")
    bad = auth.post(f"/accounts/{account.id}/prices",
                    data={"category": "Flour", "discount_pct": "150"}, headers=HTMX)
    assert bad.status_code == 422
    assert "from 0 to 100" in text_of(bad)
    assert 'value="150"' in bad.get_data(as_text=True)
    agreement = PriceAgreement.get(PriceAgreement.product == product)
    removed = auth.post(f"/accounts/{account.id}/prices/{agreement.id}/delete", headers=HTMX)
    assert removed.status_code == 200
    assert agreed_discounts(account, [product])[product.id] == Decimal("7.5")
    assert auth.post(f"/accounts/{account.id}/prices/{agreement.id}/delete").status_code == 404


@pytest.mark.parametrize("role", ["account_manager", "inside_sales"])
def test_only_managers_finance_and_admins_agree_prices(client, user, role):
    """An agreed discount is given on every quote without approval, so not even the
    account's own manager may agree one: 30 % agreed would pass their 10 % limit unseen."""
    account = make_account(user)
    for person in (user, make_user(f"other-{role}@example.com", role=role)):
        login(client, person)
        page = text_of(client.get(f"/accounts/{account.id}/prices"))
        assert "Agree a discount" not in page and "a manager or finance sets them" in page
        response = client.post(f"/accounts/{account.id}/prices",
                               data={"category": "Flour", "discount_pct": "30"})
        assert response.status_code == 403
        agreement = agree(account, "5", category="Flour")
        assert client.post(f"/accounts/{account.id}/prices/{agreement.id}/delete").status_code == 403
        assert PriceAgreement.select().count() == 1
        agreement.delete_instance()
    assert client.get("/accounts/999/prices").status_code == 404
    for number, approver_role in enumerate(("manager", "finance", "admin")):
        login(client, make_user(f"lead{number}@example.com", role=approver_role))
        assert client.post(f"/accounts/{account.id}/prices",
                           data={"category": "Flour", "discount_pct": "6"}).status_code == 303


def test_category_names_are_escaped(auth, user):
    account = make_account(user)
    make_product("X", category="<script>x</script>")
    agree(account, "5", category="<script>x</script>")
    html = auth.get(f"/accounts/{account.id}/prices").get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_discount_limit_defaults_per_role(app):
    assert discount_limit("account_manager") == Decimal("10")
    assert discount_limit("nobody") == Decimal("0")
