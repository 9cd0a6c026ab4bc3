"""The triage inbox in the API, and the email object of the timeline's email entries."""
from conftest import make_account, make_contact
from models.contacts import Contact
from models.emails import Email
from models.inbound import SenderRule
from models.timeline import TimelineEntry
from test_api import all_pages, api  # noqa: F401  (api is a fixture)
from test_email_display import inbound_email


def test_the_inbox_lists_waiting_mail_newest_first_in_pages(api, user):
    account = make_account(user)
    messages = [inbound_email(state="triage", subject=f"Mail {n}",
                              from_addr=f"p{n}@x{n}.example") for n in range(5)]
    broken = inbound_email(state="unparsed", from_addr="", parse_error="No header section")
    inbound_email(account, subject="Filed")
    inbound_email(state="dismissed")
    first = api.get("/api/v1/inbox?limit=4").json
    assert [i["id"] for i in first["items"]] == [broken.id] + [m.id for m in messages[::-1][:3]]
    assert first["next"]
    items, pages = all_pages(api, "/api/v1/inbox?limit=4")
    assert pages == 2
    assert [i["id"] for i in items] == [broken.id] + [m.id for m in messages[::-1]]
    item = next(i for i in items if i["id"] == messages[0].id)
    assert (item["from"], item["subject"], item["state"], item["to"]) == \
        ("p0@x0.example", "Mail 0", "triage", ["sales@example.com"])
    assert item["reason"] == "No account knows the sender p0@x0.example or the domain x0.example."
    assert item["received_at"].endswith("Z") and item["account_id"] is None
    assert items[0]["reason"] == "No header section"
    assert api.get("/api/v1/inbox?cursor=nonsense").status_code == 400


def test_assign_through_the_api(api, user):
    account = make_account(user)
    message = inbound_email(state="triage", from_addr="piet@klant.example",
                            raw=b"From: Piet Klant <piet@klant.example>\r\n\r\nHi\r\n")
    response = api.post(f"/api/v1/inbox/{message.id}/assign",
                        {"account_id": account.id, "add_contact": True, "remember_sender": True})
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["state"], body["account_id"], body["matched_by"]) == \
        ("filed", account.id, "person")
    contact = Contact.get(Contact.account == account)
    assert body["contact_id"] == contact.id and contact.name == "Piet Klant"
    assert SenderRule.get().account_id == account.id
    entry = TimelineEntry.get_by_id(body["timeline_entry_id"])
    assert entry.kind == "email_in"
    again = api.post(f"/api/v1/inbox/{message.id}/assign", {"account_id": account.id})
    assert again.status_code == 409
    assert "not waiting" in again.json["error"]


def test_assign_refuses_bad_input(api, user):
    message = inbound_email(state="triage")
    url = f"/api/v1/inbox/{message.id}/assign"
    missing = api.post(url, {})
    assert missing.status_code == 422
    assert missing.json["fields"] == {"account_id": "Choose the account this message belongs to."}
    assert api.post(url, {"account_id": 999999}).status_code == 422
    assert api.post(url, {"account_id": "1"}).status_code == 422
    assert api.post(url, {"account_id": 1, "colour": "red"}).status_code == 400
    assert api.post(url, "not json").status_code == 400
    assert api.post("/api/v1/inbox/999999/assign", {"account_id": 1}).status_code == 404
    assert Email.get_by_id(message.id).inbound_state == "triage"
    assert api.client.get("/api/v1/inbox").status_code == 401


def test_timeline_email_entries_carry_the_email_object(api, user):
    account = make_account(user)
    contact = make_contact(account, emails="piet@klant.example")
    received = inbound_email(account, contact=contact, message_id="abc@klant.example",
                             from_addr="piet@klant.example",
                             to_addrs="sales@example.com, info@example.com")
    items = api.get(f"/api/v1/accounts/{account.id}/timeline").json["items"]
    assert len(items) == 1
    email = items[0]["email"]
    assert {k: email[k] for k in ("message_id", "from", "to", "direction", "matched_by")} == {
        "message_id": "abc@klant.example", "from": "piet@klant.example",
        "to": ["sales@example.com", "info@example.com"], "direction": "in",
        "matched_by": "sender"}
    single = api.get(f"/api/v1/timeline/{received.timeline_entry_id}").json
    assert single["email"] == email
