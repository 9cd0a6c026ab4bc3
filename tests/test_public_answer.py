"""The customer's signed link: see the quote, accept or decline it without logging in; every
bad link (tampered, expired, superseded, answered) a friendly page, never a 500."""
import datetime
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from conftest import SECRET, text_of
from mail.outbox import send_due
from mail.quotes import ANSWER_SALT, answer_token, send_quote
from mail_servers import sendable_quote
from models.emails import Email
from models.quotes import Quote, revise
from models.timeline import TimelineEntry


@pytest.fixture
def sent(app, user):
    quote = sendable_quote(user, language="en")
    send_quote(quote, user)
    return Quote.get_by_id(quote.id)


def link(quote):
    return f"/q/{answer_token(quote)}"


def fresh(quote):
    return Quote.get_by_id(quote.id)


def test_the_customer_sees_the_quote_and_accepts_it(app, client, user, sent, smtp_server):
    page = client.get(link(sent))
    assert page.status_code == 200
    text = text_of(page)
    assert sent.display_number in text and "Accept quote" in text and "Decline quote" in text
    assert "€2,250.00" in text
    assert "style=" not in page.get_data(as_text=True)           # CSP: no inline styles
    assert page.headers["Cache-Control"] == "no-store"

    response = client.post(f"{link(sent)}/accept", data={"name": "Anna Jansen",
                                                          "purchase_order": "PO-4711"})
    assert response.status_code == 303
    quote = fresh(sent)
    assert quote.status == "accepted"
    assert (quote.accepted_by_name, quote.purchase_order) == ("Anna Jansen", "PO-4711")
    assert TimelineEntry.select().where((TimelineEntry.account == sent.account_id)
                                        & (TimelineEntry.kind == "quote")).count() == 1
    thanks = text_of(client.get(response.headers["Location"]))
    assert "Thank you, Anna Jansen." in thanks and "PO-4711" in thanks
    assert "Accept quote" not in thanks

    # The owner hears of it through the outbox.
    notice = Email.get(Email.kind == "quote_answer_notice")
    assert notice.to_addrs.endswith(f"<{user.email}>") and notice.quote_id == sent.id
    assert notice.subject == f"[{sent.display_number}] Accepted by Anna Jansen"
    send_due()
    delivered = {m["Subject"]: m for m in smtp_server.messages}
    assert f"[{sent.display_number}] Accepted by Anna Jansen" in delivered
    body = delivered[notice.subject].get_body(("plain",)).get_content()
    assert "PO-4711" in body and "Bakkerij de Vries" in body


def test_a_name_is_needed_to_accept(app, client, sent):
    response = client.post(f"{link(sent)}/accept", data={"name": " ", "purchase_order": "PO-1"})
    assert response.status_code == 422
    assert "This field is required." in text_of(response)
    assert 'value="PO-1"' in response.get_data(as_text=True)   # the input comes back
    assert fresh(sent).status == "sent"
    assert Email.select().where(Email.kind == "quote_answer_notice").count() == 0


def test_the_customer_declines_with_a_reason(app, client, sent):
    response = client.post(f"{link(sent)}/decline", data={"reason": "Too expensive for now."})
    assert response.status_code == 303
    quote = fresh(sent)
    assert quote.status == "declined" and quote.decline_reason == "Too expensive for now."
    assert "You declined quote" in text_of(client.get(link(sent)))
    notice = Email.get(Email.kind == "quote_answer_notice")
    assert "Too expensive for now." in notice.body_text


def test_an_answered_quote_cannot_be_answered_again(app, client, sent):
    client.post(f"{link(sent)}/accept", data={"name": "Anna Jansen"})
    again = client.post(f"{link(sent)}/decline", data={"reason": "Changed my mind"})
    assert again.status_code == 409
    assert "already been answered" in text_of(again)
    assert fresh(sent).status == "accepted"
    assert client.get(link(sent)).status_code == 200       # the thank-you page stays


def test_a_tampered_link_gets_a_friendly_page(app, client, sent):
    token = answer_token(sent)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for url in (f"/q/{tampered}", "/q/not-a-token-at-all", f"/q/{token[:-10]}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "This link is not valid." in text_of(response)
    response = client.post(f"/q/{tampered}/accept", data={"name": "Mallory"})
    assert response.status_code == 400 and fresh(sent).status == "sent"


def test_an_expired_link_gets_a_friendly_page(app, client, sent):
    class Earlier(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - (app.config["QUOTE_LINK_DAYS"] + 1) * 24 * 3600
    old = URLSafeTimedSerializer(SECRET, salt=ANSWER_SALT, signer=Earlier).dumps(
        {"q": sent.id, "r": sent.revision})
    response = client.get(f"/q/{old}")
    assert response.status_code == 410 and "This link has expired." in text_of(response)
    response = client.post(f"/q/{old}/accept", data={"name": "Anna"})
    assert response.status_code == 410 and fresh(sent).status == "sent"


def test_an_expired_quote_cannot_be_accepted(app, client, sent):
    Quote.update(valid_until=datetime.date.today() - datetime.timedelta(days=1)).where(
        Quote.id == sent.id).execute()
    response = client.get(link(sent))
    assert response.status_code == 410 and "has expired" in text_of(response)
    response = client.post(f"{link(sent)}/accept", data={"name": "Anna"})
    assert response.status_code == 410 and fresh(sent).status == "sent"
    Quote.update(status="expired").where(Quote.id == sent.id).execute()
    assert client.get(link(sent)).status_code == 410


def test_a_superseded_quote_cannot_be_accepted(app, client, user, sent):
    old_link = link(sent)
    newer = revise(fresh(sent), user)
    assert fresh(sent).status == "superseded"
    response = client.get(old_link)
    assert response.status_code == 410 and "replaced by a newer version" in text_of(response)
    response = client.post(f"{old_link}/accept", data={"name": "Anna"})
    assert response.status_code == 410 and fresh(sent).status == "superseded"
    # A link naming a revision that does not match the quote is no key either.
    forged = URLSafeTimedSerializer(SECRET, salt=ANSWER_SALT).dumps({"q": newer.id, "r": 1})
    assert client.get(f"/q/{forged}").status_code == 410


def test_the_public_forms_keep_their_csrf_protection(app, client, sent):
    response = client.post(f"{link(sent)}/accept", data={"name": "Anna"}, csrf=False)
    assert response.status_code == 400
    assert fresh(sent).status == "sent"


def test_a_link_for_a_quote_that_was_never_sent_is_not_answerable(app, client, user):
    quote = sendable_quote(user)        # approved, not sent
    response = client.get(link(quote))
    assert response.status_code == 410 and "not available" in text_of(response)


def test_the_page_is_in_the_quote_language(app, client, user):
    quote = sendable_quote(user, language="nl")
    send_quote(quote, user)
    page = client.get(link(quote))
    assert page.status_code == 200 and '<html lang="nl">' in page.get_data(as_text=True)
    assert "€ 2.250,00" in text_of(page).replace("\u00a0", " ")    # Dutch formats
