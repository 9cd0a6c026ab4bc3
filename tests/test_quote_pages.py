"""The quote pages: list, new quote, builder, live recalculation, approval queue, actions."""
import re
from decimal import Decimal as D

import pytest
from playhouse.test_utils import count_queries

from conftest import login, make_account, make_contact, make_user, text_of
from models.quotes import Quote, QuoteLine, approve, decline, mark_sent, submit
from test_quotes import add_line, make_product, quote_for

HTMX = {"HX-Request": "true"}


@pytest.fixture
def finance(app):
    return make_user("fin@example.com", role="finance", name="Fenna Finance")


def version_of(quote):
    return str(Quote.get_by_id(quote.id).version)


def test_the_builder_page_and_its_fragment(auth, user):
    quote = quote_for(user)
    add_line(quote, quantity="2", unit_price="50", cost="30")
    page = auth.get(f"/quotes/{quote.id}")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert "<html" in page.get_data(as_text=True)
    assert quote.number in text_of(page) and "Draft" in text_of(page)
    fragment = auth.get(f"/quotes/{quote.id}", headers=HTMX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith("<div id=\"quote-lines\"")
    assert "€100.00" in text_of(fragment)


def test_the_live_recalculation_answers_with_the_typed_numbers(auth, user):
    quote = quote_for(user)
    a = add_line(quote, quantity="1", unit_price="10", cost="5", vat="21")
    b = add_line(quote, quantity="1", unit_price="10", cost="5", vat="9", description="Other")
    response = auth.post(f"/quotes/{quote.id}/recalculate", headers=HTMX, data={
        f"quantity-{a.id}": "3", f"unit_price-{a.id}": "19,99", f"discount_pct-{a.id}": "7.5",
        f"quantity-{b.id}": "2", f"unit_price-{b.id}": "0.055", f"discount_pct-{b.id}": "0"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # 3 × 19.99 less 7.5 % = 55.47; 2 × 0.055 = 0.11; VAT 21 % of 55.47 = 11.65, 9 % of 0.11 = 0.01
    assert _amount(html, "net") == ["€55.47", "€0.11"]
    assert _amount(html, "total-net") == ["€55.58"]
    assert _amount(html, "vat-21") == ["€11.65"] and _amount(html, "vat-9") == ["€0.01"]
    assert _amount(html, "gross") == ["€67.24"]
    assert _amount(html, "total-cost") == ["€25.00"]          # 3 × 5 + 2 × 5
    assert _amount(html, "total-margin") == ["€30.58"]
    assert "not saved yet" in text_of(response)
    # Nothing was saved: the recalculation only shows.
    assert QuoteLine.get_by_id(a.id).quantity == D("1")


def _amount(html, name):
    return [re.sub(r"<[^>]+>", "", m).strip()
            for m in re.findall(rf'data-amount="{name}">(.*?)</td>', html, re.S)]


def test_the_recalculation_shows_bad_input_at_its_field(auth, user):
    quote = quote_for(user)
    line = add_line(quote, quantity="1", unit_price="10")
    response = auth.post(f"/quotes/{quote.id}/recalculate", headers=HTMX,
                         data={f"quantity-{line.id}": "-1", f"unit_price-{line.id}": "12"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="quantity-{line.id}-error"' in html and 'value="-1"' in html
    assert _amount(html, "net") == ["€12.00"]     # the valid price is used with the saved quantity


def test_saving_lines_and_the_409_of_a_concurrent_edit(client, user, manager):
    quote = quote_for(user)
    line = add_line(quote, quantity="1", unit_price="10")
    seen = version_of(quote)
    login(client, user)
    saved = client.post(f"/quotes/{quote.id}/lines", data={
        "version": seen, f"quantity-{line.id}": "4", f"unit_price-{line.id}": "10",
        f"discount_pct-{line.id}": "0"})
    assert saved.status_code == 303
    assert QuoteLine.get_by_id(line.id).quantity == D("4")
    other = client.application.test_client()
    login(other, manager)
    late = other.post(f"/quotes/{quote.id}/lines", headers=HTMX, data={
        "version": seen, f"quantity-{line.id}": "9", f"unit_price-{line.id}": "10"})
    assert late.status_code == 409
    assert "Someone else changed this quote" in text_of(late)
    assert 'value="9"' in late.get_data(as_text=True)      # their input is kept
    assert QuoteLine.get_by_id(line.id).quantity == D("4")


def test_bad_line_input_comes_back_with_the_message(auth, user):
    quote = quote_for(user)
    line = add_line(quote)
    response = auth.post(f"/quotes/{quote.id}/lines", headers=HTMX, data={
        "version": version_of(quote), f"quantity-{line.id}": "1.23456"})
    assert response.status_code == 422
    assert "at most 3 decimals" in text_of(response)


def test_adding_a_product_and_a_free_text_line_from_the_builder(auth, user):
    quote = quote_for(user)
    table = make_product()
    response = auth.post(f"/quotes/{quote.id}/lines", data={
        "version": version_of(quote), "add_product": str(table.id)})
    assert response.status_code == 303
    response = auth.post(f"/quotes/{quote.id}/lines", data={
        "version": version_of(quote), "add_free": "1", "new_description": "Installation",
        "new_quantity": "2", "new_unit_price": "45", "new_vat_rate": "21"})
    assert response.status_code == 303
    assert [l.description for l in Quote.get_by_id(quote.id).ordered_lines()] == \
        ["Oak table", "Installation"]
    refused = auth.post(f"/quotes/{quote.id}/lines", headers=HTMX, data={
        "version": version_of(quote), "add_free": "1", "new_description": "",
        "new_quantity": "x", "new_unit_price": "1", "new_vat_rate": "21"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="new_quantity-error" role="alert"' in html
    assert 'id="new_description-error" role="alert"' in html


def test_removing_a_line(auth, user):
    quote = quote_for(user)
    keep, drop = add_line(quote, description="Keep"), add_line(quote, description="Drop")
    auth.post(f"/quotes/{quote.id}/lines", data={"version": version_of(quote),
                                                  "remove": str(drop.id)})
    assert [l.id for l in Quote.get_by_id(quote.id).ordered_lines()] == [keep.id]


def test_the_product_picker_searches_the_catalogue(auth, user):
    quote = quote_for(user)
    make_product(code="T-1", name="Oak table")
    make_product(code="C-1", name="Chair")
    make_product(code="X-1", name="Old oak", active=False)
    response = auth.get(f"/quotes/{quote.id}/products?q=oak", headers=HTMX)
    assert "Oak table" in text_of(response)
    assert "Chair" not in text_of(response) and "Old oak" not in text_of(response)
    page = auth.get(f"/quotes/{quote.id}?q=chair")           # without JavaScript
    assert "C-1" in text_of(page)


def test_user_text_is_escaped(auth, user):
    quote = quote_for(user)
    add_line(quote, description="<script>alert(1)</script>")
    quote.payment_terms = "<b>net</b>"
    quote.save()
    html = auth.get(f"/quotes/{quote.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>net</b>" not in html
    listing = auth.get("/quotes/").get_data(as_text=True)
    assert "<script>alert" not in listing


def test_the_builder_query_count_does_not_grow_with_lines(auth, user):
    quote = quote_for(user)
    products = [make_product(code=f"P-{i}", name=f"Product {i}") for i in range(12)]
    add_line(quote, product=products[0], description="first")

    def queries():
        with count_queries() as counter:
            assert auth.get(f"/quotes/{quote.id}").status_code == 200
        return counter.count

    queries()                 # the first view creates the margin policy with its defaults
    few = queries()
    for product in products[1:]:
        add_line(quote, product=product, description=product.name)
    add_line(quote, description="free")
    assert queries() == few


def test_the_list_filters_by_status_owner_and_account(auth, user):
    colleague = make_user("bob@example.com")
    mine = quote_for(user, name="Alpha Bakery")
    theirs = quote_for(colleague, name="Beta Brewery")
    add_line(mine)
    submit(mine, user)
    page = auth.get("/quotes/")
    assert mine.number in text_of(page) and theirs.number in text_of(page)
    approved = auth.get("/quotes/?status=approved", headers=HTMX)
    assert mine.number in text_of(approved) and theirs.number not in text_of(approved)
    assert 'class="chip quote-status tone-teal' in approved.get_data(as_text=True)
    by_owner = auth.get(f"/quotes/?owner={colleague.id}", headers=HTMX)
    assert theirs.number in text_of(by_owner) and mine.number not in text_of(by_owner)
    by_account = auth.get("/quotes/?q=brew", headers=HTMX)
    assert theirs.number in text_of(by_account) and mine.number not in text_of(by_account)


def test_the_list_query_count_is_fixed(auth, user):
    for i in range(3):
        add_line(quote_for(user, name=f"Account {i}"))

    def queries():
        with count_queries() as counter:
            auth.get("/quotes/")
        return counter.count

    few = queries()
    for i in range(5):
        add_line(quote_for(user, name=f"More {i}"))
    assert queries() == few


def test_a_new_quote_from_the_account(auth, user):
    account = make_account(user, payment_terms="14 days")
    contact = make_contact(account, language="it")
    page = auth.get(f"/accounts/{account.id}/quotes/new")
    assert page.status_code == 200 and contact.name in text_of(page)
    response = auth.post(f"/accounts/{account.id}/quotes/new", data={"contact": str(contact.id)})
    assert response.status_code == 303
    quote = Quote.get()
    assert response.headers["Location"].endswith(f"/quotes/{quote.id}")
    assert (quote.contact_id, quote.language, quote.payment_terms) == (contact.id, "it", "14 days")
    foreign = make_contact(make_account(user, name="Other"))
    refused = auth.post(f"/accounts/{account.id}/quotes/new", data={"contact": str(foreign.id)})
    assert refused.status_code == 422 and Quote.select().count() == 1


def test_the_account_page_shows_open_quotes(auth, user):
    quote = quote_for(user)
    add_line(quote, quantity="3", unit_price="10")
    page = auth.get(f"/accounts/{quote.account_id}")
    assert "Open quotes" in text_of(page) and quote.number in text_of(page)
    assert "€30.00" in text_of(page)
    assert f"/accounts/{quote.account_id}/quotes/new" in page.get_data(as_text=True)


def test_editing_the_header(auth, user):
    quote = quote_for(user)
    form = {"version": version_of(quote), "contact": str(quote.contact_id),
            "valid_until": quote.valid_until.isoformat(), "language": "el",
            "payment_terms": "Cash", "delivery_terms": "EXW", "introduction": "Dear Anna"}
    assert auth.post(f"/quotes/{quote.id}/header", data=form).status_code == 303
    assert Quote.get_by_id(quote.id).payment_terms == "Cash"
    stale = auth.post(f"/quotes/{quote.id}/header", headers=HTMX, data=form)
    assert stale.status_code == 409
    bad = auth.post(f"/quotes/{quote.id}/header", headers=HTMX,
                    data={**form, "version": version_of(quote), "valid_until": "soon"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in text_of(bad)


# --- permissions and actions ---------------------------------------------------------------

def test_unknown_quotes_404_and_strangers_403(client, user):
    stranger = make_user("x@example.com")
    quote = quote_for(user)
    login(client, stranger)
    assert client.get("/quotes/999999").status_code == 404
    assert client.get(f"/quotes/{quote.id}").status_code == 200          # staff may look
    assert client.post(f"/quotes/{quote.id}/lines", data={}).status_code == 403
    assert client.post(f"/quotes/{quote.id}/submit").status_code == 403
    assert client.get("/quotes/approvals").status_code == 403
    assert client.get(f"/accounts/{quote.account_id}/quotes/new").status_code == 403


def test_changes_need_the_csrf_token(auth, user):
    quote = quote_for(user)
    assert auth.post(f"/quotes/{quote.id}/submit", csrf=False).status_code == 400


def test_login_is_required(client, user):
    quote = quote_for(user)
    assert client.get(f"/quotes/{quote.id}").status_code == 302


def test_submit_approve_through_the_pages(client, user, manager, finance):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    login(client, user)
    client.post(f"/quotes/{quote.id}/submit", data={"version": version_of(quote)})
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"
    page = client.get(f"/quotes/{quote.id}")
    assert "Needs approval" in text_of(page) and "30 %" in text_of(page)
    assert client.post(f"/quotes/{quote.id}/approve",
                       data={"comment": "me", "version": version_of(quote)}).status_code == 403
    login(client, manager)
    queue = client.get("/quotes/approvals")
    assert quote.number in text_of(queue)
    no_comment = client.post(f"/quotes/{quote.id}/approve", data={"version": version_of(quote)})
    assert no_comment.status_code == 303 and Quote.get_by_id(quote.id).status == "awaiting_approval"
    client.post(f"/quotes/{quote.id}/approve",
                data={"comment": "OK for a key account", "version": version_of(quote)})
    assert Quote.get_by_id(quote.id).approved_by_id == manager.id
    assert "OK for a key account" in text_of(client.get(f"/quotes/{quote.id}"))


def test_an_approver_approves_the_version_they_saw(client, user, finance):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    seen = version_of(quote)
    Quote.update(version=Quote.version + 1).where(Quote.id == quote.id).execute()
    login(client, finance)
    client.post(f"/quotes/{quote.id}/approve", data={"comment": "ok", "version": seen})
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"


def test_a_manager_sees_no_approve_button_on_their_own_quote(client, manager):
    quote = quote_for(manager)
    add_line(quote, discount="40", cost="10")
    submit(quote, manager)
    login(client, manager)
    page = client.get(f"/quotes/{quote.id}")
    assert "You cannot approve your own quote" in text_of(page)
    client.post(f"/quotes/{quote.id}/approve", data={"comment": "mine", "version": version_of(quote)})
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"


def test_reject_through_the_page(client, user, finance):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    login(client, finance)
    client.post(f"/quotes/{quote.id}/reject", data={"comment": "Lower the discount",
                                                   "version": version_of(quote)})
    login(client, user)
    assert Quote.get_by_id(quote.id).status == "draft"
    assert "Lower the discount" in text_of(client.get(f"/quotes/{quote.id}"))


def test_a_sent_quote_is_read_only_and_can_be_revised(auth, user):
    quote = quote_for(user)
    line = add_line(quote)
    submit(quote, user)
    mark_sent(quote, user)
    page = auth.get(f"/quotes/{quote.id}")
    assert f'name="quantity-{line.id}"' not in page.get_data(as_text=True)
    assert "Revise" in text_of(page)
    refused = auth.post(f"/quotes/{quote.id}/lines", data={
        "version": version_of(quote), f"quantity-{line.id}": "7"})
    assert refused.status_code == 422 and QuoteLine.get_by_id(line.id).quantity == D("1")
    response = auth.post(f"/quotes/{quote.id}/revise")
    revision = Quote.get((Quote.number == quote.number) & (Quote.revision == 2))
    assert response.headers["Location"].endswith(f"/quotes/{revision.id}")
    auth.post(f"/quotes/{revision.id}/lines", data={
        "version": version_of(revision),
        f"quantity-{revision.ordered_lines().get().id}": "3,5",
        f"unit_price-{revision.ordered_lines().get().id}": "1234.5"})
    history = text_of(auth.get(f"/quotes/{revision.id}"))
    assert "Revisions" in history and f"{quote.number}-2" in history
    assert "Superseded" in history and "Quantity 1 → 3.5" in history
    assert "Unit price €100.00 → €1,234.50" in history          # money, as everywhere else


def test_changed_terms_read_as_dates_in_the_revision_history(auth, user):
    import datetime
    from models.quotes import revise, update_header
    quote = quote_for(user)
    add_line(quote)
    submit(quote, user)
    mark_sent(quote, user)
    revision = revise(Quote.get_by_id(quote.id), user)
    update_header(revision, {"valid_until": datetime.date(2027, 1, 31)})
    history = text_of(auth.get(f"/quotes/{revision.id}"))
    assert "Valid until:" in history and "→ 31 Jan 2027" in history
    assert "2027-01-31" not in history


def test_copy_through_the_page(auth, user):
    quote = quote_for(user)
    add_line(quote)
    response = auth.post(f"/quotes/{quote.id}/copy")
    copy = Quote.select().where(Quote.id != quote.id).get()
    assert response.headers["Location"].endswith(f"/quotes/{copy.id}")
    assert copy.status == "draft" and copy.number != quote.number


def test_send_refuses_a_quote_that_is_not_approved(auth, user):
    quote = quote_for(user)
    add_line(quote)
    auth.post(f"/quotes/{quote.id}/send", data={"version": version_of(quote)})
    assert Quote.get_by_id(quote.id).status == "draft"


def test_send_through_the_page(auth, user):
    quote = quote_for(user)
    add_line(quote)
    submit(quote, user)
    response = auth.post(f"/quotes/{quote.id}/send", data={"version": version_of(quote)})
    assert response.status_code == 303
    assert Quote.get_by_id(quote.id).status == "sent"
    page = text_of(auth.get(f"/quotes/{quote.id}"))      # no mail server in this app
    assert "Not sent: no mail server configured." in page
    assert "waiting for the customer" not in page


def test_a_manager_who_changed_a_quote_is_told_someone_else_approves(client, user, manager,
                                                                     finance):
    quote = quote_for(user)
    line = add_line(quote, discount="30", cost="10")
    submit(quote, user)
    login(client, manager)
    client.post(f"/quotes/{quote.id}/lines", data={"version": version_of(quote),
                                                  f"discount_pct-{line.id}": "31"})
    assert QuoteLine.get_by_id(line.id).discount_pct == D("31")
    submit(Quote.get_by_id(quote.id), user)
    page = client.get(f"/quotes/{quote.id}")
    assert "You changed this quote, so someone else must approve it" in text_of(page)
    assert "Approve" not in re.findall(r"<button[^>]*>([^<]*)</button>", page.get_data(as_text=True))
    client.post(f"/quotes/{quote.id}/approve", data={"comment": "mine", "version": version_of(quote)})
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"
    login(client, finance)
    assert "Approve" in text_of(client.get(f"/quotes/{quote.id}"))


def test_a_declined_quote_offers_a_revision(auth, user):
    quote = quote_for(user)
    add_line(quote)
    submit(quote, user)
    mark_sent(quote, user)
    decline(quote, "Too expensive")
    assert "Revise" in text_of(auth.get(f"/quotes/{quote.id}"))
    response = auth.post(f"/quotes/{quote.id}/revise")
    revision = Quote.get((Quote.number == quote.number) & (Quote.revision == 2))
    assert response.headers["Location"].endswith(f"/quotes/{revision.id}")
    assert Quote.get_by_id(quote.id).status == "declined"
    assert "Revise" not in text_of(auth.get(f"/quotes/{quote.id}"))   # revise the newest one


@pytest.mark.parametrize("language", ["en_GB", "nl", "it", "el"])
def test_the_fast_money_filter_writes_what_babel_writes(app, language):
    from babel.numbers import format_currency
    from flask_babel import force_locale

    from routes.filters import money
    with app.test_request_context(), force_locale(language):
        for currency in ("EUR", "GBP", "CHF", "JPY"):
            for amount in ("0", "1234.5", "-1234567.891", "999.995", "-0.01", "12"):
                assert money(D(amount), currency) == \
                    format_currency(D(amount), currency, locale=language), (currency, amount)
