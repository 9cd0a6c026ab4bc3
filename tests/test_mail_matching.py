"""The inbound matcher against the corpus (tests/mail_corpus/README.md names its people):
thread ids (ours and the server's), Thread-Index, plus and subject tokens, sender,
remembered sender, domain, triage — and no token leaks mail across accounts."""
from pathlib import Path

import pytest

from conftest import make_account, make_contact, make_user
from mail.matching import match
from mail.parse import parse_message
from models.accounts import AccountDomain
from models.emails import Email
from models.inbound import SenderRule
from models.quotes import Quote

CORPUS = Path(__file__).parent / "mail_corpus"
SES_ID = "0100018f-ses-rewritten@email.amazonses.com"


def corpus(name):
    return (CORPUS / name).read_bytes()


def matched(raw):
    return match(parse_message(raw if isinstance(raw, bytes) else corpus(raw)))


def replace_header(raw, name, value=None):
    """The message with header `name` replaced by `value` (or removed when None)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines, skipping = [], False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith(name.lower().encode() + b":")
        if skipping:
            if value is not None:
                lines.append(f"{name}: {value}".encode())
            continue
        lines.append(line)
    return b"\r\n".join(lines) + sep + body


class World:
    """Two customers, each with a contact, a sent quote and its outgoing email."""

    def __init__(self):
        self.user = make_user()
        self.bakkerij = make_account(self.user, "Bakkerij de Vries",
                                     email_domains="bakkerij-devries.nl")
        self.janssen = make_account(self.user, "Janssen Metaal", email_domains="janssen-metaal.be")
        self.anna = make_contact(self.bakkerij, "de Vries", emails="anna@bakkerij-devries.nl")
        self.joris = make_contact(self.janssen, "Janssen", first_name="Joris",
                                  emails="joris@janssen-metaal.be")
        self.quote7 = Quote.create(number="Q-2026-0007", account=self.bakkerij, author=self.user,
                                   contact=self.anna, valid_until="2026-12-31", status="sent")
        self.quote7b = Quote.create(number="Q-2026-0007", revision=2, account=self.bakkerij,
                                    author=self.user, contact=self.anna,
                                    valid_until="2026-12-31", previous=self.quote7)
        self.quote8 = Quote.create(number="Q-2026-0008", account=self.janssen, author=self.user,
                                   contact=self.joris, valid_until="2026-12-31", status="sent")
        self.sent7 = Email.create(direction="out", status="sent", message_id="q7.5f2a@example.com",
                                  server_message_id=SES_ID, account=self.bakkerij,
                                  contact=self.anna, quote=self.quote7, reply_token="q-2026-0007",
                                  from_addr="sales@example.com",
                                  subject="[Q-2026-0007] Quote from Example Ltd")
        self.sent8 = Email.create(direction="out", status="sent", message_id="q8.77aa@example.com",
                                  account=self.janssen, contact=self.joris, quote=self.quote8,
                                  reply_token="q-2026-0008", from_addr="sales@example.com",
                                  subject="[Q-2026-0008] Quote from Example Ltd")


@pytest.fixture
def world(app):
    return World()


def assert_match(result, account, matched_by, contact=None, quote=None):
    assert (result.account, result.matched_by) == (account, matched_by), result.triage_reason
    assert result.contact == contact
    assert result.quote == quote
    assert result.triage_reason == ""


# --- thread -------------------------------------------------------------------------------

def test_reply_from_a_colleague_at_the_same_domain_threads(world):
    result = matched("colleague_reply.eml")
    assert_match(result, world.bakkerij, "thread", quote=world.quote7)
    assert result.in_reply_to_email == world.sent7
    assert result.own_copy is False


def test_colleague_without_thread_or_token_matches_by_domain(world):
    raw = replace_header(corpus("colleague_reply.eml"), "In-Reply-To")
    raw = replace_header(raw, "References")
    raw = replace_header(raw, "To", "sales@example.com")
    result = matched(raw)
    assert_match(result, world.bakkerij, "domain")
    assert result.in_reply_to_email is None


def test_reply_that_lost_its_token_threads_by_the_id_the_server_reported(world):
    result = matched("subject_lost_token.eml")
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)
    assert result.in_reply_to_email == world.sent7


def test_every_reference_counts_not_only_the_first(world):
    raw = replace_header(corpus("subject_lost_token.eml"), "In-Reply-To",
                         "<unknown-3@elsewhere.example>")
    result = matched(raw)
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)


def test_references_list_of_100_ids(world):
    result = matched("references_100.eml")
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)


def test_ids_with_stray_whitespace_thread(world):
    result = matched("id_whitespace.eml")
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)
    assert result.in_reply_to_email == world.sent7


def test_the_most_recent_known_id_wins(world):
    earlier = Email.create(direction="in", status="received", message_id="older@bakkerij-devries.nl",
                           account=world.janssen, inbound_state="filed")
    # id_whitespace.eml: In-Reply-To is ours (q7), References also names `older`.
    result = matched("id_whitespace.eml")
    assert result.account == world.bakkerij and result.in_reply_to_email == world.sent7
    raw = replace_header(corpus("id_whitespace.eml"), "In-Reply-To")
    raw = replace_header(raw, "References", "<q7.5f2a@example.com> <older@bakkerij-devries.nl>")
    result = matched(raw)
    assert result.in_reply_to_email == earlier
    assert_match(result, world.janssen, "thread")


def test_reply_to_a_received_message_threads(world):
    received = Email.create(direction="in", status="received",
                            message_id="plus-token@bakkerij-devries.nl", account=world.bakkerij,
                            quote=world.quote7, inbound_state="filed")
    raw = b"From: anna@bakkerij-devries.nl\r\nIn-Reply-To: <plus-token@bakkerij-devries.nl>\r\n" \
          b"Subject: one more thing\r\n\r\nAlso on Sunday?\r\n"
    result = matched(raw)
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)
    assert result.in_reply_to_email == received


def test_a_thread_message_waiting_in_triage_is_answered_but_not_a_match(world):
    waiting = Email.create(direction="in", status="received", message_id="lonely@nowhere.example",
                           inbound_state="triage")
    raw = b"From: anna@bakkerij-devries.nl\r\nIn-Reply-To: <lonely@nowhere.example>\r\n\r\nx"
    result = matched(raw)
    assert_match(result, world.bakkerij, "sender", contact=world.anna)
    assert result.in_reply_to_email == waiting


def test_outlook_reply_with_thread_index_and_no_references(world):
    result = matched("outlook_thread_index.eml")
    assert_match(result, world.janssen, "thread", contact=world.joris, quote=world.quote8)
    assert result.in_reply_to_email == world.sent8


def test_thread_index_alone_finds_the_conversation(world):
    earlier = Email.create(direction="in", status="received",
                           message_id="AM0PR01MB1234@eurprd01.prod.outlook.com",
                           thread_index="AdqOwxTbq0F7s2nXQm6mYl1hE5a1XwAAE3Kg",
                           account=world.janssen, quote=world.quote8, inbound_state="filed")
    # quoted_outlook.eml: no ids to thread by, its Thread-Index continues the conversation.
    result = matched("quoted_outlook.eml")
    assert_match(result, world.janssen, "thread", contact=world.joris, quote=world.quote8)
    assert result.in_reply_to_email is None
    # Thread-Index is base64: a different case is a different conversation.
    earlier.thread_index = earlier.thread_index.lower()
    earlier.save()
    assert matched("quoted_outlook.eml").matched_by == "subject_token"


# --- tokens -------------------------------------------------------------------------------

def test_plus_token(world):
    result = matched("plus_token.eml")
    assert_match(result, world.bakkerij, "plus_token", contact=world.anna, quote=world.quote7b)


def test_subject_token_from_a_free_mail_address(world):
    result = matched("subject_token.eml")
    assert_match(result, world.bakkerij, "subject_token", quote=world.quote7b)


def test_token_known_only_from_an_outgoing_email(world):
    Email.create(direction="out", message_id="notice@example.com", reply_token="q-2026-0042",
                 account=world.janssen)
    raw = b"From: someone@gmail.com\r\nTo: sales+q-2026-0042@example.com\r\n\r\nx"
    assert_match(matched(raw), world.janssen, "plus_token")


def test_plus_token_from_a_contact_of_another_account_goes_to_triage(world):
    raw = replace_header(corpus("plus_token.eml"), "From", "Joris <joris@janssen-metaal.be>")
    result = matched(raw)
    assert (result.account, result.contact, result.quote, result.matched_by) == \
        (None, None, None, "")
    assert "Q-2026-0007" in result.triage_reason and "another account" in result.triage_reason


def test_subject_token_from_a_contact_of_another_account_goes_to_triage(world):
    raw = replace_header(corpus("subject_token.eml"), "From", "joris@janssen-metaal.be")
    result = matched(raw)
    assert result.account is None and result.matched_by == ""
    assert "another account" in result.triage_reason


def test_token_from_a_sender_who_is_a_contact_at_both_accounts(world):
    make_contact(world.bakkerij, "Janssen", first_name="Joris", emails="joris@janssen-metaal.be")
    raw = replace_header(corpus("plus_token.eml"), "From", "joris@janssen-metaal.be")
    result = matched(raw)
    assert result.account == world.bakkerij and result.matched_by == "plus_token"
    assert result.contact.account == world.bakkerij


def test_unknown_token_falls_through_and_is_named_in_triage(world):
    raw = b"From: stranger@unknown.example\r\nSubject: Re: [Q-2099-0001] ?\r\n\r\nx"
    result = matched(raw)
    assert result.account is None
    assert "Q-2099-0001" in result.triage_reason
    raw = b"From: anna@bakkerij-devries.nl\r\nSubject: Re: [Q-2099-0001] ?\r\n\r\nx"
    assert_match(matched(raw), world.bakkerij, "sender", contact=world.anna)


# --- sender, remembered sender, domain ----------------------------------------------------

def test_sender_address_of_a_contact(world):
    assert_match(matched("html_only.eml"), world.bakkerij, "sender", contact=world.anna)


def test_google_groups_sender_is_the_original_one(world):
    assert_match(matched("google_groups.eml"), world.bakkerij, "sender", contact=world.anna)


def test_sender_at_two_accounts_falls_back_to_the_domain(world):
    other = make_contact(world.janssen, "de Vries", emails="anna@bakkerij-devries.nl")
    assert other.account == world.janssen
    assert_match(matched("html_only.eml"), world.bakkerij, "domain")


def test_free_mail_sender_at_two_accounts_goes_to_triage(world):
    make_contact(world.bakkerij, "Private", emails="anna.private@gmail.com")
    make_contact(world.janssen, "Private", emails="anna.private@gmail.com")
    result = matched(b"From: anna.private@gmail.com\r\nSubject: hi\r\n\r\nx")
    assert result.account is None
    assert "more than one account" in result.triage_reason


def test_sender_rule(world):
    SenderRule.create(address="orders@gmail.com", account=world.janssen)
    result = matched(b"From: Orders <Orders@Gmail.com>\r\nSubject: Weekly\r\n\r\nx")
    assert_match(result, world.janssen, "sender_rule")


def test_contact_wins_over_sender_rule(world):
    SenderRule.create(address="anna@bakkerij-devries.nl", account=world.janssen)
    assert_match(matched("html_only.eml"), world.bakkerij, "sender", contact=world.anna)


def test_domain_and_subdomain(world):
    raw = b"From: inkoop@bakkerij-devries.nl\r\nSubject: order\r\n\r\nx"
    assert_match(matched(raw), world.bakkerij, "domain")
    raw = b"From: inkoop@mail.bakkerij-devries.nl\r\nSubject: order\r\n\r\nx"
    assert_match(matched(raw), world.bakkerij, "domain")
    raw = b"From: inkoop@bakkerij-devries.nl.evil.example\r\nSubject: order\r\n\r\nx"
    assert matched(raw).account is None


def test_free_mail_domain_never_matches_even_if_stored(world):
    # clean_account refuses free-mail domains; the matcher does not rely on that alone.
    AccountDomain.create(account=world.janssen, domain="gmail.com")
    result = matched(b"From: somebody@gmail.com\r\nSubject: hello\r\n\r\nx")
    assert result.account is None
    assert "free-mail" in result.triage_reason


def test_unknown_sender_goes_to_triage_with_a_reason(world):
    result = matched(b"From: stranger@unknown.example\r\nSubject: hello\r\n\r\nx")
    assert (result.account, result.contact, result.quote, result.matched_by) == \
        (None, None, None, "")
    assert result.triage_reason.startswith("No conversation")
    result = matched(b"Subject: no sender\r\n\r\nx")
    assert result.account is None and "could not be read" in result.triage_reason


# --- our own mail and automatic mail ------------------------------------------------------

def test_our_own_sent_copy(world):
    result = matched("own_copy.eml")
    assert result.own_copy is True
    # The customer of our own copy is its recipient, not our mailbox.
    assert result.account == world.bakkerij and result.contact == world.anna
    assert result.quote in (world.quote7, world.quote7b)


def test_own_copy_by_message_id_alone(world):
    raw = replace_header(corpus("own_copy.eml"), "From", "Someone <someone@example.com>")
    raw = replace_header(raw, "Subject", "Quote")
    raw = replace_header(raw, "To", "Piet <piet@elsewhere.example>")
    result = matched(raw)
    assert result.own_copy is True
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)


def test_own_copy_by_our_sender_address_alone(world):
    raw = replace_header(corpus("own_copy.eml"), "Message-ID", "<sent-from-outlook@example.com>")
    raw = replace_header(raw, "Subject", "Delivery next week")
    raw = replace_header(raw, "Reply-To")
    result = matched(raw)
    assert result.own_copy is True
    assert_match(result, world.bakkerij, "sender", contact=world.anna)


def test_a_customers_mail_is_no_own_copy(world):
    for name in ("plus_token.eml", "colleague_reply.eml", "subject_lost_token.eml"):
        assert matched(name).own_copy is False, name


def test_out_of_office_still_matches_its_thread(world):
    result = matched("ooo_rfc3834.eml")
    assert_match(result, world.bakkerij, "thread", contact=world.anna, quote=world.quote7)
