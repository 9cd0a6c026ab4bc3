"""The triage inbox: what waits there and why, assigning (one, many, with the sender as a
contact or remembered), the effect on matching the sender's next mail, dismissing, trying
an unreadable message again, and the one-click answers to a quote from a customer's reply."""
import pytest
from playhouse.test_utils import count_queries

from conftest import login, make_account, make_contact, make_user, text_of
from mail_servers import sendable_quote
from models.contacts import Contact, ContactEmail
from models.emails import Email
from models.inbound import SenderRule
from models.quotes import Quote
from models.timeline import TimelineEntry, TimelineParticipant
from test_email_display import inbound_email

HX = {"HX-Request": "true"}

REPLY = (b"From: Piet Klant <piet@klant.example>\r\n"
         b"To: sales@example.com\r\n"
         b"Subject: Another question\r\n"
         b"Message-ID: <second-%d@klant.example>\r\n"
         b"Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
         b"Do you also sell chairs?\r\n")


@pytest.fixture
def account(user):
    return make_account(user, name="Klant BV")


def waiting(**fields):
    fields.setdefault("from_addr", "piet@klant.example")
    return inbound_email(state="triage", **fields)


def test_the_list_shows_waiting_mail_newest_first_with_the_reason(auth, account):
    from models.db import utcnow
    import datetime
    older = waiting(subject="Older question",
                    received_at=utcnow() - datetime.timedelta(days=2))
    newer = waiting(subject="Newer question", from_addr="someone@gmail.com")
    broken = inbound_email(state="unparsed", subject="", from_addr="",
                           parse_error="The message has no header section.")
    inbound_email(account, subject="Filed already")
    inbound_email(state="dismissed", subject="Dismissed one")
    response = auth.get("/inbox/")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    text = text_of(response)
    assert "3 messages waiting" in text
    assert text.index("Newer question") < text.index("Older question")
    assert "Filed already" not in text and "Dismissed one" not in text
    assert "No account knows the sender piet@klant.example or the domain klant.example." in text
    assert "Sent from a free-mail address (gmail.com)" in text
    assert "The message has no header section." in text
    html = response.get_data(as_text=True)
    assert f'formaction="/inbox/{broken.id}/retry"' in html
    assert f'formaction="/inbox/{older.id}/retry"' not in html
    assert f'value="{newer.id}"' in html
    # The fragment for htmx: the results only, no page around them.
    fragment = auth.get("/inbox/", headers=HX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "Newer question" in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_a_contact_at_two_accounts_is_named_as_the_reason(auth, user, account):
    other = make_account(user, name="Andere BV")
    make_contact(account, emails="piet@klant.example")
    make_contact(other, emails="piet@klant.example")
    waiting()
    assert "The sender is a contact at 2 accounts." in text_of(auth.get("/inbox/"))


def test_the_top_bar_counts_waiting_mail(auth, account):
    waiting()
    waiting(subject="Two")
    inbound_email(account)
    html = auth.get("/accounts/").get_data(as_text=True)
    assert 'href="/inbox/"' in html
    assert '<span class="count-badge" title="2 messages waiting">2</span>' in html


def test_the_list_costs_the_same_queries_for_many_rows(auth):
    def queries():
        with count_queries() as counter:
            assert auth.get("/inbox/", headers=HX).status_code == 200
        return counter.count

    waiting()
    few = queries()
    for number in range(8):
        waiting(from_addr=f"sender{number}@somewhere{number}.example")
    assert queries() == few


def test_only_logged_in_people_see_the_inbox(client):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/inbox/dismiss", data={"ids": "1"}).status_code == 302


def test_actions_need_the_csrf_token(auth, account):
    message = waiting()
    response = auth.post("/inbox/assign", data={"ids": str(message.id),
                                                "account_id": str(account.id)}, csrf=False)
    assert response.status_code == 400
    assert Email.get_by_id(message.id).inbound_state == "triage"


def test_assign_one_message_puts_it_on_the_timeline(auth, user, account):
    message = waiting(subject="Where is my order?", body_text="Order 4711 did not arrive.")
    response = auth.post("/inbox/assign", data={"only": str(message.id),
                                                "account_id": str(account.id),
                                                "back": str(message.id)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/accounts/{account.id}")
    stored = Email.get_by_id(message.id)
    assert (stored.inbound_state, stored.matched_by, stored.account_id) == \
        ("filed", "person", account.id)
    entry = TimelineEntry.get_by_id(stored.timeline_entry_id)
    assert (entry.kind, entry.subject, entry.account_id) == \
        ("email_in", "Where is my order?", account.id)
    assert entry.summary == "Order 4711 did not arrive."
    page = auth.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "Order 4711 did not arrive." in page and "assigned by a person" in page
    assert SenderRule.select().count() == 0 and Contact.select().count() == 0
    # Assigned once: a second try changes nothing.
    auth.post("/inbox/assign", data={"only": str(message.id), "account_id": str(account.id)})
    assert TimelineEntry.select().where(TimelineEntry.kind == "email_in").count() == 1


def test_assign_without_an_account_comes_back_with_a_message(auth, account):
    message = waiting()
    response = auth.post("/inbox/assign", data={"ids": str(message.id), "account_q": "Kla"})
    assert response.status_code == 422
    text = text_of(response)
    assert "Choose the account this message belongs to." in text
    html = response.get_data(as_text=True)
    assert f'value="{message.id}" id="pick-{message.id}" checked' in html  # the ticks stay
    assert 'value="Kla"' in html and "Klant BV" in html  # and the search with its results
    assert Email.get_by_id(message.id).inbound_state == "triage"
    nothing = auth.post("/inbox/assign", data={"account_id": str(account.id)})
    assert nothing.status_code == 422
    assert "Tick the messages to assign first." in text_of(nothing)


def test_bulk_assign_and_dismiss(auth, account):
    first, second, third, fourth = (waiting(subject=f"Mail {n}", from_addr=f"p{n}@x{n}.example")
                                    for n in range(4))
    response = auth.post("/inbox/assign", data={"ids": [str(first.id), str(second.id)],
                                                "account_id": str(account.id)})
    assert response.status_code == 303
    assert [Email.get_by_id(e.id).inbound_state for e in (first, second, third, fourth)] == \
        ["filed", "filed", "triage", "triage"]
    assert TimelineEntry.select().where(TimelineEntry.account == account).count() == 2
    response = auth.post("/inbox/dismiss", data={"ids": [str(third.id), str(fourth.id)]})
    assert response.status_code == 303
    assert [Email.get_by_id(e.id).inbound_state for e in (third, fourth)] == \
        ["dismissed", "dismissed"]
    assert "Nothing waits here." in text_of(auth.get("/inbox/"))


def test_one_rows_dismiss_button_dismisses_only_that_row(auth):
    first, second = waiting(subject="One"), waiting(subject="Two")
    auth.post("/inbox/dismiss", data={"ids": [str(first.id), str(second.id)],
                                      "only": str(second.id)})
    assert Email.get_by_id(first.id).inbound_state == "triage"
    assert Email.get_by_id(second.id).inbound_state == "dismissed"


def test_assign_with_the_sender_as_contact_matches_the_next_mail(auth, account):
    message = waiting(from_addr="piet@klant.example",
                      raw=b"From: Piet de Klant <piet@klant.example>\r\nSubject: Hi\r\n\r\nHi\r\n")
    later = waiting(from_addr="piet@klant.example", subject="A second one, also waiting")
    auth.post("/inbox/assign", data={"ids": str(message.id), "account_id": str(account.id),
                                     "add_contact": "1"})
    contact = Contact.get(Contact.account == account)
    assert (contact.first_name, contact.last_name, contact.emails) == \
        ("Piet de", "Klant", ["piet@klant.example"])
    stored = Email.get_by_id(message.id)
    assert stored.contact_id == contact.id
    assert [p.contact_id for p in TimelineParticipant.select().where(
        TimelineParticipant.entry == stored.timeline_entry_id)] == [contact.id]
    # The other waiting message from the same sender found its way by itself.
    refiled = Email.get_by_id(later.id)
    assert (refiled.inbound_state, refiled.account_id) == ("filed", account.id)
    # And the sender's next message matches by the sender.
    from mail.matching import match
    from mail.parse import parse_message
    result = match(parse_message(REPLY % 1))
    assert (result.account.id, result.matched_by) == (account.id, "sender")


def test_assign_remembering_the_sender_matches_the_next_mail(auth, user, account):
    other = make_account(user, name="Elsewhere")
    make_contact(other, emails="piet@klant.example")
    make_contact(make_account(user, name="Third"), emails="piet@klant.example")
    message = waiting(from_addr="piet@klant.example")
    auth.post("/inbox/assign", data={"ids": str(message.id), "account_id": str(account.id),
                                     "remember_sender": "on"})
    rule = SenderRule.get(SenderRule.address == "piet@klant.example")
    assert rule.account_id == account.id
    assert Contact.select().where(Contact.account == account).count() == 0
    from mail.matching import match
    from mail.parse import parse_message
    result = match(parse_message(REPLY % 2))
    assert (result.account.id, result.matched_by) == (account.id, "sender_rule")
    # Remembering again for another account moves the rule, never a second one.
    again = waiting(from_addr="piet@klant.example")
    auth.post("/inbox/assign", data={"ids": str(again.id), "account_id": str(other.id),
                                     "remember_sender": "1"})
    assert [r.account_id for r in SenderRule.select()] == [other.id]


def test_a_sender_known_elsewhere_added_as_contact_is_also_remembered(auth, user, account):
    make_contact(make_account(user, name="Elsewhere"), emails="piet@klant.example")
    message = waiting(from_addr="piet@klant.example")
    auth.post("/inbox/assign", data={"ids": str(message.id), "account_id": str(account.id),
                                     "add_contact": "1"})
    assert ContactEmail.select().where(ContactEmail.email == "piet@klant.example").count() == 2
    assert SenderRule.get(SenderRule.address == "piet@klant.example").account_id == account.id


def test_account_search_as_you_type(auth, user, account):
    make_account(user, name="Klantenservice Noord")
    make_account(user, name="Bakkerij")
    response = auth.get("/inbox/accounts?account_q=klant", headers=HX)
    text = text_of(response)
    assert "Klant BV" in text and "Klantenservice Noord" in text and "Bakkerij" not in text
    assert "No account matches." in text_of(auth.get("/inbox/accounts?account_q=zzz"))


def test_try_again_reads_an_unparsed_message_once_more(auth, account):
    make_contact(account, emails="piet@klant.example")
    broken = inbound_email(state="unparsed", subject="", from_addr="",
                           parse_error="Could not read it", raw=REPLY % 3)
    response = auth.post(f"/inbox/{broken.id}/retry")
    assert response.status_code == 303
    stored = Email.get_by_id(broken.id)
    assert (stored.inbound_state, stored.account_id, stored.subject) == \
        ("filed", account.id, "Another question")
    assert stored.timeline_entry_id is not None
    # A message that is not unparsed is left alone.
    again = auth.post(f"/inbox/{broken.id}/retry")
    assert again.status_code == 303
    assert Email.get_by_id(broken.id).timeline_entry_id == stored.timeline_entry_id


def test_the_email_page_of_a_waiting_message_offers_assigning(auth, account):
    message = waiting(subject="Loose message")
    response = auth.get(f"/inbox/{message.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="assign-form"' in html and "Loose message" in html
    assert "Waiting in the inbox:" in text_of(response)
    assert auth.get("/inbox/999999").status_code == 404


# --- a customer's reply to a quote email ------------------------------------------------

@pytest.fixture
def sent_quote(app, user):
    from mail.quotes import send_quote
    quote = sendable_quote(user)
    send_quote(quote, user)
    return Quote.get_by_id(quote.id)


def _reply_to_quote(quote, text="We accept, please deliver next week.\n\nOn Monday Sales wrote:\n> quote"):
    return inbound_email(quote.account, contact=quote.contact, quote=quote, matched_by="thread",
                         subject=f"Re: [{quote.display_number}] Quote",
                         from_addr="anna@devries.example", body_text=text)


def test_a_reply_to_a_quote_can_mark_it_accepted(auth, sent_quote):
    reply = _reply_to_quote(sent_quote)
    page = auth.get(f"/accounts/{sent_quote.account_id}").get_data(as_text=True)
    accept_url = f"/inbox/{reply.id}/quote/accepted"
    assert f'action="{accept_url}"' in page
    assert f"Mark quote {sent_quote.display_number} accepted" in page
    response = auth.post(accept_url, headers=HX)
    assert response.status_code == 200
    assert f"Quote {sent_quote.display_number} marked accepted." in text_of(response)
    assert accept_url not in response.get_data(as_text=True)  # answered: the buttons go
    quote = Quote.get_by_id(sent_quote.id)
    assert (quote.status, quote.accepted_by_name, quote.purchase_order) == \
        ("accepted", "Anna Jansen", "")
    again = auth.post(accept_url, headers=HX)
    assert again.status_code == 409
    assert "already been answered" in text_of(again)


def test_a_reply_to_a_quote_can_mark_it_declined_with_its_first_line(auth, sent_quote):
    reply = _reply_to_quote(sent_quote, text="\nToo expensive for us this year.\nRegards, Anna")
    response = auth.post(f"/inbox/{reply.id}/quote/declined")
    assert response.status_code == 303
    quote = Quote.get_by_id(sent_quote.id)
    assert (quote.status, quote.decline_reason) == ("declined", "Too expensive for us this year.")


def test_quote_buttons_only_for_replies_in_the_quotes_thread(auth, sent_quote):
    by_sender = inbound_email(sent_quote.account, quote=sent_quote, matched_by="sender")
    automatic = inbound_email(sent_quote.account, quote=sent_quote, matched_by="thread",
                              state="auto_reply", auto_reason="Auto-Submitted: auto-replied")
    page = auth.get(f"/accounts/{sent_quote.account_id}").get_data(as_text=True)
    for message in (by_sender, automatic):
        assert f"/inbox/{message.id}/quote/accepted" not in page
        assert auth.post(f"/inbox/{message.id}/quote/accepted").status_code == 303
    assert Quote.get_by_id(sent_quote.id).status == "sent"
    assert auth.post(f"/inbox/{by_sender.id}/quote/maybe").status_code == 404


def test_only_those_who_may_change_the_quote_answer_it(client, sent_quote):
    reply = _reply_to_quote(sent_quote)
    stranger = make_user("other@example.com")
    login(client, stranger)
    assert client.post(f"/inbox/{reply.id}/quote/accepted").status_code == 403
    assert Quote.get_by_id(sent_quote.id).status == "sent"
