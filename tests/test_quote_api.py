"""The quotes API: list, create with lines, read, update a draft, submit, approve, send."""
import pytest

from conftest import make_account, make_contact, make_user
from models.quotes import Quote, submit
from test_api import api  # noqa: F401  (api is a fixture)
from test_quotes import add_line, agree, make_product, quote_for


@pytest.fixture
def finance(app):
    return make_user("fin@example.com", role="finance", name="Fenna Finance")


def test_create_a_quote_with_lines_and_read_its_totals(api, user):
    account = make_account(user, payment_terms="30 days")
    contact = make_contact(account, emails="anna@devries.nl")
    table = make_product(list_price="200", cost_price="90")
    agree(account, "10", category="furniture")
    response = api.post("/api/v1/quotes", {
        "account_id": account.id, "contact_id": contact.id,
        "lines": [{"product_id": table.id, "quantity": "2", "discount_pct": "5"},
                  {"description": "Delivery", "quantity": "1", "unit_price": "49.50",
                   "vat_rate": "21", "cost_price": "30"}]})
    assert response.status_code == 201, response.json
    item = response.json
    assert response.headers["Location"].endswith(f"/api/v1/quotes/{item['id']}")
    assert (item["status"], item["revision"], item["contact_id"]) == ("draft", 1, contact.id)
    assert item["payment_terms"] == "30 days" and item["language"] == "nl"
    assert [(l["product_id"], l["quantity"], l["unit_price"], l["discount_pct"])
            for l in item["lines"]] == [(table.id, "2", "180.00", "5"),
                                        (None, "1", "49.50", "0")]
    # 2 × 180 less 5 % = 342.00; + 49.50 = 391.50; VAT 21 % = 82.22 (82.215 half-up);
    # cost 2 × 90 + 30 = 210.00; margin 181.50 = 46.4 %
    assert item["totals"] == {"net": "391.50", "vat": "82.22", "gross": "473.72",
                              "cost": "210.00", "margin": "181.50", "margin_pct": "46.4"}
    assert api.get(f"/api/v1/quotes/{item['id']}").json["totals"]["net"] == "391.50"


def test_bad_lines_get_messages_per_line_and_field(api, user):
    account = make_account(user)
    response = api.post("/api/v1/quotes", {"account_id": account.id, "lines": [
        {"description": "X", "quantity": "-1", "unit_price": "1", "vat_rate": "21"},
        {"product_id": 999999, "quantity": "1"},
        {"description": "Y", "quantity": 1.5, "unit_price": "1", "vat_rate": "21"},
        {"description": "Z", "quantity": "1", "unit_price": "1.00001", "vat_rate": "21"}]})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"lines[0].quantity", "lines[1].product_id",
                                            "lines[2].quantity", "lines[3].unit_price"}
    assert Quote.select().count() == 0
    assert api.post("/api/v1/quotes", {"lines": []}).status_code == 422
    assert api.post("/api/v1/quotes", "not json").status_code == 400


def test_list_filters_and_pages(api, user):
    colleague = make_user("bob@example.com")
    mine, theirs = quote_for(user), quote_for(colleague, name="Other")
    add_line(mine, quantity="2", unit_price="10")
    items = api.get("/api/v1/quotes").json["items"]
    assert [i["id"] for i in items] == [mine.id, theirs.id]
    assert items[0]["totals"]["net"] == "20.00"
    owned = api.get("/api/v1/quotes?owner=bob@example.com").json["items"]
    assert [i["id"] for i in owned] == [theirs.id]
    assert api.get("/api/v1/quotes?status=sent").json["items"] == []
    assert api.get("/api/v1/quotes?status=nonsense").status_code == 400
    first = api.get("/api/v1/quotes?limit=1").json
    assert len(first["items"]) == 1 and first["next"]


def test_update_a_draft_and_refuse_a_stale_version(api, user):
    quote = quote_for(user)
    add_line(quote)
    version = Quote.get_by_id(quote.id).version
    response = api.patch(f"/api/v1/quotes/{quote.id}", {
        "version": version, "payment_terms": "14 days",
        "lines": [{"description": "Workshop", "quantity": "3", "unit_price": "250",
                   "vat_rate": "21", "cost_price": "100"}]})
    assert response.status_code == 200, response.json
    assert response.json["payment_terms"] == "14 days"
    assert [l["description"] for l in response.json["lines"]] == ["Workshop"]
    assert response.json["totals"]["net"] == "750.00"
    stale = api.patch(f"/api/v1/quotes/{quote.id}", {"version": version, "payment_terms": "x"})
    assert stale.status_code == 409
    assert Quote.get_by_id(quote.id).payment_terms == "14 days"
    assert api.patch(f"/api/v1/quotes/{quote.id}", {"status": "approved"}).status_code == 400


def test_submit_approve_and_send(api, user, manager, finance):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    submitted = api.post(f"/api/v1/quotes/{quote.id}/submit")
    assert submitted.status_code == 200 and submitted.json["status"] == "awaiting_approval"
    assert api.post(f"/api/v1/quotes/{quote.id}/approve", {"comment": "me"}).status_code == 403
    as_finance = api.as_user(finance)
    no_comment = as_finance.post(f"/api/v1/quotes/{quote.id}/approve", {})
    assert no_comment.status_code == 422 and "comment" in no_comment.json["fields"]
    approved = as_finance.post(f"/api/v1/quotes/{quote.id}/approve", {"comment": "Fine"})
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert approved.json["approval_comment"] == "Fine"
    sent = api.post(f"/api/v1/quotes/{quote.id}/send")
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "sent" and sent.json["email"]["id"]
    again = api.post(f"/api/v1/quotes/{quote.id}/send")
    assert again.status_code == 422


def test_a_manager_cannot_approve_their_own_quote_through_the_api(api, manager):
    quote = quote_for(manager)
    add_line(quote, quantity="500", unit_price="100", cost="10")
    submit(quote, manager)
    response = api.as_user(manager).post(f"/api/v1/quotes/{quote.id}/approve", {"comment": "x"})
    assert response.status_code == 403
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"


def test_edit_after_approval_is_back_to_draft_and_cannot_be_sent(api, user):
    quote = quote_for(user)
    add_line(quote)
    assert api.post(f"/api/v1/quotes/{quote.id}/submit").json["status"] == "approved"
    changed = api.patch(f"/api/v1/quotes/{quote.id}", {"lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": "1", "vat_rate": "21"}]})
    assert changed.json["status"] == "draft"
    refused = api.post(f"/api/v1/quotes/{quote.id}/send")
    assert refused.status_code == 422 and "Submit" in refused.json["fields"]["status"]


def test_unknown_and_forbidden(api, user):
    stranger_quote = quote_for(make_user("other@example.com"), name="Not mine")
    assert api.get("/api/v1/quotes/999999").status_code == 404
    assert api.patch(f"/api/v1/quotes/{stranger_quote.id}", {"payment_terms": "x"}).status_code == 403
    assert api.post(f"/api/v1/quotes/{stranger_quote.id}/submit").status_code == 403
    assert api.get("/api/v1/quotes", headers={"Authorization": "Bearer nope"}).status_code == 401
