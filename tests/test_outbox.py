"""The outbox against a real SMTP server (aiosmtpd on a loopback port): stored before any SMTP
conversation, retried with backoff while the server is down, failed on a permanent refusal,
never sent twice — also when the worker is killed between sending and recording."""
import datetime
import email
import os
import signal
import subprocess
import sys
import threading
from email import policy
from pathlib import Path

import pytest

from conftest import login, make_account, text_of
from mail.outbox import queue_email, retry_now, send_again, send_due
from mail_servers import free_port, point_mail_at
from models.db import db, utcnow
from models.emails import CLAIM_MINUTES, Email, backoff
from models.validation import Invalid

pytestmark = pytest.mark.mail
ROOT = Path(__file__).resolve().parent.parent


def queue(number=1, **fields):
    values = {"to": [f"customer{number}@example.org"], "subject": f"Message {number}",
              "text": f"Hello {number}", "html": f"<p>Hello {number}</p>", "kind": "test"}
    values.update(fields)
    return queue_email(**values)


def fresh(row):
    return Email.get_by_id(row.id)


def minutes(n):
    return datetime.timedelta(minutes=n)


# --- stored first, sent by the worker --------------------------------------------------------

def test_a_queued_email_is_stored_whole_before_any_smtp_conversation(app, smtp_server):
    row = queue(attachments=[("notes.txt", "text/plain", b"the attachment")])
    stored = fresh(row)
    assert stored.status == "queued" and stored.attempts == 0
    assert smtp_server.messages == []                       # nothing talked to the server yet
    message = email.message_from_bytes(bytes(stored.raw), policy=policy.default)
    assert message["Message-ID"] == f"<{stored.message_id}>"
    assert stored.message_id.endswith("@example.com")       # MAIL_DEFAULT_SENDER's domain
    assert message.get_body(("plain",)).get_content().strip() == "Hello 1"
    assert [a.filename for a in stored.attachments] == ["notes.txt"]

    assert send_due() == {"sent": 1}
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["Message-ID"] == f"<{stored.message_id}>"
    assert smtp_server.handler.envelopes[0].rcpt_tos == ["customer1@example.org"]
    sent = fresh(row)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    assert "250" not in sent.smtp_reply and "Ok" in sent.smtp_reply
    assert send_due() == {}                                  # nothing left: never twice
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("app", [{"MAIL_MESSAGE_ID_DOMAIN": "mail.example.net"}], indirect=True)
def test_message_ids_use_the_configured_domain_never_the_host_name(app):
    import socket
    row = queue()
    assert row.message_id.endswith("@mail.example.net")
    assert socket.gethostname() not in row.message_id


def test_thread_headers_are_written_and_kept(app, smtp_server):
    queue(in_reply_to="abc@customer.example", references=["root@us.example", "abc@customer.example"])
    send_due()
    received = smtp_server.messages[0]
    assert received["In-Reply-To"] == "<abc@customer.example>"
    assert received["References"] == "<root@us.example> <abc@customer.example>"


def test_a_header_with_a_line_break_is_refused_not_sent(app):
    from mail.outbox import BadHeader
    with pytest.raises(BadHeader):
        queue(subject="Hello\r\nBcc: everyone@example.org")
    assert Email.select().count() == 0


def test_the_server_rewriting_the_message_id_is_recorded(app, smtp_server):
    smtp_server.handler.ok_reply = "250 2.6.0 <rewritten-1@relay.example> Queued mail for delivery"
    row = queue()
    send_due()
    assert fresh(row).server_message_id == "rewritten-1@relay.example"


# --- no mail server: mail waits, the app keeps working --------------------------------------

def test_without_a_mail_server_mail_stays_queued_and_the_outbox_says_so(app, client, admin):
    row = queue()
    assert send_due() == {}
    assert fresh(row).status == "queued" and fresh(row).attempts == 0
    login(client, admin)
    response = client.get("/outbox/")
    assert response.status_code == 200
    text = text_of(response)
    assert "Not sent: no mail server configured" in text
    assert "Message 1" in text


# --- failures: retry with backoff, fail for good, never twice -------------------------------

def test_server_down_then_back_sends_every_message_exactly_once(app, smtp_server):
    rows = [queue(n) for n in range(1, 4)]
    smtp_server.stop()
    now = utcnow()
    assert send_due(now=now) == {"retry": 3}
    for row in rows:
        down = fresh(row)
        assert down.status == "queued" and down.attempts == 1
        assert "refused" in down.last_error.lower()
        assert down.next_attempt_at == now + minutes(1)
    assert send_due(now=now + datetime.timedelta(seconds=30)) == {}   # backing off
    assert send_due(now=now + minutes(1)) == {"retry": 3}              # still down
    assert fresh(rows[0]).attempts == 2
    assert fresh(rows[0]).next_attempt_at == now + minutes(1) + minutes(2)

    smtp_server.start()
    assert send_due(now=now + minutes(3)) == {"sent": 3}
    assert send_due(now=now + minutes(60)) == {}
    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert subjects == ["Message 1", "Message 2", "Message 3"]
    assert all(fresh(r).status == "sent" and fresh(r).last_error == "" for r in rows)


def test_backoff_doubles_and_is_capped():
    assert [backoff(n) for n in range(1, 9)] == [minutes(m) for m in (1, 2, 4, 8, 16, 30, 30, 30)]


def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails(app, smtp_server):
    smtp_server.handler.reply = "451 4.3.0 Mailbox busy, try again later"
    row = queue()
    now = utcnow()
    assert send_due(now=now) == {"retry": 1}
    assert fresh(row).status == "queued" and "451 4.3.0 Mailbox busy" in fresh(row).last_error

    smtp_server.handler.reply = "554 5.7.1 Message rejected as spam"
    assert send_due(now=now + minutes(1)) == {"failed": 1}
    failed = fresh(row)
    assert failed.status == "failed" and "554 5.7.1 Message rejected as spam" in failed.last_error
    assert send_due(now=now + minutes(120)) == {}           # a failed message waits for a person

    smtp_server.handler.reply = None
    retry_now(failed)
    assert send_due() == {"sent": 1}
    assert len(smtp_server.messages) == 1


def test_a_refused_recipient_fails_and_the_next_message_still_goes(app, smtp_server):
    class RefuseOne:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("nobody@"):
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"
    smtp_server.handler.handle_RCPT = RefuseOne().handle_RCPT
    bad = queue(1, to=["nobody@example.org"])
    good = queue(2)
    assert send_due() == {"failed": 1, "sent": 1}
    assert "550 5.1.1 No such user" in fresh(bad).last_error
    assert [m["Subject"] for m in smtp_server.messages] == ["Message 2"]
    assert fresh(good).status == "sent"


def test_two_workers_at_once_send_each_message_once(app, smtp_server):
    rows = [queue(n) for n in range(1, 13)]
    results, errors = [], []

    def worker():
        try:
            with app.app_context(), db.connection_context():
                results.append(send_due(limit=8))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    with app.app_context(), db.connection_context():
        send_due()      # whatever neither took (each claims at most 8)
    ids = sorted(m["Message-ID"] for m in smtp_server.messages)
    assert ids == sorted(f"<{r.message_id}>" for r in rows)  # all twelve, none twice
    assert sum(r.get("sent", 0) for r in results) >= 8


# --- a worker killed mid-send ---------------------------------------------------------------

WORKER_SCRIPT = """
import sys
from app import create_app
from models.db import db
app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": sys.argv[1],
                  "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": int(sys.argv[2]),
                  "MAIL_SUPPRESS_SEND": False, "HUEY_IMMEDIATE": True,
                  "MAIL_DEFAULT_SENDER": "sales@example.com"})
with app.app_context(), db.connection_context():
    from mail.outbox import send_due
    print(send_due(), flush=True)
"""


def test_a_worker_killed_after_sending_leaves_the_message_uncertain_never_resent(
        app, smtp_server, client, admin):
    row = queue()
    smtp_server.handler.hold_seconds = 30     # the server has the message; the answer waits
    worker = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, app.config["DATABASE_URL"],
                               str(smtp_server.port)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        assert smtp_server.handler.received.wait(30), worker.stderr.read1().decode()
    finally:
        os.kill(worker.pid, signal.SIGKILL)   # killed between sending and recording
        worker.wait(10)
    smtp_server.handler.hold_seconds = 0
    left = fresh(row)
    assert left.status == "sending" and left.data_started_at is not None

    assert send_due() == {}                                       # its claim is still fresh
    later = utcnow() + minutes(CLAIM_MINUTES + 1)
    assert send_due(now=later) == {"uncertain": 1}
    assert fresh(row).status == "uncertain"
    assert send_due(now=later + minutes(60)) == {}                # never resent by itself
    assert len(smtp_server.messages) == 1

    login(client, admin)
    page = client.get("/outbox/?status=uncertain")
    assert "it may or may not have arrived" in text_of(page)
    assert "Send again" in text_of(page)
    # A person checked with the customer: it did not arrive. Send it again, same Message-ID.
    response = client.post(f"/outbox/{row.id}/send-again", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert fresh(row).status == "queued"
    assert send_due() == {"sent": 1}
    assert [m["Message-ID"] for m in smtp_server.messages] == [f"<{row.message_id}>"] * 2


def test_a_worker_killed_before_the_data_began_is_simply_queued_again(app, smtp_server):
    from mail.outbox import _claim_due
    row = queue()
    claimed_at = utcnow() - minutes(CLAIM_MINUTES + 1)
    Email.update(next_attempt_at=claimed_at).where(Email.id == row.id).execute()
    assert [e.id for e in _claim_due(claimed_at, "dead-worker", 10)] == [row.id]
    assert send_due() == {"released": 1, "sent": 1}
    assert len(smtp_server.messages) == 1


# --- what a person may do, and who --------------------------------------------------------------

def test_send_again_is_only_for_messages_whose_outcome_is_unknown(app, smtp_server):
    row = queue()
    send_due()
    with pytest.raises(Invalid):
        send_again(fresh(row))
    with pytest.raises(Invalid):
        retry_now(fresh(row))
    assert send_due() == {}
    assert len(smtp_server.messages) == 1


def test_the_outbox_is_for_managers_and_admins(app, client, user, manager):
    row = queue()
    login(client, user)
    assert client.get("/outbox/").status_code == 403
    assert client.post(f"/outbox/{row.id}/retry").status_code == 403
    login(client, manager)
    assert client.get("/outbox/").status_code == 200
    assert client.get(f"/outbox/{row.id}").status_code == 200
    assert client.get("/outbox/999999").status_code == 404


def test_the_outbox_list_shows_state_error_and_attempts_page_and_fragment(app, client, admin,
                                                                          smtp_server):
    account = make_account(admin, name="Panificio Rossi")
    row = queue(account=account)
    smtp_server.stop()
    send_due()
    login(client, admin)
    page = client.get("/outbox/")
    text = text_of(page)
    assert "Queued" in text and "refused" in text and "Panificio Rossi" in text
    assert "Retry now" in text
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get("/outbox/?status=queued", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Message 1" in text_of(fragment)
    assert "Message 1" not in text_of(client.get("/outbox/?status=sent"))

    response = client.post(f"/outbox/{row.id}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 200 and f'id="email-{row.id}"' in response.get_data(True)
    assert fresh(row).next_attempt_at <= utcnow()
    # Without CSRF token nothing changes.
    assert client.post(f"/outbox/{row.id}/retry", csrf=False).status_code == 400


def test_the_outbox_list_loads_in_a_fixed_number_of_queries(app, client, admin):
    from playhouse.test_utils import count_queries
    account = make_account(admin)
    for n in range(1, 6):
        queue(n, account=account, author=admin)
    login(client, admin)
    with count_queries() as few:
        client.get("/outbox/")
    for n in range(6, 26):
        queue(n, account=account, author=admin)
    with count_queries() as many:
        client.get("/outbox/")
    assert many.count == few.count


def test_a_message_page_shows_its_headers_and_body(app, client, admin):
    row = queue(attachments=[("Q-1.pdf", "application/pdf", b"%PDF-1.7 tiny")])
    login(client, admin)
    text = text_of(client.get(f"/outbox/{row.id}"))
    assert row.message_id in text and "customer1@example.org" in text
    assert "Hello 1" in text and "Q-1.pdf" in text


def test_the_periodic_job_sends_the_outbox(app, smtp_server):
    import jobs
    queue()
    result = jobs.huey.send_outbox.call_local()
    assert result == {"sent": 1}
    assert len(smtp_server.messages) == 1


def test_one_run_of_the_job_sends_more_than_one_batch(app, smtp_server):
    """After an outage or a big mailing the queue empties in one run, batch after batch."""
    import jobs
    from mail.outbox import BATCH_SIZE
    count = 2 * BATCH_SIZE + 3
    for number in range(count):
        queue(number)
    assert jobs.huey.send_outbox.call_local() == {"sent": count}
    assert len(smtp_server.messages) == count
    assert Email.select().where(Email.status != "sent").count() == 0


def test_the_job_stops_at_a_batch_that_meets_trouble(app, smtp_server):
    from mail.outbox import BATCH_SIZE, send_all_due
    for number in range(2 * BATCH_SIZE):
        queue(number)
    smtp_server.handler.reply = "451 4.3.0 Try again later"
    assert send_all_due() == {"retry": BATCH_SIZE}          # one batch tried, the rest wait
    assert Email.select().where(Email.attempts == 0).count() == BATCH_SIZE
