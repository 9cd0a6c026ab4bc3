"""The timeline in the API: newest first, pages, logging and correcting entries."""
import datetime

from conftest import make_account, make_contact, make_entry, make_user
from models.accounts import Account
from models.contacts import Contact
from models.db import utcnow
from models.timeline import TimelineEntry
from routes.api import encode_cursor
from test_api import ISO_MOMENT, all_pages, api  # noqa: F401  (api is a fixture)

CONTRACT = {"id", "kind", "occurred_at", "subject", "summary"}


def test_entries_come_newest_first_with_the_contract(api, user):
    account = make_account(user)
    contact = make_contact(account)
    old = make_entry(account, user, kind="visit", days_ago=10, subject="Old visit")
    new = make_entry(account, user, kind="call", days_ago=1, subject="Recent call",
                     summary="Talked prices", agreements="Quote by Friday",
                     next_step="Send the quote", contacts=[contact.id])
    make_entry(make_account(user, name="Elsewhere"), user, subject="Not this account")
    page = api.get(f"/api/v1/accounts/{account.id}/timeline").json
    assert [e["id"] for e in page["items"]] == [new.id, old.id]
    assert page["next"] is None
    item = page["items"][0]
    assert CONTRACT <= set(item)
    assert (item["kind"], item["subject"], item["summary"]) == \
        ("call", "Recent call", "Talked prices")
    assert (item["agreements"], item["next_step"]) == ("Quote by Friday", "Send the quote")
    assert (item["author"], item["contact_ids"], item["account_id"]) == \
        ("am@example.com", [contact.id], account.id)
    assert item["email"] is None
    assert ISO_MOMENT.match(item["occurred_at"])
    assert item["occurred_at"] == new.occurred_at.isoformat() + "Z"
    assert api.get(f"/api/v1/timeline/{new.id}").json == item


def test_pages_of_the_timeline_and_the_kind_filter(api, user):
    account = make_account(user)
    ids = [make_entry(account, user, kind="note" if d % 2 else "call", days_ago=d).id
           for d in range(7)]
    items, pages = all_pages(api, f"/api/v1/accounts/{account.id}/timeline?limit=3")
    assert ([e["id"] for e in items], pages) == (ids, 3)
    calls, _pages = all_pages(api, f"/api/v1/accounts/{account.id}/timeline?kind=call&limit=2")
    assert [e["id"] for e in calls] == ids[0::2]
    assert api.get(f"/api/v1/accounts/{account.id}/timeline?kind=gossip").status_code == 400


def test_log_a_contact_moment(api, user):
    account = make_account(user)
    contact = make_contact(account)
    response = api.post(f"/api/v1/accounts/{account.id}/timeline", {
        "kind": "meeting", "occurred_at": "2026-03-02T10:30:00+01:00", "subject": "Kick-off",
        "summary": "Agreed on a trial.", "agreements": "Trial in April",
        "contact_ids": [contact.id]})
    assert response.status_code == 201, response.json
    created = response.json
    assert response.headers["Location"].endswith(f"/api/v1/timeline/{created['id']}")
    assert created["occurred_at"] == "2026-03-02T09:30:00Z"  # stored and shown in UTC
    assert (created["author"], created["contact_ids"]) == ("am@example.com", [contact.id])
    assert Account.get_by_id(account.id).last_contact_at == datetime.datetime(2026, 3, 2, 9, 30)
    assert Contact.get_by_id(contact.id).last_contact_at == datetime.datetime(2026, 3, 2, 9, 30)
    naive = api.post(f"/api/v1/accounts/{account.id}/timeline",
                     {"kind": "call", "occurred_at": "2026-03-03T08:00:00", "subject": "Follow-up"})
    assert naive.json["occurred_at"] == "2026-03-03T08:00:00Z"  # no offset: UTC
    unset = api.post(f"/api/v1/accounts/{account.id}/timeline", {"kind": "note", "summary": "Now"})
    moment = datetime.datetime.fromisoformat(unset.json["occurred_at"].removesuffix("Z"))
    assert abs(utcnow() - moment) < datetime.timedelta(minutes=1)


def test_logging_refuses_bad_input_with_a_message_per_field(api, user):
    account = make_account(user)
    stranger = make_contact(make_account(user, name="Other"), last_name="Stranger")
    future = (utcnow() + datetime.timedelta(days=3)).isoformat()
    response = api.post(f"/api/v1/accounts/{account.id}/timeline", {
        "kind": "chat", "occurred_at": future, "contact_ids": [stranger.id]})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"kind", "occurred_at", "contact_ids", "summary"}
    assert "future" in response.json["fields"]["occurred_at"]
    bad_date = api.post(f"/api/v1/accounts/{account.id}/timeline",
                        {"kind": "call", "occurred_at": "yesterday", "subject": "x",
                         "contact_ids": ["1"]})
    assert set(bad_date.json["fields"]) == {"occurred_at", "contact_ids"}
    assert TimelineEntry.select().count() == 0


def test_email_entries_come_only_from_the_mail_system(api, user):
    account = make_account(user)
    refused = api.post(f"/api/v1/accounts/{account.id}/timeline",
                       {"kind": "email_in", "subject": "Fake mail"})
    assert refused.status_code == 422
    assert set(refused.json["fields"]) == {"kind"}
    mail = make_entry(account, user, kind="email_out", subject="Quote Q-2026-0007")
    assert api.patch(f"/api/v1/timeline/{mail.id}", {"kind": "call"}).status_code == 422
    note = make_entry(account, user, kind="note")
    assert api.patch(f"/api/v1/timeline/{note.id}", {"kind": "email_in"}).status_code == 422
    kept = api.patch(f"/api/v1/timeline/{mail.id}", {"kind": "email_out", "agreements": "Price ok"})
    assert kept.status_code == 200
    assert (kept.json["kind"], kept.json["agreements"]) == ("email_out", "Price ok")


def test_correct_an_entry(api, user):
    account = make_account(user)
    contact = make_contact(account)
    entry = make_entry(account, user, kind="call", subject="Call", summary="Old summary",
                       contacts=[contact.id])
    response = api.patch(f"/api/v1/timeline/{entry.id}",
                         {"summary": "Better summary", "kind": "visit", "contact_ids": []})
    assert response.status_code == 200, response.json
    item = response.json
    assert (item["summary"], item["kind"], item["subject"]) == ("Better summary", "visit", "Call")
    assert item["contact_ids"] == []
    assert item["occurred_at"] == entry.occurred_at.isoformat() + "Z"
    assert TimelineEntry.get_by_id(entry.id).summary == "Better summary"
    wrong = api.patch(f"/api/v1/timeline/{entry.id}", {"occurred_at": "soon"})
    assert wrong.status_code == 422 and set(wrong.json["fields"]) == {"occurred_at"}
    assert api.patch(f"/api/v1/timeline/{entry.id}", {"author": "x@example.com"}).status_code == 400


def test_only_the_author_and_managers_correct_an_entry(api, user, manager):
    colleague = make_user("mario@example.com")
    account = make_account(user)
    entry = make_entry(account, colleague, subject="Mario's call")
    assert api.patch(f"/api/v1/timeline/{entry.id}", {"subject": "Mine"}).status_code == 403
    assert TimelineEntry.get_by_id(entry.id).subject == "Mario's call"
    boss = api.as_user(manager)
    assert boss.patch(f"/api/v1/timeline/{entry.id}", {"subject": "Fixed"}).status_code == 200
    assert api.as_user(colleague).patch(f"/api/v1/timeline/{entry.id}",
                                        {"subject": "Mine again"}).status_code == 200


def test_a_cursor_that_is_not_ours_is_400(api, user):
    account = make_account(user)
    make_entry(account, user)
    url = f"/api/v1/accounts/{account.id}/timeline"
    for position in ("2026-03-02T09:30:00_99999999999999999999", "yesterday_1", 5):
        assert api.get(f"{url}?cursor={encode_cursor(position)}").status_code == 400
    assert api.get(f"{url}?cursor=%C3%A9").status_code == 400
