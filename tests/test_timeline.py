"""The account timeline: quick-add in place, next step → task, paging, kind filter, last contact."""
import datetime

from playhouse.test_utils import count_queries

from conftest import login, make_account, make_contact, make_entry, make_user, text_of
from models.accounts import Account
from models.contacts import Contact
from models.db import utcnow
from models.tasks import Task
from models.timeline import TimelineEntry, page_of

HTMX = {"HX-Request": "true"}


def test_quick_add_swaps_in_place(auth, user):
    account = make_account(user)
    anna = make_contact(account, "Jansen")
    response = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "call", "subject": "Spring order", "summary": "Wants 20 pallets",
        "agreements": "Quote by Friday", "contacts": [str(anna.id)]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="quick-add"' in html                               # a fresh form in place
    assert 'hx-swap-oob="afterbegin:#timeline-entries"' in html    # the entry on top
    assert "Spring order" in html and "Quote by Friday" in html and "Anna Jansen" in html
    entry = TimelineEntry.get()
    assert entry.author_id == user.id and entry.kind == "call"
    assert Account.get_by_id(account.id).last_contact_at == entry.occurred_at
    assert Contact.get_by_id(anna.id).last_contact_at == entry.occurred_at


def test_a_rejected_quick_add_keeps_what_was_typed(auth, user):
    """htmx: the form comes back in place; without JavaScript, as a page of its own. Either
    way with the message at the field and nothing typed lost."""
    account = make_account(user)
    anna = make_contact(account, "Jansen")
    data = {"kind": "call", "occurred_at": "1850-01-01T10:00", "subject": "Spring order",
            "summary": "Wants 20 pallets", "contacts": [str(anna.id)]}
    for headers in (HTMX, {}):
        response = auth.post(f"/accounts/{account.id}/timeline", headers=headers, data=data)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert ("<html" in html) == (not headers)
        assert 'id="occurred_at-error"' in html and "Enter a date from" in text_of(response)
        assert 'value="Spring order"' in html and "Wants 20 pallets" in html
        assert f'value="{anna.id}" checked' in html
    assert TimelineEntry.select().count() == 0


def test_plain_form_post_redirects_back(auth, user):
    account = make_account(user)
    response = auth.post(f"/accounts/{account.id}/timeline",
                         data={"kind": "visit", "summary": "Saw the new warehouse"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/accounts/{account.id}")
    assert "Saw the new warehouse" in text_of(auth.get(f"/accounts/{account.id}"))


def test_next_step_with_due_date_becomes_a_task(auth, user):
    account = make_account(user)
    colleague = make_user("sofia@example.com", role="inside_sales", name="Sofia")
    contact = make_contact(account)
    due = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "meeting", "summary": "Annual review", "next_step": "Send samples",
        "next_step_due": due, "next_step_owner": str(colleague.id),
        "contacts": [str(contact.id)]})
    assert response.status_code == 200
    task = Task.get()
    assert (task.objective, task.owner_id, task.contact_id) == ("Send samples", colleague.id, contact.id)
    assert task.timeline_entry_id == TimelineEntry.get().id
    assert 'id="account-tasks" hx-swap-oob="true"' in response.get_data(as_text=True)
    assert "Send samples" in text_of(response)


def test_invalid_entry_keeps_input(auth, user):
    account = make_account(user)
    future = (utcnow() + datetime.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "call", "occurred_at": future, "summary": "Typed with care",
        "next_step": "Call back", "next_step_due": "someday"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "cannot lie in the future" in html
    assert "Typed with care" in html
    assert TimelineEntry.select().count() == 0 and Task.select().count() == 0


def test_empty_entry_and_foreign_contact_are_refused(auth, user):
    account = make_account(user)
    other = make_contact(make_account(user, "Other"), "Stranger")
    empty = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={"kind": "note"})
    assert empty.status_code == 422 and "Write what was discussed" in text_of(empty)
    foreign = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "call", "summary": "x", "contacts": [str(other.id)]})
    assert foreign.status_code == 422 and "Choose contacts of this account" in text_of(foreign)
    assert TimelineEntry.select().count() == 0


def test_time_is_read_in_the_users_time_zone(auth, user):
    account = make_account(user)
    auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "call", "summary": "Morning call", "occurred_at": "2026-01-15T09:30"})
    # Europe/Amsterdam is UTC+1 in January.
    assert TimelineEntry.get().occurred_at == datetime.datetime(2026, 1, 15, 8, 30)


def test_paging_with_load_more(auth, user):
    account = make_account(user)
    for day in range(45):
        make_entry(account, user, days_ago=day, subject=f"Entry {day:02d}")
    page = auth.get(f"/accounts/{account.id}")
    html = page.get_data(as_text=True)
    assert "Entry 00" in html and "Entry 19" in html and "Entry 20" not in html
    _, cursor = page_of(account)
    more = auth.get(f"/accounts/{account.id}/timeline/more?before={cursor}", headers=HTMX)
    assert more.status_code == 200
    text = text_of(more)
    assert "Entry 20" in text and "Entry 39" in text and "Entry 19" not in text
    assert "Show older" in text
    _, cursor2 = page_of(account, before=cursor)
    last = text_of(auth.get(f"/accounts/{account.id}/timeline/more?before={cursor2}"))
    assert "Entry 44" in last and "Show older" not in last
    # Without JavaScript the same control is a link to the account page, a full page.
    plain = auth.get(f"/accounts/{account.id}?before={cursor}")
    assert "<html" in plain.get_data(as_text=True) and "Entry 20" in text_of(plain)


def test_entries_at_the_same_moment_are_not_skipped(user, app):
    account = make_account(user)
    moment = utcnow().replace(microsecond=0)
    for i in range(25):
        make_entry(account, user, occurred_at=moment, subject=f"Same {i}")
    first, cursor = page_of(account)
    second, end = page_of(account, before=cursor)
    subjects = [e.subject for e in first + second]
    assert len(subjects) == 25 == len(set(subjects)) and end is None


def test_kind_filter_is_a_page_and_a_fragment(auth, user):
    account = make_account(user)
    make_entry(account, user, kind="visit", subject="The visit")
    make_entry(account, user, kind="note", subject="The note")
    fragment = auth.get(f"/accounts/{account.id}?kind=visit", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "The visit" in text_of(fragment) and "The note" not in text_of(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    page = auth.get(f"/accounts/{account.id}?kind=visit")
    assert "<html" in page.get_data(as_text=True)


def test_a_note_is_not_a_contact_moment(user, app):
    account = make_account(user)
    make_entry(account, user, kind="call", days_ago=10)
    make_entry(account, user, kind="note", days_ago=1)
    last = Account.get_by_id(account.id).last_contact_at
    assert (utcnow() - last).days == 10


def test_deleting_an_entry_recomputes_last_contact(auth, user):
    account = make_account(user)
    contact = make_contact(account)
    make_entry(account, user, days_ago=20, contacts=[contact.id])
    recent = make_entry(account, user, days_ago=2, contacts=[contact.id])
    assert auth.post(f"/timeline/{recent.id}/delete").status_code == 303
    assert (utcnow() - Account.get_by_id(account.id).last_contact_at).days == 20
    assert (utcnow() - Contact.get_by_id(contact.id).last_contact_at).days == 20


def test_only_author_or_leads_delete_entries(client, user, manager):
    account = make_account(user)
    entry = make_entry(account, user)
    login(client, make_user("someone@example.com"))
    assert client.post(f"/timeline/{entry.id}/delete").status_code == 403
    login(client, manager)
    assert client.post(f"/timeline/{entry.id}/delete", headers=HTMX).status_code == 200
    assert TimelineEntry.select().count() == 0


def test_account_page_queries_do_not_grow_with_entries(auth, user):
    account = make_account(user)
    contacts = [make_contact(account, f"C{i}") for i in range(3)]
    make_entry(account, user, contacts=[c.id for c in contacts])
    with count_queries() as few:
        auth.get(f"/accounts/{account.id}")
    for day in range(1, 20):
        make_entry(account, user, days_ago=day, contacts=[c.id for c in contacts])
    with count_queries() as many:
        auth.get(f"/accounts/{account.id}")
    assert many.count == few.count


def test_edit_entry_in_place(auth, user):
    account = make_account(user)
    contact = make_contact(account)
    entry = make_entry(account, user, kind="call", subject="Typo", contacts=[contact.id])
    form = auth.get(f"/timeline/{entry.id}/edit", headers=HTMX)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "<html" not in html and 'value="Typo"' in html
    assert "<html" in auth.get(f"/timeline/{entry.id}/edit").get_data(as_text=True)
    saved = auth.post(f"/timeline/{entry.id}/edit", headers=HTMX, data={
        "kind": "meeting", "occurred_at": "2026-03-02T10:00", "subject": "Fixed",
        "summary": "Better words", "contacts": []})
    assert saved.status_code == 200 and "Fixed" in text_of(saved)
    entry = TimelineEntry.get_by_id(entry.id)
    assert (entry.kind, entry.subject, list(entry.participants)) == ("meeting", "Fixed", [])
    assert Contact.get_by_id(contact.id).last_contact_at is None
    bad = auth.post(f"/timeline/{entry.id}/edit", headers=HTMX, data={
        "kind": "meeting", "occurred_at": "yesterday-ish", "subject": "Keep"})
    assert bad.status_code == 422 and 'value="Keep"' in bad.get_data(as_text=True)
    assert TimelineEntry.get_by_id(entry.id).subject == "Fixed"


def test_strangers_cannot_edit_entries(client, user):
    entry = make_entry(make_account(user), user)
    login(client, make_user("else@example.com"))
    assert client.get(f"/timeline/{entry.id}/edit").status_code == 403
    assert client.post(f"/timeline/{entry.id}/edit", data={"kind": "call"}).status_code == 403


def test_partial_update_cannot_empty_subject_and_summary(user, app):
    from models.timeline import clean_entry
    from models.validation import Invalid
    import pytest
    entry = make_entry(make_account(user), user, subject="Kept", summary="")
    with pytest.raises(Invalid) as refused:
        clean_entry({"subject": ""}, entry.account, partial=True, entry=entry)
    assert "summary" in refused.value.errors
    assert clean_entry({"summary": "Now a summary", "subject": ""}, entry.account,
                       partial=True, entry=entry)["summary"] == "Now a summary"
