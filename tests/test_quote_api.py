"""The quotes API: list, create with lines, read, update a draft, submit, approve, send,
revise and copy; what a quote object tells about its approval, email and answer."""
import datetime

import pytest
from playhouse.test_utils import count_queries

from conftest import make_account, make_contact, make_user
from mail.outbox import queue_email, send_due
from mail_servers import sendable_quote
from models.db import utcnow
from models.emails import Email
from models.quotes import (Quote, accept, approval_reasons, approve, decline, expire_due_quotes,
                           reject, submit)
from test_api import ISO_MOMENT
from test_api import api  # noqa: F401  (api is a fixture)
from test_quotes import add_line, agree, make_product, quote_for, sent_quote


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


# --- what a quote object tells: approval, rejection, the email, the customer's answer -------

def test_a_quote_shows_who_approved_or_rejected_it_and_why_it_needs_approval(api, user, finance):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    url = f"/api/v1/quotes/{quote.id}"
    draft = api.get(url).json
    # The reasons are the model's, as the approver sees them on the quote page.
    model_reasons = approval_reasons(Quote.get_by_id(quote.id))
    assert draft["approval_reasons"] == [str(r) for r in model_reasons]
    assert any("a discount of 30 %" in r for r in draft["approval_reasons"]), draft
    assert (draft["approved_by"], draft["rejected_by"], draft["email"]) == (None, None, None)

    as_finance = api.as_user(finance)
    api.post(f"{url}/submit")
    rejected = as_finance.post(f"{url}/reject", {"comment": "Too much discount"}).json
    assert rejected["status"] == "draft"
    assert rejected["rejected_by"] == {"id": finance.id, "email": "fin@example.com",
                                       "name": "Fenna Finance"}
    assert rejected["rejection_comment"] == "Too much discount"
    assert rejected["approval_reasons"]          # still a draft that needs approval

    assert api.post(f"{url}/submit").json["status"] == "awaiting_approval"
    approved = as_finance.post(f"{url}/approve", {"comment": "Fine this once"}).json
    assert approved["approved_by"] == {"id": finance.id, "email": "fin@example.com",
                                       "name": "Fenna Finance"}
    assert ISO_MOMENT.match(approved["approved_at"])
    assert approved["approval_comment"] == "Fine this once"
    assert approved["approval_reasons"] == []    # approved: nothing left to approve
    assert (approved["rejected_by"], approved["rejection_comment"]) == (None, "")
    assert api.get(url).json["approved_by"]["email"] == "fin@example.com"


def test_an_automatically_approved_quote_has_no_approver(api, user):
    quote = quote_for(user)
    add_line(quote)
    approved = api.post(f"/api/v1/quotes/{quote.id}/submit").json
    assert approved["status"] == "approved" and ISO_MOMENT.match(approved["approved_at"])
    assert approved["approved_by"] is None and approved["approval_reasons"] == []


def test_the_customers_answer_is_in_the_quote(api, user):
    yes, no = sent_quote(user), sent_quote(user)
    accept(yes, "Anna de Vries", "PO-4471")
    decline(no, "Too expensive")
    accepted = api.get(f"/api/v1/quotes/{yes.id}").json
    assert (accepted["status"], accepted["accepted_by_name"], accepted["purchase_order"]) == \
        ("accepted", "Anna de Vries", "PO-4471")
    assert ISO_MOMENT.match(accepted["answered_at"]) and accepted["decline_reason"] == ""
    declined = api.get(f"/api/v1/quotes/{no.id}").json
    assert (declined["status"], declined["decline_reason"], declined["accepted_by_name"]) == \
        ("declined", "Too expensive", "")
    assert declined["approval_reasons"] == []
    for name in ("approval_reasons", "email", "decline_reason", "rejected_by", "display_number"):
        refused = api.patch(f"/api/v1/quotes/{no.id}", {name: None})
        assert refused.status_code == 400 and name in refused.json["fields"], name


@pytest.mark.mail
def test_the_quote_email_shows_its_delivery_state(api, user, smtp_server):
    """Sent through the API, then delivered (after a refusal) by the outbox worker to a real
    SMTP server: the quote's `email` follows the message from queued to sent."""
    quote = sendable_quote(user)
    sent = api.post(f"/api/v1/quotes/{quote.id}/send").json
    email = Email.get(Email.quote == quote.id)
    assert sent["email"] == {"id": email.id, "message_id": email.message_id, "status": "queued",
                             "sent_at": None, "last_error": ""}
    assert ISO_MOMENT.match(sent["sent_at"])         # the quote was sent, the email not yet

    smtp_server.handler.reply = "451 4.3.0 Mailbox busy, try again later"
    now = utcnow()
    assert send_due(now=now) == {"retry": 1}
    waiting = api.get(f"/api/v1/quotes/{quote.id}").json["email"]
    assert waiting["status"] == "queued" and "451 4.3.0 Mailbox busy" in waiting["last_error"]

    smtp_server.handler.reply = None
    assert send_due(now=now + datetime.timedelta(minutes=5)) == {"sent": 1}
    delivered = api.get(f"/api/v1/quotes/{quote.id}").json["email"]
    assert delivered["status"] == "sent" and ISO_MOMENT.match(delivered["sent_at"])
    assert delivered["last_error"] == ""
    assert smtp_server.messages[0]["Message-ID"] == f"<{delivered['message_id']}>"
    listed = api.get(f"/api/v1/quotes?account_id={quote.account_id}").json["items"]
    assert listed[0]["email"] == delivered


# --- a page of quotes -------------------------------------------------------------------------

def _quotes_in_every_state(user, finance, n, start):
    """Quotes approved or rejected by finance, the approved ones with a quote email (two for
    some: the later one counts)."""
    for i in range(start, start + n):
        quote = quote_for(user, name=f"Account {i}")
        add_line(quote, discount="30", cost="10")
        submit(quote, user)
        if i % 2:
            reject(quote, finance, "No")
            continue
        approve(quote, finance, "Fine")
        for subject in ("first", "second"):
            queue_email(to=["anna@devries.nl"], subject=f"{subject} {i}", text="x",
                        kind="quote", quote=quote, account=quote.account)


def test_a_page_of_quotes_costs_the_same_queries_for_any_size(api, user, finance):
    _quotes_in_every_state(user, finance, 2, 0)
    few, shown_few = _list_queries(api, "/api/v1/quotes?limit=2")
    _quotes_in_every_state(user, finance, 10, 2)
    many, shown_many = _list_queries(api, "/api/v1/quotes?limit=10")
    assert (shown_few, shown_many) == (2, 10)
    assert many == few
    items = api.get("/api/v1/quotes?limit=2").json["items"]
    assert items[0]["approved_by"]["email"] == "fin@example.com"
    assert items[0]["email"]["id"] == Email.get(Email.subject == "second 0").id
    assert items[1]["rejected_by"]["email"] == "fin@example.com" and items[1]["email"] is None
    assert all("approval_reasons" not in item for item in items)   # the single quote has them


def _list_queries(api, url):
    api.get(url)  # the token's "last used" is written at most once a minute: not in the count
    with count_queries() as counter:
        response = api.get(url)
    assert response.status_code == 200
    return counter.count, len(response.json["items"])


# --- copy and revise --------------------------------------------------------------------------

def test_a_copy_is_a_new_draft_that_needs_its_own_approval(api, user, manager, finance):
    quote = quote_for(user, payment_terms="14 days")
    add_line(quote, discount="30", cost="10")
    submit(quote, user)
    approve(quote, finance, "Fine")
    response = api.as_user(manager).post(f"/api/v1/quotes/{quote.id}/copy")
    assert response.status_code == 201, response.json
    copy = response.json
    assert response.headers["Location"].endswith(f"/api/v1/quotes/{copy['id']}")
    assert copy["id"] != quote.id and copy["number"] != quote.number
    assert (copy["status"], copy["revision"], copy["author"], copy["previous_id"]) == \
        ("draft", 1, "lead@example.com", None)
    assert (copy["approved_by"], copy["approved_at"], copy["approval_comment"]) == (None, None, "")
    assert copy["approval_reasons"]                       # the same discount needs approval again
    assert copy["payment_terms"] == "14 days"
    original = api.get(f"/api/v1/quotes/{quote.id}").json
    assert [(l["description"], l["unit_price"], l["discount_pct"]) for l in copy["lines"]] == \
        [(l["description"], l["unit_price"], l["discount_pct"]) for l in original["lines"]]
    assert original["status"] == "approved"


def test_copy_is_refused_to_whoever_may_not_edit_and_for_an_unknown_quote(api, user):
    stranger_quote = quote_for(make_user("other@example.com"), name="Not mine")
    assert api.post(f"/api/v1/quotes/{stranger_quote.id}/copy").status_code == 403
    assert api.post("/api/v1/quotes/999999/copy").status_code == 404
    assert Quote.select().count() == 1


@pytest.mark.parametrize("answer", ["sent", "declined", "expired"])
def test_the_latest_revision_of_a_sent_declined_or_expired_quote_can_be_revised(api, user, answer):
    quote = sent_quote(user)
    if answer == "declined":
        decline(quote, "Too expensive")
    elif answer == "expired":
        Quote.update(valid_until=datetime.date.today() - datetime.timedelta(days=1)) \
            .where(Quote.id == quote.id).execute()
        assert expire_due_quotes() == 1
    response = api.post(f"/api/v1/quotes/{quote.id}/revise")
    assert response.status_code == 201, response.json
    revision = response.json
    assert response.headers["Location"].endswith(f"/api/v1/quotes/{revision['id']}")
    assert (revision["number"], revision["revision"], revision["display_number"]) == \
        (quote.number, 2, f"{quote.number}-2")
    assert (revision["status"], revision["previous_id"]) == ("draft", quote.id)
    assert len(revision["lines"]) == 1
    expected = "superseded" if answer == "sent" else answer
    assert api.get(f"/api/v1/quotes/{quote.id}").json["status"] == expected
    again = api.post(f"/api/v1/quotes/{quote.id}/revise")      # only the latest revision
    assert again.status_code == 422
    if answer != "sent":         # (a superseded quote is refused for its status already)
        assert "newer revision" in again.json["fields"]["status"]
    assert Quote.select().where(Quote.number == quote.number).count() == 2


def test_a_quote_not_yet_sent_or_accepted_cannot_be_revised(api, user):
    draft = quote_for(user)
    refused = api.post(f"/api/v1/quotes/{draft.id}/revise")
    assert refused.status_code == 422 and "status" in refused.json["fields"]
    accepted = sent_quote(user)
    accept(accepted, "Anna de Vries")
    assert api.post(f"/api/v1/quotes/{accepted.id}/revise").status_code == 422
    assert Quote.select().count() == 2


# --- four eyes --------------------------------------------------------------------------------

def test_a_manager_who_changed_the_quote_cannot_approve_it_through_the_api(api, user, manager,
                                                                            finance):
    """Changing someone else's quote and approving it oneself is how approvals get bypassed:
    the change made through the API counts, and the approval is refused as the author's own
    is (403)."""
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    url = f"/api/v1/quotes/{quote.id}"
    as_manager = api.as_user(manager)
    changed = as_manager.patch(url, {"lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": "100",
         "discount_pct": "32", "vat_rate": "21", "cost_price": "10"}]})
    assert changed.status_code == 200, changed.json
    assert api.post(f"{url}/submit").json["status"] == "awaiting_approval"
    refused = as_manager.post(f"{url}/approve", {"comment": "My own change"})
    assert refused.status_code == 403
    assert "You changed this quote" in refused.json["error"]
    assert as_manager.post(f"{url}/reject", {"comment": "x"}).status_code == 403
    assert Quote.get_by_id(quote.id).status == "awaiting_approval"
    approved = api.as_user(finance).post(f"{url}/approve", {"comment": "Checked"})
    assert approved.status_code == 200 and approved.json["approved_by"]["id"] == finance.id


def test_a_header_change_through_the_api_also_counts(api, user, manager):
    quote = quote_for(user)
    add_line(quote, discount="30", cost="10")
    url = f"/api/v1/quotes/{quote.id}"
    as_manager = api.as_user(manager)
    assert as_manager.patch(url, {"payment_terms": "60 days"}).status_code == 200
    api.post(f"{url}/submit")
    assert as_manager.post(f"{url}/approve", {"comment": "Mine"}).status_code == 403
