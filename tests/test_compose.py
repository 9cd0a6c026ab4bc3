"""Writing and replying from the account page: through the outbox to a real SMTP server
(aiosmtpd), with the thread headers right, attachments, the timeline entry, and the
customer's answer threading back."""
import io

import pytest

from conftest import form_fields, login, make_account, make_contact, make_user, text_of
from mail.compose import reply_subject
from mail.outbox import send_due
from models.emails import Email, EmailAttachment
from models.timeline import TimelineEntry, TimelineParticipant
from test_email_display import inbound_email

HX = {"HX-Request": "true"}


@pytest.fixture
def account(user):
    return make_account(user, name="Klant BV")


@pytest.fixture
def contact(account):
    return make_contact(account, first_name="Piet", last_name="Klant",
                        emails="piet@klant.example")


def test_the_account_page_offers_write_email(auth, account):
    html = auth.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert f'href="/accounts/{account.id}/write"' in html


def test_write_page_and_fragment(auth, account, contact):
    page = auth.get(f"/accounts/{account.id}/write?contact={contact.id}")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    fields = form_fields(page.get_data(as_text=True), "compose-form")
    assert fields["to"] == "piet@klant.example"
    assert '<option value="piet@klant.example">Piet Klant</option>' in page.get_data(as_text=True)
    fragment = auth.get(f"/accounts/{account.id}/write", headers=HX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'id="compose-form"' in fragment.get_data(as_text=True)


def test_compose_goes_through_the_outbox_with_attachments(auth, user, account, contact,
                                                           smtp_server):
    response = auth.post(f"/accounts/{account.id}/write", data={
        "to": "piet@klant.example", "cc": "boss@klant.example", "subject": "Our meeting",
        "body": "Dear Piet,\n\nThank you for your time today.",
        "attachments": [(io.BytesIO(b"%PDF-1.4 minutes"), "Verslag ../../x.pdf",
                         "application/pdf"),
                        (io.BytesIO(b"a,b\n1,2\n"), "cijfers.csv", "text/csv")]},
        content_type="multipart/form-data")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/accounts/{account.id}")
    email = Email.get(Email.direction == "out")
    assert (email.status, email.account_id, email.contact_id, email.author_id) == \
        ("queued", account.id, contact.id, user.id)
    entry = TimelineEntry.get_by_id(email.timeline_entry_id)
    assert (entry.kind, entry.subject, entry.author_id) == ("email_out", "Our meeting", user.id)
    assert [p.contact_id for p in TimelineParticipant.select().where(
        TimelineParticipant.entry == entry)] == [contact.id]
    assert send_due()["sent"] == 1
    assert smtp_server.wait_for(1)
    sent = smtp_server.messages[0]
    assert sent["To"] == "piet@klant.example" and sent["Cc"] == "boss@klant.example"
    assert sent["Subject"] == "Our meeting"
    assert sent["Message-ID"] == f"<{email.message_id}>"
    assert sent["In-Reply-To"] is None and sent["References"] is None
    assert sent["Reply-To"] == "sales@example.com"
    assert "Thank you for your time today." in sent.get_body(("plain",)).get_content()
    files = {part.get_filename(): part.get_content() for part in sent.iter_attachments()}
    assert files == {"x.pdf": b"%PDF-1.4 minutes", "cijfers.csv": "a,b\n1,2\n"}
    assert sorted(smtp_server.handler.envelopes[0].rcpt_tos) == \
        ["boss@klant.example", "piet@klant.example"]
    # On the timeline, with its attachments for download.
    page = auth.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert "Thank you for your time today." in page
    stored = EmailAttachment.get(EmailAttachment.filename == "x.pdf")
    assert f'href="/attachments/{stored.id}"' in page


def test_a_bad_form_comes_back_with_the_input(auth, account):
    response = auth.post(f"/accounts/{account.id}/write", headers=HX, data={
        "to": "not an address", "subject": "Line\r\nBcc: victim@example.com",
        "body": "Kept text"})
    assert response.status_code == 422
    text = text_of(response)
    assert "This is not a valid email address: not" in text
    fields = form_fields(response.get_data(as_text=True), "compose-form")
    assert fields["body"] == "Kept text" and fields["to"] == "not an address"
    empty = auth.post(f"/accounts/{account.id}/write", data={"to": "", "subject": "",
                                                             "body": ""})
    assert empty.status_code == 422
    assert "Enter the address to write to." in text_of(empty)
    assert Email.select().count() == 0 and TimelineEntry.select().count() == 0


def test_an_attachment_over_10_mb_is_refused(auth, account):
    big = io.BytesIO(b"x" * (10 * 1024 * 1024 + 1))
    response = auth.post(f"/accounts/{account.id}/write", data={
        "to": "piet@klant.example", "subject": "Big", "body": "See attached",
        "attachments": [(big, "huge.bin", "application/octet-stream")]},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "huge.bin is larger than 10 MB." in text_of(response)
    assert Email.select().count() == 0


def test_only_who_may_change_the_account_writes(client, account):
    stranger = make_user("other@example.com")
    login(client, stranger)
    assert client.get(f"/accounts/{account.id}/write").status_code == 403
    assert client.post(f"/accounts/{account.id}/write", data={
        "to": "a@b.example", "subject": "x", "body": "y"}).status_code == 403
    assert client.get("/accounts/999999/write").status_code == 404


@pytest.mark.parametrize("subject, expected", [
    ("Question", "Re: Question"),
    ("Re: Question", "Re: Question"),
    ("RE: [Q-2026-0007] Quote", "RE: [Q-2026-0007] Quote"),
    ("AW: Angebot", "AW: Angebot"),
    ("Antw: Offerte", "Antw: Offerte"),
    ("", "Re:"),
    ("Regarding  the\r\n order", "Re: Regarding the order"),
])
def test_reply_subject_gets_one_re(subject, expected):
    assert reply_subject(subject) == expected


def test_reply_threads_and_quotes(auth, account, contact, smtp_server):
    received = inbound_email(account, contact=contact, message_id="q1-answer@klant.example",
                             references="first@example.com second@klant.example",
                             subject="Question about delivery",
                             from_addr="piet@klant.example",
                             body_text="When do you deliver?\n\nOn Mon, 2 Mar 2026, Sales wrote:\n> Old")
    form = auth.get(f"/emails/{received.id}/reply")
    assert form.status_code == 200
    fields = form_fields(form.get_data(as_text=True), "compose-form")
    assert fields["to"] == "piet@klant.example"
    assert fields["subject"] == "Re: Question about delivery"
    assert "> When do you deliver?" in fields["body"]
    assert "piet@klant.example wrote:" in fields["body"]
    assert "> Old" not in fields["body"]  # the history already folded is not quoted again
    response = auth.post(f"/emails/{received.id}/reply", data={**fields,
                                                              "body": "Next Tuesday.\n\n" + fields["body"]})
    assert response.status_code == 303
    reply = Email.get(Email.direction == "out")
    assert reply.in_reply_to == "q1-answer@klant.example"
    assert reply.references == "first@example.com second@klant.example q1-answer@klant.example"
    assert send_due()["sent"] == 1 and smtp_server.wait_for(1)
    sent = smtp_server.messages[0]
    assert sent["In-Reply-To"] == "<q1-answer@klant.example>"
    assert str(sent["References"]).split() == \
        ["<first@example.com>", "<second@klant.example>", "<q1-answer@klant.example>"]
    assert sent["Subject"] == "Re: Question about delivery"
    body = sent.get_body(("plain",)).get_content()
    assert body.startswith("Next Tuesday.") and "> When do you deliver?" in body
    entry = TimelineEntry.get_by_id(reply.timeline_entry_id)
    assert entry.kind == "email_out" and entry.account_id == account.id


def test_the_customers_answer_threads_back(auth, account, contact, smtp_server):
    received = inbound_email(account, contact=contact, message_id="start@klant.example",
                             from_addr="piet@klant.example")
    fields = form_fields(auth.get(f"/emails/{received.id}/reply").get_data(as_text=True),
                         "compose-form")
    auth.post(f"/emails/{received.id}/reply", data=fields)
    ours = Email.get(Email.direction == "out")
    # The customer answers from a colleague's address nobody knows yet.
    answer = (f"From: Someone New <new@unknown-domain.example>\r\n"
              f"To: sales@example.com\r\nSubject: Re: Re: Question\r\n"
              f"Message-ID: <answer@unknown-domain.example>\r\n"
              f"In-Reply-To: <{ours.message_id}>\r\n"
              f"References: <start@klant.example> <{ours.message_id}>\r\n\r\nThanks!\r\n")
    from mail.matching import match
    from mail.parse import parse_message
    result = match(parse_message(answer.encode()))
    assert (result.account.id, result.matched_by) == (account.id, "thread")


def test_a_reply_to_a_quote_thread_keeps_the_quote_token(auth, app, user, smtp_server):
    from mail.quotes import send_quote
    from mail_servers import sendable_quote
    app.config.update(MAIL_REPLY_TO="sales@example.com", MAIL_PLUS_ADDRESSING=True)
    quote = sendable_quote(user)
    sent = send_quote(quote, user)
    received = inbound_email(quote.account, contact=quote.contact, quote=quote,
                             matched_by="thread", reply_token=sent.reply_token,
                             subject=f"Re: {sent.subject}", from_addr="anna@devries.example")
    fields = form_fields(auth.get(f"/emails/{received.id}/reply").get_data(as_text=True),
                         "compose-form")
    assert fields["subject"] == f"Re: {sent.subject}"
    auth.post(f"/emails/{received.id}/reply", data=fields)
    reply = Email.get((Email.direction == "out") & (Email.kind == "reply"))
    assert reply.quote_id == quote.id
    assert reply.reply_to == f"sales+{quote.display_number.lower()}@example.com"


def test_no_reply_to_automatic_or_unassigned_mail(auth, account):
    automatic = inbound_email(account, state="auto_reply", auto_reason="RFC 3834")
    loose = inbound_email(state="triage")
    ours = Email.create(direction="out", message_id="ours@example.com", account=account)
    for email in (automatic, loose, ours):
        assert auth.get(f"/emails/{email.id}/reply").status_code == 404
    assert auth.get("/emails/999999/reply").status_code == 404
