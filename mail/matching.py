"""Which account an inbound message belongs to, and how we know — or why a person must decide.

`match(parsed)` tries, in this order, and stops at the first answer:

1. thread: every id in In-Reply-To and References (most recent first) against the ids of
   the mail we sent or received — ours and the one the SMTP server reported when it
   rewrote ours (Amazon SES does) — then Outlook's Thread-Index against earlier messages
   of the same conversation;
2. plus_token: the document token in a `sales+q-2026-0007@` recipient;
3. subject_token: the `[Q-2026-0007]` in the subject;
4. sender: the sender's address when it is a contact's at exactly one account;
5. sender_rule: a sender a person assigned once from the inbox;
6. domain: the sender's domain (or a parent of it) among the accounts' email domains —
   never a free-mail domain;
7. otherwise triage, with the reason in words.

A token is only a hint a customer can mistype or forge: when the sender is a contact of
another account (and not of the token's), the message goes to triage instead of leaking one
customer's mail onto another's timeline. Threads need an id we made up ourselves, so a
reply from an unknown colleague threads like any other.

Copies of our own mail (its Message-ID is one we sent, or it comes from our own mailbox) are
flagged `own_copy`; for those the customer is the recipient, not the sender.
"""
import re
from dataclasses import dataclass
from email.utils import getaddresses

from flask import current_app
from flask_babel import lazy_gettext as _l

from models.accounts import FREE_MAIL_DOMAINS, Account, AccountDomain
from models.contacts import Contact, ContactEmail
from models.emails import Email
from models.inbound import SenderRule
from models.quotes import Quote

MATCHED_BY = {
    "thread": _l("reply in a conversation"),
    "plus_token": _l("document number in the address"),
    "subject_token": _l("document number in the subject"),
    "sender": _l("sender is a contact"),
    "sender_rule": _l("sender assigned before"),
    "domain": _l("sender's email domain"),
    "person": _l("assigned by a person"),
    "": _l("not matched"),
}
THREAD_INDEX_ROOT = 28      # base64 characters of Thread-Index naming the conversation
BASE64 = re.compile(r"[A-Za-z0-9+/]+")


@dataclass
class Match:
    account: Account | None = None
    contact: Contact | None = None
    quote: Quote | None = None
    matched_by: str = ""
    triage_reason: str = ""
    own_copy: bool = False
    in_reply_to_email: Email | None = None


def match(parsed):
    """Where `parsed` (a mail.parse.ParsedMessage) belongs: a Match."""
    known = _emails_with_ids([parsed.message_id] + parsed.thread_ids)  # one query for both
    own_email = _own_email(parsed, known)
    own_copy = own_email is not None or _from_our_mailbox(parsed)
    person = _customer_address(parsed, own_copy)
    senders = _accounts_of(person)  # looked up once: most steps ask who the sender is
    answered = _answered_email(parsed, known)
    result = (_by_thread(parsed, answered, senders)
              or _by_token(parsed.plus_tokens, "plus_token", senders)
              or _by_token(parsed.subject_tokens, "subject_token", senders))
    if result is None and own_email is not None and own_email.account_id:
        result = Match(account=own_email.account, contact=own_email.contact,
                       quote=own_email.quote, matched_by="thread")
    result = (result or _by_sender(senders) or _by_sender_rule(person, senders)
              or _by_domain(person) or _triage(parsed, person, senders))
    result.own_copy = own_copy
    result.in_reply_to_email = answered
    return result


# ---------------------------------------------------------------------------------------
# Whose message is it

def _our_addresses():
    config = current_app.config
    found = getaddresses([config.get("MAIL_DEFAULT_SENDER") or "",
                          config.get("MAIL_REPLY_TO") or ""])
    return {a.lower() for _, a in found if "@" in a}


def _without_plus(address):
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _from_our_mailbox(parsed):
    return bool(parsed.from_addr) and _without_plus(parsed.from_addr) in _our_addresses()


def _own_email(parsed, known):
    """The outgoing Email this message is a copy of, or None."""
    if not parsed.message_id:
        return None
    ours = [e for e in known if e.direction == "out"
            and parsed.message_id in (e.message_id, e.server_message_id)]
    return ours[0] if ours else None


def _emails_with_ids(ids):
    """Stored mail (both ways) whose Message-ID, or the id the SMTP server gave it, is one of
    `ids`: one query, each side of the OR served by its own index. Only the columns the
    matcher reads: a stored message's bodies and raw bytes can be megabytes."""
    ids = [i for i in dict.fromkeys(ids) if i]
    if not ids:
        return []
    rows = (Email.select(Email.id, Email.direction, Email.message_id, Email.server_message_id,
                         Email.account, Email.contact, Email.quote)
            # Only outgoing mail has a server id, so that side needs no direction test.
            .where((Email.direction.in_(("out", "in")) & Email.message_id.in_(ids))
                   | Email.server_message_id.in_(ids))
            .order_by(Email.id))
    return list(rows)


def _customer_address(parsed, own_copy):
    """The address that says who the customer is: the sender, or for a copy of our own
    mail the first recipient outside our mailbox."""
    if not own_copy:
        return parsed.from_addr
    ours = _our_addresses()
    for address in parsed.to_addrs + parsed.cc_addrs:
        if _without_plus(address) not in ours:
            return address
    return ""


def _accounts_of(address):
    """{account id: contact} for the contacts with this address (the first per account),
    each with its account's id and name (all the later steps read)."""
    if not address:
        return {}
    rows = (Contact.select(Contact.id, Contact.account, Account.id, Account.name)
            .join_from(Contact, Account)
            .join_from(Contact, ContactEmail)
            .where(ContactEmail.email == address)
            .order_by(Contact.id))
    found = {}
    for contact in rows:
        found.setdefault(contact.account_id, contact)
    return found


def _contact_at(account, senders):
    return senders.get(account.id) if account is not None else None


# ---------------------------------------------------------------------------------------
# The steps

def _answered_email(parsed, known):
    """The stored Email this message answers: the most recent of its thread ids that we
    know (sent or received, by our id or the server's), one with an account preferred."""
    ids = [i for i in parsed.thread_ids if i != parsed.message_id]
    if not ids:
        return None
    wanted = set(ids)
    rows = [e for e in known if e.message_id in wanted or e.server_message_id in wanted]
    if not rows:
        return None
    rank = {value: position for position, value in enumerate(ids)}

    def order(email):
        position = min(rank.get(email.message_id, len(ids)),
                       rank.get(email.server_message_id, len(ids)))
        return (email.account_id is None, position, email.direction != "out", email.id)

    return min(rows, key=order)


def _by_thread(parsed, answered, senders):
    email = answered if answered is not None and answered.account_id else None
    root = parsed.thread_index[:THREAD_INDEX_ROOT]
    if email is None and len(root) == THREAD_INDEX_ROOT and BASE64.fullmatch(root):
        # The first 21 bytes name the conversation (a time and a GUID); replies append.
        # LIKE ignores case on some databases: compare exactly here.
        candidates = (Email.select()
                      .where(Email.thread_index.startswith(root)
                             & Email.account.is_null(False)
                             & (Email.message_id != parsed.message_id))
                      .order_by(Email.created_at.desc(), Email.id.desc())
                      .limit(20))
        email = next((e for e in candidates if e.thread_index.startswith(root)), None)
    if email is None:
        return None
    account = email.account
    return Match(account=account, contact=_contact_at(account, senders), quote=email.quote,
                 matched_by="thread")


def _document(token):
    """(account, quote) a document token names, or (None, None)."""
    quote = (Quote.select()
             .where(Quote.number == token.upper())
             .order_by(Quote.revision.desc())
             .first())
    if quote is not None:
        return quote.account, quote
    email = (Email.select()
             .where((Email.reply_token == token) & Email.account.is_null(False))
             .order_by(Email.id.desc())
             .first())
    if email is not None:
        return email.account, email.quote
    return None, None


def _by_token(tokens, matched_by, senders):
    for token in tokens:
        account, quote = _document(token)
        if account is None:
            continue
        if senders and account.id not in senders:
            return Match(matched_by="", triage_reason=str(_l(
                "The message names %(token)s of %(account)s, but its sender is a contact of "
                "another account.", token=token.upper(), account=account.name)))
        return Match(account=account, contact=senders.get(account.id), quote=quote,
                     matched_by=matched_by)
    return None


def _by_sender(senders):
    if len(senders) == 1:
        contact = next(iter(senders.values()))
        return Match(account=contact.account, contact=contact, matched_by="sender")
    return None


def _by_sender_rule(person, senders):
    if not person:
        return None
    rule = (SenderRule.select(SenderRule.id, SenderRule.account, Account.id, Account.name)
            .join(Account)
            .where(SenderRule.address == person)
            .first())
    if rule is None:
        return None
    return Match(account=rule.account, contact=_contact_at(rule.account, senders),
                 matched_by="sender_rule")


def _parent_domains(domain):
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _by_domain(person):
    domain = person.rpartition("@")[2]
    if not domain or _is_free_mail(domain):
        return None
    candidates = _parent_domains(domain)
    rows = list(AccountDomain.select(AccountDomain.domain, AccountDomain.account, Account.id,
                                     Account.name)
                .join(Account)
                .where(AccountDomain.domain.in_(candidates)))
    if not rows:
        return None
    best = max(len(row.domain) for row in rows)
    accounts = {row.account_id: row.account for row in rows if len(row.domain) == best}
    if len(accounts) != 1:
        return None
    return Match(account=next(iter(accounts.values())), matched_by="domain")


def _is_free_mail(domain):
    return any(d in FREE_MAIL_DOMAINS for d in _parent_domains(domain))


def _triage(parsed, person, senders):
    if not person:
        reason = _l("The sender's address could not be read.")
    elif len(senders) > 1:
        reason = _l("The sender is a contact at more than one account.")
    elif _is_free_mail(person.rpartition("@")[2]):
        reason = _l("Nothing links the message to an account, and %(domain)s is a free-mail "
                    "domain.", domain=person.rpartition("@")[2])
    elif parsed.tokens:
        reason = _l("It names %(token)s, which is not one of our documents.",
                    token=parsed.tokens[0].upper())
    else:
        reason = _l("No conversation, document number, contact or email domain matches "
                    "this sender.")
    return Match(triage_reason=str(reason))
