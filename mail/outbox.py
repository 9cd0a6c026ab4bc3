"""The outbox: the one path every outgoing email takes.

`queue_email` builds the MIME message (Flask-Mail's `Message`) with a Message-ID of our own
on our own domain and stores it — raw bytes included — before any SMTP conversation.
`send_due` (the worker, every minute) sends what is due:

- rows are claimed one by one with a conditional UPDATE (queued → sending, with a claim
  token), so two workers, on SQLite or PostgreSQL, never take the same row;
- just before the DATA command the row records `data_started_at` (again conditional on the
  claim): from then on its outcome is unknown until the server's answer is recorded;
- 250 → sent, the server's reply kept; 4xx, a refused connection or a timeout before DATA →
  queued again with backoff and the error shown; 5xx → failed with the server's reason;
- a row left in `sending` by a killed worker is swept after CLAIM_MINUTES: back to queued if
  DATA never began, `uncertain` if it did — never resent automatically, a person decides.
"""
import datetime
import re
import secrets
import smtplib
import time
import uuid
from collections import Counter
from email.utils import formataddr, parseaddr

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_mail import Connection, Message

from models.db import db, utcnow
from models.emails import CLAIM_MINUTES, RESENDABLE, RETRYABLE, Email, EmailAttachment, backoff
from models.validation import Invalid

SMTP_TIMEOUT = 60   # seconds a silent server may hold the worker, per command
BATCH_SIZE = 25     # rows one connection sends; send_all_due goes on batch after batch
RUN_SECONDS = 50    # what one minute's run may take, so runs do not pile up
ANGLE_ID = re.compile(r"<([^<>@\s]+@[^<>@\s]+)>")


class BadHeader(ValueError):
    """A header value with a line break: refused rather than sent (header injection)."""


def message_id_domain():
    """Our domain for Message-IDs: MAIL_MESSAGE_ID_DOMAIN, else the sender's — never the host."""
    configured = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN")
    if configured:
        return configured.strip().lower()
    return _domain(current_app.config.get("MAIL_DEFAULT_SENDER") or "") or "localhost"


def _domain(address):
    return parseaddr(address)[1].rpartition("@")[2].lower()


def new_message_id():
    """A fresh Message-ID (without angle brackets) on our domain."""
    return f"{uuid.uuid4().hex}@{message_id_domain()}"


def reply_address(token=""):
    """The shared mailbox (MAIL_REPLY_TO), with `+token` when MAIL_PLUS_ADDRESSING is on."""
    mailbox = (current_app.config.get("MAIL_REPLY_TO")
               or current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    if not token or not current_app.config.get("MAIL_PLUS_ADDRESSING"):
        return mailbox
    name, address = parseaddr(mailbox)
    local, _, domain = address.rpartition("@")
    tagged = f"{local}+{token}@{domain}"
    return formataddr((name, tagged)) if name else tagged


def mail_server_configured():
    """False when no MAIL_SERVER is set (or sending is suppressed): mail then waits, queued."""
    state = current_app.extensions["mail"]
    return bool(current_app.config.get("MAIL_SERVER")) and not state.suppress


def _one_line(value):
    if value and ("\n" in value or "\r" in value):
        raise BadHeader(value)
    return value


def queue_email(*, to, subject, text, html=None, kind="", sender=None, reply_to=None, cc=(),
                attachments=(), in_reply_to="", references=(), reply_token="", headers=None,
                account=None, contact=None, quote=None, author=None):
    """Store one outgoing message in the outbox and return its Email row.

    Renders nothing: the use case renders its templates and passes `text` (and `html`).
    `attachments` are (filename, content type, bytes). `in_reply_to` and `references` are
    Message-IDs without angle brackets. Call inside the caller's transaction when the mail
    belongs to a change (sending a quote): both are kept, or neither.
    """
    to = [_one_line(a) for a in to]
    cc = [_one_line(a) for a in cc]
    sender = _one_line(sender or current_app.config["MAIL_DEFAULT_SENDER"])
    reply_to = _one_line(reply_to)
    subject = _one_line(subject)
    message_id = new_message_id()
    extra = {"Auto-Submitted": "auto-generated"} if kind.endswith("notice") else {}
    if in_reply_to:
        extra["In-Reply-To"] = f"<{_one_line(in_reply_to)}>"
    if references:
        extra["References"] = " ".join(f"<{_one_line(r)}>" for r in references)
    extra.update({k: _one_line(v) for k, v in (headers or {}).items()})
    message = Message(subject=subject, recipients=to, cc=cc, body=text, html=html,
                      sender=sender, reply_to=reply_to, date=time.time(),
                      extra_headers=extra or None)
    message.msgId = f"<{message_id}>"
    for filename, content_type, data in attachments:
        message.attach(filename, content_type, data)
    raw = message.as_bytes()
    now = utcnow()
    with db.atomic():
        email = Email.create(
            direction="out", kind=kind, status="queued", message_id=message_id,
            in_reply_to=in_reply_to or "", references=" ".join(references),
            reply_token=reply_token, from_addr=sender, to_addrs=", ".join(to),
            cc_addrs=", ".join(cc), reply_to=reply_to or "", subject=subject,
            body_text=text, body_html=html or "", raw=raw, account=account, contact=contact,
            quote=quote, author=author, next_attempt_at=now, created_at=now, updated_at=now)
        for filename, content_type, data in attachments:
            EmailAttachment.create(email=email, filename=filename, content_type=content_type,
                                   size=len(data), content=data)
    return email


# ---------------------------------------------------------------------------------------
# The worker's side

class _TimedConnection(Connection):
    """Flask-Mail's connection, with a timeout: a silent server must not hold the worker."""

    def configure_host(self):
        state = self.mail
        smtp = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp(state.server, state.port, timeout=SMTP_TIMEOUT)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class _ConnectionLost(Exception):
    """The SMTP connection broke; the rest of the batch waits for the next run."""


def send_due(now=None, limit=BATCH_SIZE):
    """Send the outgoing mail that is due; a Counter of what happened (sent, retry, failed…).

    Without a configured mail server nothing is claimed: the mail waits in the outbox.
    """
    now = now or utcnow()
    result = sweep_abandoned(now)
    if not mail_server_configured():
        return result
    claim = secrets.token_hex(8)
    emails = _claim_due(now, claim, limit)
    if not emails:
        return result
    try:
        connection = _TimedConnection(current_app.extensions["mail"]).__enter__()
    except (OSError, smtplib.SMTPException) as error:
        for email in emails:
            _retry_later(email, claim, _describe(error), now)
        result["retry"] += len(emails)
        return result
    try:
        for index, email in enumerate(emails):
            try:
                result[_deliver(connection.host, email, claim, now)] += 1
            except _ConnectionLost:
                result["retry"] += 1
                released = _release(emails[index + 1:], claim)
                result["released"] += released
                break
    finally:
        try:
            connection.host.quit()
        except (OSError, smtplib.SMTPException):
            connection.host.close()
    return result


def send_all_due(budget_seconds=RUN_SECONDS):
    """The worker's minute: batches until nothing is due, a batch meets trouble (retries wait
    for their backoff anyway), or the time is nearly up; the next minute goes on from there.
    A thousand quotes or an hour of SMTP outage leave in minutes, not forty."""
    total = Counter()
    deadline = time.monotonic() + budget_seconds
    while True:
        result = send_due()
        total.update(result)
        if result["sent"] + result["failed"] < BATCH_SIZE or time.monotonic() >= deadline:
            return total


def sweep_abandoned(now=None):
    """Rows a killed worker left in `sending`: queued again if DATA never began, else uncertain."""
    now = now or utcnow()
    stale = now - datetime.timedelta(minutes=CLAIM_MINUTES)
    abandoned = ((Email.status == "sending") & (Email.claimed_at < stale))
    result = Counter()
    result["released"] = (Email
                          .update(status="queued", claim="", claimed_at=None, next_attempt_at=now,
                                  updated_at=now)
                          .where(abandoned & Email.data_started_at.is_null())
                          .execute())
    result["uncertain"] = (Email
                           .update(status="uncertain", claim="", updated_at=now,
                                   last_error="The worker stopped after the message data began; "
                                              "it may have been delivered.")
                           .where(abandoned & Email.data_started_at.is_null(False))
                           .execute())
    return +result


def _claim_due(now, claim, limit):
    due = (Email.select(Email.id)
           .where((Email.direction == "out") & (Email.status == "queued")
                  & (Email.next_attempt_at <= now))
           .order_by(Email.next_attempt_at, Email.id)
           .limit(limit))
    claimed = []
    # Read the ids first: an open read cursor on SQLite would turn the updates below into a
    # lock upgrade that fails at once ("database is locked") when another worker wrote.
    for email_id in [row[0] for row in due.tuples()]:
        taken = (Email
                 .update(status="sending", claim=claim, claimed_at=now, data_started_at=None,
                         attempts=Email.attempts + 1, updated_at=now)
                 .where((Email.id == email_id) & (Email.status == "queued"))
                 .execute())
        if taken:
            claimed.append(email_id)
    if not claimed:
        return []
    return list(Email.select().where(Email.id.in_(claimed)).order_by(Email.next_attempt_at,
                                                                       Email.id))


def _deliver(host, email, claim, now):
    """One message over an open connection; the outcome's name ("sent", "retry", …)."""
    sender = parseaddr(email.from_addr)[1]
    recipients = [parseaddr(a)[1] for a in email.recipients]
    try:
        host.ehlo_or_helo_if_needed()
        code, reply = host.mail(sender)
        if code != 250:
            return _refused(host, email, claim, code, reply, now)
        accepted, refusals = [], []
        for recipient in recipients:
            code, reply = host.rcpt(recipient)
            if code in (250, 251):
                accepted.append(recipient)
            else:
                refusals.append((code, f"{recipient}: {code} {_text(reply)}"))
        if not accepted:
            # Any temporary refusal makes the whole message worth another try.
            code = min(c for c, _ in refusals)
            return _refused(host, email, claim, code, "; ".join(r for _, r in refusals), now)
        if not _mark_data_started(email, claim):
            host.rset()
            return "skipped"
        code, reply = host.docmd("data")
        if code != 354:
            _unmark_data_started(email, claim)
            return _refused(host, email, claim, code, reply, now)
    except (OSError, smtplib.SMTPException) as error:
        # Nothing was handed over yet: a definite failure, worth another try.
        _unmark_data_started(email, claim)
        _retry_later(email, claim, _describe(error), now)
        raise _ConnectionLost() from error
    try:
        host.send(_wire_format(bytes(email.raw)))
        code, reply = host.getreply()
    except (OSError, smtplib.SMTPException) as error:
        _finish(email, claim, status="uncertain",
                last_error=f"The connection broke during the message data: {_describe(error)}")
        raise _ConnectionLost() from error
    if code == 250:
        reply = _text(reply)
        rewritten = ANGLE_ID.search(reply)
        server_id = rewritten.group(1) if rewritten and rewritten.group(1) != email.message_id \
            else ""
        _finish(email, claim, status="sent", sent_at=utcnow(), smtp_reply=reply,
                server_message_id=server_id, last_error="")
        return "sent"
    return _refused(None, email, claim, code, reply, now)


def _refused(host, email, claim, code, reply, now):
    """The server said no: 4xx → try again later, 5xx → failed for good."""
    message = f"{code} {_text(reply)}"
    if host is not None:
        try:
            host.rset()
        except (OSError, smtplib.SMTPException):
            pass
    if 400 <= code < 500:
        _retry_later(email, claim, message, now)
        return "retry"
    _finish(email, claim, status="failed", last_error=message, smtp_reply=message)
    return "failed"


def _mark_data_started(email, claim):
    now = utcnow()
    return (Email.update(data_started_at=now, claimed_at=now)
            .where((Email.id == email.id) & (Email.claim == claim)
                   & (Email.status == "sending"))
            .execute())


def _unmark_data_started(email, claim):
    (Email.update(data_started_at=None)
     .where((Email.id == email.id) & (Email.claim == claim))
     .execute())


def _retry_later(email, claim, error, now):
    _finish(email, claim, status="queued", last_error=error,
            next_attempt_at=now + backoff(email.attempts))


def _release(emails, claim):
    """Claimed rows not tried in this run: back to the queue, their claim not counted."""
    released = 0
    for email in emails:
        released += (Email.update(status="queued", claim="", claimed_at=None,
                                  attempts=Email.attempts - 1)
                     .where((Email.id == email.id) & (Email.claim == claim)
                            & (Email.status == "sending"))
                     .execute())
    return released


def _finish(email, claim, **values):
    """Record the outcome, only while this worker still holds the row."""
    values.setdefault("claim", "")
    values.setdefault("claimed_at", None)
    if values.get("status") == "queued":
        values["data_started_at"] = None
    values["updated_at"] = utcnow()
    (Email.update(**values)
     .where((Email.id == email.id) & (Email.claim == claim))
     .execute())


def _wire_format(raw):
    """The message as DATA carries it: CRLF line ends, leading dots doubled, the final dot."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", raw)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _text(reply):
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(error):
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, TimeoutError):
        return "The mail server did not answer in time."
    if isinstance(error, ConnectionRefusedError):
        return "The mail server refused the connection."
    return f"{type(error).__name__}: {error}".strip()


# ---------------------------------------------------------------------------------------
# What a person does in the outbox

def retry_now(email):
    """Queued with backoff, or failed: try at the next run. Refused for any other state."""
    changed = (Email.update(status="queued", next_attempt_at=utcnow(), updated_at=utcnow())
               .where((Email.id == email.id) & Email.status.in_(RETRYABLE))
               .execute())
    if not changed:
        raise Invalid({"status": _l("This message is no longer waiting to be sent.")})


def send_again(email):
    """A message whose outcome is unknown, checked by a person: send it (same Message-ID)."""
    changed = (Email.update(status="queued", next_attempt_at=utcnow(), updated_at=utcnow(),
                            data_started_at=None, last_error="")
               .where((Email.id == email.id) & Email.status.in_(RESENDABLE))
               .execute())
    if not changed:
        raise Invalid({"status": _l("Only a message whose outcome is unknown can be sent again.")})
