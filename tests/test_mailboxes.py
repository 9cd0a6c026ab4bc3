"""The mailbox admin pages: list with state, add and change, test the connection, poll now."""
import datetime
import html

from conftest import login, text_of as raw_text_of
from mail_servers import free_port
from models.db import utcnow
from models.inbound import FolderCheckpoint, Mailbox

HTMX = {"HX-Request": "true"}


def text_of(response):
    return html.unescape(raw_text_of(response))


def form(**values):
    data = {"name": "Sales", "host": "imap.example.com", "port": "993", "security": "ssl",
            "username": "sales@example.com", "password": "secret", "folders": "INBOX",
            "since_days": "90", "active": "1"}
    data.update(values)
    return data


def test_only_admins_see_mailboxes(client, user, admin):
    login(client, user)
    assert client.get("/mailboxes/").status_code == 403
    assert client.post("/mailboxes/new", data=form()).status_code == 403
    assert "Mailboxes" not in text_of(client.get("/"))
    login(client, admin)
    assert client.get("/mailboxes/").status_code == 200
    assert 'href="/mailboxes/"' in client.get("/").get_data(as_text=True)


def test_list_shows_state_last_poll_and_error(client, admin):
    login(client, admin)
    Mailbox.create(name="Sales", host="imap.example.com", username="s", password="p",
                   status="error", failures=3, last_poll_at=utcnow(),
                   next_poll_at=utcnow() + datetime.timedelta(minutes=4),
                   last_error="The server refused the user name or password.")
    Mailbox.create(name="Support", host="imap.example.com", username="t", password="p",
                   status="ok", last_poll_at=utcnow())

    text = text_of(client.get("/mailboxes/"))

    assert "Sales" in text and "Failing" in text
    assert "The server refused the user name or password." in text
    assert "Failed 3 times in a row." in text
    assert "Support" in text and "Working" in text


def test_add_a_mailbox_and_bad_input_comes_back_at_the_field(client, admin):
    login(client, admin)
    response = client.post("/mailboxes/new", data=form(host="", port="70000", password=""),
                           headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This field is required." in html
    assert "A port is a number from 1 to 65535." in html
    assert "Enter the password of this mailbox." in html
    assert Mailbox.select().count() == 0

    response = client.post("/mailboxes/new", data=form(folders="INBOX, Sales,INBOX"))

    assert response.status_code == 303
    mailbox = Mailbox.get()
    assert (mailbox.host, mailbox.port, mailbox.folders, mailbox.password) == (
        "imap.example.com", 993, "INBOX,Sales", "secret")
    assert not mailbox.delete_after_import


def test_edit_keeps_the_password_when_left_empty(client, admin):
    login(client, admin)
    mailbox = Mailbox.create(name="Sales", host="imap.example.com", username="s",
                             password="stored-pw-4711")
    page = client.get(f"/mailboxes/{mailbox.id}/edit").get_data(as_text=True)
    assert "stored-pw-4711" not in page                       # never shown again

    client.post(f"/mailboxes/{mailbox.id}/edit", data=form(password="", name="Verkoop"))
    mailbox = Mailbox.get_by_id(mailbox.id)
    assert (mailbox.name, mailbox.password) == ("Verkoop", "stored-pw-4711")

    client.post(f"/mailboxes/{mailbox.id}/edit", data=form(password="new-one"))
    assert Mailbox.get_by_id(mailbox.id).password == "new-one"
    assert client.get("/mailboxes/999/edit").status_code == 404


def test_test_connection_in_plain_words(client, admin, pymap_server):
    login(client, admin)
    values = pymap_server.mailbox_values()
    good = form(host=values["host"], port=str(values["port"]), security="none",
                username=values["username"], password=values["password"])

    response = client.post("/mailboxes/test", data=good, headers=HTMX)
    assert text_of(response) == 'Connected and signed in. "INBOX" has 0 messages.'

    assert text_of(client.post("/mailboxes/test", data={**good, "password": "wrong"},
                               headers=HTMX)) == "The server refused the user name or password."
    assert text_of(client.post("/mailboxes/test", data={**good, "folders": "Archief"},
                               headers=HTMX)) == \
        'The folder "Archief" does not exist on the server.'
    port = free_port()
    assert "refused the connection on port" in text_of(
        client.post("/mailboxes/test", data={**good, "port": str(port)}, headers=HTMX))
    # A saved mailbox: an empty password field tests with the stored one.
    mailbox = Mailbox.create(**values)
    response = client.post("/mailboxes/test", headers=HTMX,
                           data={**good, "password": "", "mailbox_id": str(mailbox.id)})
    assert text_of(response).startswith("Connected and signed in.")


def test_poll_now_queues_the_poll_and_shows_the_result(client, admin, pymap_server):
    login(client, admin)
    pymap_server.append(b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <p1@b.example>\r\n\r\n"
                        b"hello\r\n")
    mailbox = Mailbox.create(**pymap_server.mailbox_values())

    # The tests run jobs at once (HUEY_IMMEDIATE); the worker would run it a moment later.
    response = client.post(f"/mailboxes/{mailbox.id}/poll", headers=HTMX)

    assert response.status_code == 200
    assert f'id="mailbox-{mailbox.id}"' in response.get_data(as_text=True)
    mailbox = Mailbox.get_by_id(mailbox.id)
    assert mailbox.status == "ok" and mailbox.last_poll_at is not None
    assert FolderCheckpoint.get(FolderCheckpoint.mailbox == mailbox).last_uid > 0


def test_progress_polls_while_a_first_sync_runs_and_stops_with_286(client, admin):
    login(client, admin)
    mailbox = Mailbox.create(name="Sales", host="h.example.com", username="s", password="p",
                             status="ok", last_poll_at=utcnow() - datetime.timedelta(minutes=1))
    checkpoint = FolderCheckpoint.create(mailbox=mailbox, folder="INBOX", uidvalidity=1,
                                         last_uid=120, total=500, done=120)

    running = client.get(f"/mailboxes/{mailbox.id}/progress", headers=HTMX)

    assert running.status_code == 200
    assert 'hx-trigger="every 2s"' in running.get_data(as_text=True)
    assert "First sync of INBOX: 120 of 500 messages" in text_of(running)
    checkpoint.done = checkpoint.total = 500
    checkpoint.save()

    finished = client.get(f"/mailboxes/{mailbox.id}/progress", headers=HTMX)

    assert finished.status_code == 286
    assert "hx-trigger" not in finished.get_data(as_text=True)
    assert "Working" in text_of(finished)
    # After "poll now" it waits for the worker's poll, then stops too.
    since = utcnow().replace(microsecond=0).isoformat()
    assert client.get(f"/mailboxes/{mailbox.id}/progress?since={since}",
                      headers=HTMX).status_code == 200
    Mailbox.update(last_poll_at=utcnow() + datetime.timedelta(seconds=1)).execute()
    assert client.get(f"/mailboxes/{mailbox.id}/progress?since={since}",
                      headers=HTMX).status_code == 286


def test_progress_polls_while_stored_messages_are_being_filed(client, admin):
    from models.emails import Email
    from models.inbound import InboundCopy
    login(client, admin)
    mailbox = Mailbox.create(name="Sales", host="h.example.com", username="s", password="p",
                             status="ok", last_poll_at=utcnow())
    for uid in (1, 2):
        email = Email.create(direction="in", status="received", message_id=f"m{uid}@x.example",
                             raw=b"Subject: hi\r\n\r\nhello", inbound_state="pending")
        InboundCopy.create(email=email, mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=uid)

    filing = client.get(f"/mailboxes/{mailbox.id}/progress", headers=HTMX)

    assert filing.status_code == 200 and 'hx-trigger="every 2s"' in filing.get_data(as_text=True)
    assert "2 messages stored, being filed on the timelines" in text_of(filing)
    Email.update(inbound_state="triage").execute()

    done = client.get(f"/mailboxes/{mailbox.id}/progress", headers=HTMX)

    assert done.status_code == 286 and "being filed" not in text_of(done)
