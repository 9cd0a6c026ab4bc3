"""Bad input never gives a 500: control characters, versions that are no version, numbers no
id can be, dates nobody means, and a database that does not answer.

Each case asserts the exact answer: a form comes back (422, or 409 for a stale edit) with the
message at the field and the user's input in it; a URL no record or page can have is a 404; the
API says 400 for a header or query it cannot read and 422 with a message per field. They run
on SQLite and on PostgreSQL (TEST_DATABASE_URL), where NUL and out-of-range numbers used to
fail in the database driver.
"""
import datetime
import html
import logging
import re
from urllib.parse import urlsplit, urlunsplit

import pytest

from conftest import _config, form_fields, login, make_account, make_contact, make_entry, text_of
from models import db
from models.accounts import Account, clean_account, save_account
from models.contacts import Contact
from models.db import StaleRecord
from models.quotes import Quote
from models.tasks import Task
from models.timeline import TimelineEntry, parse_cursor
from models.users import ApiToken
from models.validation import Checker, parse_int, search_term
from test_api import Api

HTMX = {"HX-Request": "true"}
HUGE = "99999999999999999999"  # 20 digits: beyond SQLite's and PostgreSQL's integers
BEYOND = str(2**31)  # the first id a 32-bit id column cannot hold
CONTROL = "Remove the invisible control characters from this text."
DATE_RANGE = "Enter a date from 1900 to 2999."
NOT_A_CONTACT = "Choose a contact of this account."
STALE_ACCOUNT = "Someone else changed this account while you were editing."
STALE_CONTACT = "Someone else changed this contact while you were editing."


def field_error(response, name):
    """The message shown at field `name` (the span the form macros put under it)."""
    page = response.get_data(as_text=True)
    found = re.search(rf'<span class="field-error" id="{name}-error"[^>]*>(.*?)</span>', page, re.S)
    assert found, f"no error slot for {name}"
    return html.unescape(found.group(1)).strip()


def shows_value(response, value):
    """Whether the response carries `value` back in the form (an input's value or a textarea)."""
    page = response.get_data(as_text=True)
    escaped = html.escape(value, quote=True)
    return f'value="{escaped}"' in page or f">{escaped}</textarea>" in page


@pytest.fixture
def account(user):
    return make_account(user, "Bakkerij de Vries", tags="noord", city="Zwolle")


@pytest.fixture
def contact(account):
    return make_contact(account, "Jansen", first_name="Anna", emails="anna@bakkerij.nl",
                        phone="+31 20 1234567")


@pytest.fixture
def entry(account, user, contact):
    return make_entry(account, user, kind="call", subject="Gesprek over brood",
                      contacts=[contact.id])


@pytest.fixture
def api(client, user):
    return Api(client, ApiToken.issue(user))


def account_form(user, **fields):
    return {"name": "Kaasboerderij Zwolle", "stage": "prospect", "size_class": "M",
            "owner": str(user.id), "language": "nl", "currency": "EUR", "city": "Kampen",
            **fields}


# --- control characters ----------------------------------------------------------------------

@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x07"], ids=["NUL", "ESC", "BEL"])
@pytest.mark.parametrize("field", ["name", "website", "email_domains", "tags", "vision"])
def test_control_characters_in_the_account_form_are_refused_at_the_field(auth, user, char,
                                                                         field):
    typed = {"name": "Kaas", "website": "kaas.nl", "email_domains": "kaas.nl", "tags": "kaas",
             "vision": "Groeien"}[field]
    bad = typed[:2] + char + typed[2:]
    response = auth.post("/accounts/new", data=account_form(user, **{field: bad}), headers=HTMX)
    assert response.status_code == 422
    assert field_error(response, field) == CONTROL
    assert shows_value(response, "Kampen")  # what else was typed comes back
    assert shows_value(response, bad)
    assert Account.select().count() == 0


@pytest.mark.parametrize("form", ["account edit", "contact new", "contact edit", "task new",
                                  "task edit", "quick-add", "timeline edit"])
def test_nul_in_every_form_is_refused_at_the_field(auth, user, account, contact, entry, form):
    task = Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                       objective="Bellen")
    url, data, field, kept = {
        "account edit": (f"/accounts/{account.id}/edit",
                         account_form(user, name="Bakkerij\x00", version=str(account.version)),
                         "name", "Kampen"),
        "contact new": (f"/contacts/new/{account.id}",
                        {"last_name": "Visser", "personal_notes": "Houdt van\x00 fietsen",
                         "position": "Inkoper"}, "personal_notes", "Inkoper"),
        "contact edit": (f"/contacts/{contact.id}/edit",
                         {"last_name": "Jansen", "emails": "anna\x00@bakkerij.nl",
                          "position": "Inkoper", "version": str(contact.version)},
                         "emails", "Inkoper"),
        "task new": (f"/tasks/new?account={account.id}",
                     {"objective": "Offerte\x00 sturen", "due_date": "2030-02-01",
                      "owner": str(user.id)}, "objective", "2030-02-01"),
        "task edit": (f"/tasks/{task.id}/edit",
                      {"objective": "Offerte\x00 sturen", "due_date": "2030-02-01",
                       "owner": str(user.id)}, "objective", "2030-02-01"),
        "quick-add": (f"/accounts/{account.id}/timeline",
                      {"kind": "call", "subject": "Prijzen", "summary": "Over\x00 prijzen"},
                      "summary", "Prijzen"),
        "timeline edit": (f"/timeline/{entry.id}/edit",
                          {"kind": "call", "subject": "Prijzen\x00", "summary": "Gebeld"},
                          "subject", "Gebeld"),
    }[form]
    response = auth.post(url, data=data, headers=HTMX)
    assert response.status_code == 422
    assert field_error(response, field) == CONTROL
    assert shows_value(response, kept)
    assert shows_value(response, data[field])
    assert Account.get_by_id(account.id).name == "Bakkerij de Vries"
    assert Contact.select().count() == 1 and Contact.get_by_id(contact.id).emails == \
        ["anna@bakkerij.nl"]
    assert [t.objective for t in Task.select()] == ["Bellen"]
    assert [e.subject for e in TimelineEntry.select()] == ["Gesprek over brood"]


def test_tabs_and_line_breaks_are_not_refused(auth, user):
    response = auth.post("/accounts/new", data=account_form(
        user, city="Zwolle\tCentrum", vision="Eerst dit.\r\n\tDan dat."))
    assert response.status_code == 303
    saved = Account.get(Account.name == "Kaasboerderij Zwolle")
    assert saved.city == "Zwolle Centrum"  # one line: folded
    assert saved.vision == "Eerst dit.\r\n\tDan dat."  # many lines: kept as typed


@pytest.mark.parametrize("method, url, body, field", [
    ("POST", "/api/v1/accounts", {"name": "Kaas\x00"}, "name"),
    ("PATCH", "/api/v1/accounts/{account}", {"city": "Zw\x00olle"}, "city"),
    ("POST", "/api/v1/contacts", {"account_id": "{account}", "last_name": "Visser",
                                  "emails": ["visser\x00@kaas.nl"]}, "emails"),
    ("PATCH", "/api/v1/contacts/{contact}", {"personal_notes": "\x1b[31mrood"},
     "personal_notes"),
    ("POST", "/api/v1/accounts/{account}/timeline", {"kind": "call", "summary": "a\x00b"},
     "summary"),
    ("POST", "/api/v1/tasks", {"account_id": "{account}", "objective": "Bel\x00len",
                               "due_date": "2030-01-01"}, "objective"),
], ids=["account post", "account patch", "contact post", "contact patch", "timeline post",
        "task post"])
def test_the_api_refuses_control_characters_with_a_422_at_the_field(api, account, contact,
                                                                    method, url, body, field):
    ids = {"account": account.id, "contact": contact.id}
    body = {k: ids[v[1:-1]] if isinstance(v, str) and v[1:-1] in ids else v
            for k, v in body.items()}
    response = api.request(method, url.format(**ids), body)
    assert response.status_code == 422
    assert response.json["fields"] == {field: CONTROL}
    assert Account.select().count() == 1 and Contact.select().count() == 1
    assert Account.get_by_id(account.id).city == "Zwolle"
    assert Contact.get_by_id(contact.id).personal_notes == ""


@pytest.mark.parametrize("char", ["%00", "%1B"], ids=["NUL", "ESC"])
@pytest.mark.parametrize("url, expected", [
    ("/search?q=Bak{c}kerij", "Bakkerij de Vries"),
    ("/search?q=Jan{c}sen", "Anna Jansen"),
    ("/accounts/?q=Bak{c}kerij", "1 account"),
    ("/accounts/?tag=no{c}ord", "1 account"),
    ("/accounts/?stage=cust{c}omer", "1 account"),
    ("/contacts/?q=anna%40bakk{c}erij", "1 contact"),
    ("/contacts/?q=1234{c}567", "1 contact"),
    ("/accounts/{account}?kind=ca{c}ll", "Gesprek over brood"),
    ("/accounts/{account}/timeline/more?kind=ca{c}ll", "Gesprek over brood"),
])
def test_search_terms_and_filters_drop_control_characters(auth, account, contact, entry, char,
                                                          url, expected):
    response = auth.get(url.format(c=char, account=account.id), headers=HTMX)
    assert response.status_code == 200
    assert expected in text_of(response)


@pytest.mark.parametrize("char", ["%00", "%1B"], ids=["NUL", "ESC"])
@pytest.mark.parametrize("url", [
    "/api/v1/accounts?q=Bak{c}kerij",
    "/api/v1/accounts?tag=no{c}ord",
    "/api/v1/accounts?owner=am%40example.com{c}",
    "/api/v1/contacts?email=anna%40bakkerij.nl{c}",
    "/api/v1/tasks?owner=am{c}%40example.com",
])
def test_api_search_terms_drop_control_characters(api, account, contact, user, char, url):
    Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                objective="Bellen")
    response = api.get(url.format(c=char))
    assert response.status_code == 200
    assert len(response.json["items"]) == 1


def test_search_term_keeps_what_was_meant():
    assert search_term(" Bak\x00kerij\tde\nVries\x1b ") == "Bakkerij de Vries"
    assert search_term(None) == ""


# --- versions --------------------------------------------------------------------------------

VERSIONS = [None, "", "abc", "²", "1.0", "-1", "0", BEYOND, HUGE]
VERSION_IDS = ["missing", "empty", "abc", "superscript", "decimal", "negative", "zero",
               "beyond-32-bit", "huge"]


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_account_edit_without_a_readable_version_is_stale(auth, user, account, version):
    form = form_fields(auth.get(f"/accounts/{account.id}/edit").get_data(as_text=True),
                       "account-form")
    form.pop("version")
    if version is not None:
        form["version"] = version
    response = auth.post(f"/accounts/{account.id}/edit", data={**form, "city": "Gouda"},
                         headers=HTMX)
    assert response.status_code == 409
    assert STALE_ACCOUNT in text_of(response)
    assert shows_value(response, "Gouda")
    stored = Account.get_by_id(account.id)
    assert stored.city == "Zwolle" and stored.version == account.version
    # The same form with the version it was loaded with saves.
    saved = auth.post(f"/accounts/{account.id}/edit",
                      data={**form, "city": "Gouda", "version": str(account.version)})
    assert saved.status_code == 303 and Account.get_by_id(account.id).city == "Gouda"


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_contact_edit_without_a_readable_version_is_stale(auth, contact, version):
    form = form_fields(auth.get(f"/contacts/{contact.id}/edit").get_data(as_text=True),
                       "contact-form")
    form.pop("version")
    if version is not None:
        form["version"] = version
    response = auth.post(f"/contacts/{contact.id}/edit", data={**form, "position": "Chef"},
                         headers=HTMX)
    assert response.status_code == 409
    assert STALE_CONTACT in text_of(response)
    assert shows_value(response, "Chef")
    assert Contact.get_by_id(contact.id).position == ""
    saved = auth.post(f"/contacts/{contact.id}/edit",
                      data={**form, "position": "Chef", "version": str(contact.version)})
    assert saved.status_code == 303 and Contact.get_by_id(contact.id).position == "Chef"


@pytest.mark.parametrize("version", ["abc", "²", -1, 0, 2**31, 2**40, int(HUGE)])
def test_saving_with_a_version_no_record_can_have_is_stale(user, account, version):
    """The root every versioned save shares (accounts, contacts, products, quotes)."""
    values = clean_account({"city": "Gouda"}, account, partial=True)
    with pytest.raises(StaleRecord):
        save_account(values, Account.get_by_id(account.id), seen_version=version)
    assert Account.get_by_id(account.id).city == "Zwolle"


@pytest.mark.parametrize("area", ["accounts", "contacts"])
@pytest.mark.parametrize("tag", [HUGE, BEYOND, "abc", "-1", "0", "²", "*"])
def test_api_if_match_that_is_no_version_is_400(api, account, contact, area, tag):
    record = {"accounts": account, "contacts": contact}[area]
    response = api.patch(f"/api/v1/{area}/{record.id}", {"position": "Chef"} if
                         area == "contacts" else {"city": "Gouda"},
                         headers={"If-Match": f'"{tag}"'})
    assert response.status_code == 400
    assert response.json["error"] == "If-Match must be the record's version, like \"3\"."
    assert Account.get_by_id(account.id).city == "Zwolle"
    assert Contact.get_by_id(contact.id).position == ""


@pytest.mark.parametrize("version", [int(HUGE), 2**31, -1])
def test_api_version_in_the_body_that_is_no_version_is_422(api, account, version):
    response = api.patch(f"/api/v1/accounts/{account.id}", {"city": "Gouda", "version": version})
    assert response.status_code == 422
    assert response.json["fields"] == {"version": "Send a whole number, like an id."}
    assert Account.get_by_id(account.id).city == "Zwolle"


# --- numbers no id can be ------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/accounts/", "/contacts/", "/tasks/"])
@pytest.mark.parametrize("page", [HUGE, BEYOND, "9" * 5000])
def test_a_page_number_no_list_can_reach_is_404(auth, url, page):
    assert auth.get(f"{url}?page={page}").status_code == 404
    assert auth.get(f"{url}?page={page}", headers=HTMX).status_code == 404


@pytest.mark.parametrize("url, expected", [
    ("/accounts/", "Bakkerij de Vries"), ("/contacts/", "Anna Jansen"), ("/tasks/", "Bellen")])
@pytest.mark.parametrize("page", ["abc", "²", "-5", "0", "1.5", ""])
def test_a_page_that_is_no_number_is_the_first(auth, user, account, contact, url, expected, page):
    Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                objective="Bellen")
    response = auth.get(f"{url}?page={page}", headers=HTMX)
    assert response.status_code == 200
    assert expected in text_of(response)


def test_the_largest_page_number_is_an_empty_page(auth, account):
    response = auth.get(f"/accounts/?page={2**31 - 1}", headers=HTMX)
    assert response.status_code == 200
    assert "Bakkerij de Vries" not in text_of(response)


@pytest.mark.parametrize("url, name, count", [
    ("/accounts/", "Bakkerij de Vries", "0 accounts"),
    ("/contacts/", "Anna Jansen", "0 contacts"),
    ("/tasks/", "Bellen", "0 tasks"),
])
@pytest.mark.parametrize("owner, matches", [(HUGE, False), (BEYOND, False), ("-3", False),
                                            ("abc", True), ("²", True)])
def test_an_owner_filter_no_user_can_match_matches_nobody(auth, user, account, contact, url,
                                                          name, count, owner, matches):
    """A number no user id can be is nobody; what is no number at all is no filter."""
    Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                objective="Bellen")
    response = auth.get(f"{url}?owner={owner}", headers=HTMX)
    assert response.status_code == 200
    assert (name in text_of(response)) is matches
    assert (count in text_of(response)) is not matches


@pytest.mark.parametrize("url", ["/accounts/{account}", "/accounts/{account}/timeline/more",
                                 "/contacts/{contact}", "/contacts/{contact}/timeline/more"])
@pytest.mark.parametrize("entry_id", [HUGE, BEYOND, "²", "-1", "0", "x"])
def test_a_timeline_cursor_no_entry_can_have_starts_at_the_newest(auth, account, contact, entry,
                                                                  url, entry_id):
    """A real cursor from 2020 would hide today's entry; one no entry wrote shows it."""
    cursor = f"2020-01-01T00:00:00_{entry_id}"
    response = auth.get(url.format(account=account.id, contact=contact.id),
                        query_string={"before": cursor}, headers=HTMX)
    assert response.status_code == 200
    assert "Gesprek over brood" in text_of(response)
    real = auth.get(url.format(account=account.id, contact=contact.id),
                    query_string={"before": f"2020-01-01T00:00:00_{entry.id}"}, headers=HTMX)
    assert real.status_code == 200 and "Gesprek over brood" not in text_of(real)


@pytest.mark.parametrize("cursor, position", [
    (f"2020-01-01T00:00:00_{HUGE}", None), (f"2020-01-01T00:00:00_{BEYOND}", None),
    ("2020-01-01T00:00:00_²", None), ("2020-01-01T00:00:00+05:00_3", None), ("nonsense", None),
    ("2020-01-01T00:00:00_3", (datetime.datetime(2020, 1, 1), 3))])
def test_parse_cursor_reads_only_cursors_an_entry_could_write(cursor, position):
    assert parse_cursor(cursor) == position


@pytest.mark.parametrize("entry_id", [int(HUGE), 2**31])
def test_api_timeline_cursor_no_entry_can_have_is_400(api, account, entry, entry_id):
    from routes.api import encode_cursor
    cursor = encode_cursor(f"2020-01-01T00:00:00_{entry_id}")
    response = api.get(f"/api/v1/accounts/{account.id}/timeline?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json["error"]


@pytest.mark.parametrize("url, message", [
    ("/api/v1/contacts?account_id=²", "account_id must be a whole number, like an id."),
    (f"/api/v1/contacts?account_id={HUGE}", "account_id must be a whole number, like an id."),
    (f"/api/v1/tasks?account_id={BEYOND}", "account_id must be a whole number, like an id."),
    ("/api/v1/accounts?limit=²", "limit must be a whole number from 1 to 200."),
    (f"/api/v1/accounts?limit={HUGE}", "limit must be a whole number from 1 to 200."),
])
def test_api_query_numbers_that_are_no_id_are_400(api, url, message):
    response = api.get(url)
    assert response.status_code == 400
    assert response.json["error"] == message


@pytest.mark.parametrize("contact_id", [HUGE, BEYOND, "²", "abc", "-1", "0", "other"])
@pytest.mark.parametrize("form", ["new", "edit"])
def test_task_form_contact_that_is_not_one_of_the_account_is_refused_at_the_field(
        auth, user, account, contact, contact_id, form):
    if contact_id == "other":
        contact_id = str(make_contact(make_account(user, "Elders"), "Ander").id)
    task = Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                       objective="Bellen")
    url = f"/tasks/new?account={account.id}" if form == "new" else f"/tasks/{task.id}/edit"
    response = auth.post(url, data={"objective": "Offerte sturen", "due_date": "2030-02-01",
                                    "owner": str(user.id), "contact": contact_id},
                         headers=HTMX)
    assert response.status_code == 422
    assert field_error(response, "contact") == NOT_A_CONTACT
    assert "Offerte sturen" in response.get_data(as_text=True)
    assert [(t.objective, t.contact_id) for t in Task.select()] == [("Bellen", None)]


@pytest.mark.parametrize("contacts", [[HUGE], [BEYOND], ["²"], ["{contact}", "-1"]])
def test_quick_add_contacts_that_no_contact_can_be_are_refused_at_the_field(
        auth, account, contact, contacts):
    contacts = [c.format(contact=contact.id) for c in contacts]
    response = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "call", "subject": "Prijzen", "summary": "Over prijzen", "contacts": contacts})
    assert response.status_code == 422
    assert field_error(response, "contacts") == "Choose contacts of this account."
    assert shows_value(response, "Prijzen")
    assert TimelineEntry.select().count() == 0


@pytest.mark.parametrize("raw, message", [
    (HUGE, "Enter a number of at most 2147483647."),
    (BEYOND, "Enter a number of at most 2147483647."),
    ("-" + HUGE, "Enter a number of at least 1."),
    ("²", "Enter a whole number."),
    ("1.5", "Enter a whole number."),
    (1.5, "Enter a whole number."),
    (True, "Enter a whole number."),
])
def test_checker_integer_refuses_what_the_database_cannot_hold(raw, message):
    check = Checker({"n": raw})
    check.integer("n", minimum=1)
    assert check.errors == {"n": message}


@pytest.mark.parametrize("raw, number", [
    ("12", 12), (" 7 ", 7), ("+4", 4), ("0007", 7), (2**31 - 1, 2**31 - 1), (HUGE, None),
    (BEYOND, None), ("9" * 5000, None), ("²", None), ("١٢", None), ("1_000", None),
    ("1.0", None), ("-3", None), (True, None), (None, None), ("", None)])
def test_parse_int_reads_only_numbers_the_database_can_hold(raw, number):
    assert parse_int(raw) == number


# --- dates nobody means ----------------------------------------------------------------------

@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "1899-12-31T23:59", "3000-01-01T00:00",
                                    "9999-12-31T23:59"])
@pytest.mark.parametrize("form", ["quick-add", "timeline edit"])
def test_a_moment_outside_1900_to_2999_is_refused_at_the_field(auth, account, entry, moment,
                                                               form):
    url = (f"/accounts/{account.id}/timeline" if form == "quick-add"
           else f"/timeline/{entry.id}/edit")
    response = auth.post(url, headers=HTMX, data={
        "kind": "call", "occurred_at": moment, "subject": "Prijzen", "summary": "Gebeld"})
    assert response.status_code == 422
    assert field_error(response, "occurred_at") == DATE_RANGE
    assert shows_value(response, moment) and shows_value(response, "Prijzen")
    assert [e.subject for e in TimelineEntry.select()] == ["Gesprek over brood"]


@pytest.mark.parametrize("url, field, data", [
    ("/tasks/new?account={account}", "due_date",
     {"objective": "Bellen", "due_date": "{day}", "owner": "{user}"}),
    ("/contacts/new/{account}", "birthday", {"last_name": "Visser", "birthday": "{day}"}),
    ("/contacts/{contact}/edit", "birthday",
     {"last_name": "Jansen", "birthday": "{day}", "version": "1"}),
])
@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_date_outside_1900_to_2999_is_refused_at_the_field(auth, user, account, contact, url,
                                                             field, data, day):
    ids = {"account": account.id, "contact": contact.id, "user": user.id, "day": day}
    response = auth.post(url.format(**ids), headers=HTMX,
                         data={k: v.format(**ids) for k, v in data.items()})
    assert response.status_code == 422
    assert field_error(response, field) == DATE_RANGE
    assert shows_value(response, day)
    assert Task.select().count() == 0 and Contact.select().count() == 1
    assert Contact.get_by_id(contact.id).birthday is None


def test_the_first_day_of_1900_is_a_date(auth, account, contact):
    response = auth.post(f"/contacts/{contact.id}/edit", data={
        "last_name": "Jansen", "birthday": "1900-01-01", "version": str(contact.version)})
    assert response.status_code == 303
    assert Contact.get_by_id(contact.id).birthday == datetime.date(1900, 1, 1)
    entry = auth.post(f"/accounts/{account.id}/timeline", headers=HTMX, data={
        "kind": "note", "occurred_at": "1900-01-01T00:00", "subject": "Oud archief"})
    assert entry.status_code == 200
    assert TimelineEntry.get(TimelineEntry.subject == "Oud archief").occurred_at.year in (
        1899, 1900)  # the user's time zone moves it into UTC


@pytest.mark.parametrize("method, url, body, field", [
    ("POST", "/api/v1/accounts/{account}/timeline",
     {"kind": "call", "summary": "s", "occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at"),
    ("POST", "/api/v1/accounts/{account}/timeline",
     {"kind": "call", "summary": "s", "occurred_at": "9999-12-31T23:59:00-05:00"}, "occurred_at"),
    ("POST", "/api/v1/accounts/{account}/timeline",
     {"kind": "call", "summary": "s", "occurred_at": "1899-12-31T23:00:00Z"}, "occurred_at"),
    ("PATCH", "/api/v1/timeline/{entry}", {"occurred_at": "0001-01-01T00:00:00+14:00"},
     "occurred_at"),
    ("POST", "/api/v1/tasks", {"account_id": 0, "objective": "o", "due_date": "0001-01-01"},
     "due_date"),
    ("PATCH", "/api/v1/contacts/{contact}", {"birthday": "0001-01-01"}, "birthday"),
], ids=["timeline year 1 +05", "timeline 9999 -05", "timeline 1899", "timeline patch",
        "task due", "contact birthday"])
def test_the_api_refuses_dates_outside_1900_to_2999_with_a_422(api, account, contact, entry,
                                                               method, url, body, field):
    if "account_id" in body:
        body = {**body, "account_id": account.id}
    response = api.request(method, url.format(account=account.id, contact=contact.id,
                                              entry=entry.id), body)
    assert response.status_code == 422
    assert response.json["fields"] == {field: DATE_RANGE}
    assert TimelineEntry.select().count() == 1 and Task.select().count() == 0


# --- every wrong field at once -------------------------------------------------------------

@pytest.mark.parametrize("form", ["new", "edit"])
def test_the_task_form_names_a_bad_date_and_a_bad_contact_together(auth, user, account, form):
    other = make_contact(make_account(user, "Elders"), "Ander")
    task = Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                       objective="Bellen")
    url = f"/tasks/new?account={account.id}" if form == "new" else f"/tasks/{task.id}/edit"
    response = auth.post(url, headers=HTMX, data={
        "objective": "Offerte sturen", "due_date": "morgen", "owner": str(user.id),
        "contact": str(other.id)})
    assert response.status_code == 422
    assert field_error(response, "due_date") == "Enter a date as YYYY-MM-DD."
    assert field_error(response, "contact") == NOT_A_CONTACT
    assert shows_value(response, "morgen")


@pytest.mark.parametrize("contact_id", [424242, "other"])
def test_the_api_names_a_bad_date_and_a_bad_contact_together(api, user, account, contact_id):
    if contact_id == "other":
        contact_id = make_contact(make_account(user, "Elders"), "Ander").id
    response = api.post("/api/v1/tasks", {"account_id": account.id, "objective": "o",
                                          "due_date": "morgen", "contact_id": contact_id})
    assert response.status_code == 422
    assert response.json["fields"] == {"due_date": "Enter a date as YYYY-MM-DD.",
                                       "contact_id": NOT_A_CONTACT}
    task = Task.create(account=account, owner=user, due_date=datetime.date(2030, 1, 1),
                       objective="Bellen")
    patched = api.patch(f"/api/v1/tasks/{task.id}", {"due_date": "morgen",
                                                     "contact_id": contact_id})
    assert patched.status_code == 422
    assert patched.json["fields"] == {"due_date": "Enter a date as YYYY-MM-DD.",
                                      "contact_id": NOT_A_CONTACT}
    assert Task.get_by_id(task.id).contact_id is None


def test_a_task_with_a_contact_of_its_account_is_saved(api, auth, user, account, contact):
    """The other side of the checks above: the contact of the account is accepted."""
    response = api.post("/api/v1/tasks", {"account_id": account.id, "objective": "o",
                                          "due_date": "2030-01-01", "contact_id": contact.id})
    assert response.status_code == 201 and response.json["contact_id"] == contact.id
    form = auth.post(f"/tasks/new?account={account.id}", data={
        "objective": "Bellen", "due_date": "2030-01-01", "owner": str(user.id),
        "contact": str(contact.id)})
    assert form.status_code == 303
    assert Task.get(Task.objective == "Bellen").contact_id == contact.id


# --- a database that does not answer -------------------------------------------------------

def _unreachable(database_url):
    """A database URL of the same kind as the tests' that no server answers."""
    if database_url.startswith("sqlite"):
        return "sqlite:////nonexistent-directory-of-accountable-tests/down.db"
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/no_such_database_of_accountable_tests", query=""))


def test_healthz_with_the_database_down_is_a_generic_503(migrated, caplog):
    from app import create_app
    app = create_app(_config(_unreachable(migrated)))
    try:
        with caplog.at_level(logging.ERROR, logger="routes.main"):
            response = app.test_client().get("/healthz")
    finally:
        db.close_all()
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "routes.main")
    assert "does not exist" in logged or "unable to open" in logged  # the reason is logged


def test_other_pages_with_the_database_down_stay_a_500(migrated):
    from app import create_app
    app = create_app(_config(_unreachable(migrated), TESTING=False))
    try:
        response = app.test_client().get("/search?q=x")
    finally:
        db.close_all()
    assert response.status_code == 500
    assert "nonexistent" not in response.get_data(as_text=True)
    assert "no_such_database" not in response.get_data(as_text=True)


# --- quotes, the catalogue, the inbox, the outbox and administration -----------------------

STALE_QUOTE = ("Someone else changed this quote while you were working on it. Reload the page "
               "to see their version, then apply your change again.")
STALE_PRODUCT = ("Someone else changed this product while you were editing. Your changes are "
                 "below; reload the page to see theirs, then apply yours again.")
NOT_A_PRODUCT = "Choose a product from the catalogue."
NO_MATCH = "That email address and password do not match."
NO_IDS = [HUGE, BEYOND, "²", "abc", "-1", "0"]


@pytest.fixture
def quote(user, account, contact):
    from models.quotes import create_quote
    from test_quotes import add_line
    quote = create_quote(account, user, contact)
    add_line(quote, quantity="1", unit_price="100")
    return Quote.get_by_id(quote.id)


@pytest.fixture
def product():
    from test_quotes import make_product
    return make_product(code="P-100", name="Oak table", category="furniture")


@pytest.fixture
def staff(client, manager):
    """The client, logged in as a manager (who may also see the outbox and approve quotes)."""
    login(client, manager)
    return client


def _line(quote):
    return quote.ordered_lines().get()


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_quote_lines_without_a_readable_version_are_stale(auth, quote, version):
    line = _line(quote)
    data = {f"quantity-{line.id}": "4", f"unit_price-{line.id}": "100",
            f"discount_pct-{line.id}": "0"}
    if version is not None:
        data["version"] = version
    response = auth.post(f"/quotes/{quote.id}/lines", data=data, headers=HTMX)
    assert response.status_code == 409
    assert STALE_QUOTE in text_of(response)
    assert f'name="quantity-{line.id}" size="6" value="4"' in response.get_data(as_text=True)
    assert _line(quote).quantity == 1 and Quote.get_by_id(quote.id).version == quote.version
    saved = auth.post(f"/quotes/{quote.id}/lines", data={**data, "version": str(quote.version)})
    assert saved.status_code == 303 and _line(quote).quantity == 4


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_quote_header_without_a_readable_version_is_stale(auth, quote, version):
    form = form_fields(auth.get(f"/quotes/{quote.id}").get_data(as_text=True),
                       "quote-header-form")
    form.pop("version")
    if version is not None:
        form["version"] = version
    response = auth.post(f"/quotes/{quote.id}/header",
                         data={**form, "payment_terms": "60 dagen netto"}, headers=HTMX)
    assert response.status_code == 409
    assert STALE_QUOTE in text_of(response)
    assert shows_value(response, "60 dagen netto")
    stored = Quote.get_by_id(quote.id)
    assert stored.payment_terms == quote.payment_terms and stored.version == quote.version
    saved = auth.post(f"/quotes/{quote.id}/header", data={
        **form, "payment_terms": "60 dagen netto", "version": str(quote.version)})
    assert saved.status_code == 303
    assert Quote.get_by_id(quote.id).payment_terms == "60 dagen netto"


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
@pytest.mark.parametrize("action, before, after", [
    ("submit", "draft", "approved"),
    ("approve", "awaiting_approval", "approved"),
    ("reject", "awaiting_approval", "draft"),
    ("send", "approved", "sent"),
])
def test_a_quote_action_without_a_readable_version_is_stale(client, user, manager, quote, action,
                                                            before, after, version):
    """The buttons answer a stale version as they always did: back to the quote (303) with the
    stale message, and nothing done. A missing or garbled version is stale too."""
    from models.quotes import submit
    from test_quotes import add_line
    if before == "awaiting_approval":
        add_line(quote, discount="30", cost="10")  # over the limits: a manager approves
    if before != "draft":
        submit(quote, user)
    assert Quote.get_by_id(quote.id).status == before
    login(client, manager if action in ("approve", "reject") else user)
    data = {"comment": "Akkoord"} if action in ("approve", "reject") else {}
    if version is not None:
        data["version"] = version
    url = f"/quotes/{quote.id}/{action}"
    response = client.post(url, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/quotes/{quote.id}")
    assert STALE_QUOTE in text_of(client.get(f"/quotes/{quote.id}"))
    stored = Quote.get_by_id(quote.id)
    assert stored.status == before
    saved = client.post(url, data={**data, "version": str(stored.version)})
    assert saved.status_code == 303 and Quote.get_by_id(quote.id).status == after


def test_the_api_may_still_leave_the_quote_version_out(api, quote):
    """The API documents `version` as optional (the model's default); the web forms send it."""
    patched = api.patch(f"/api/v1/quotes/{quote.id}", {"payment_terms": "14 dagen"})
    assert patched.status_code == 200 and patched.json["payment_terms"] == "14 dagen"
    submitted = api.post(f"/api/v1/quotes/{quote.id}/submit", {})
    assert submitted.status_code == 200 and submitted.json["status"] == "approved"


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_product_edit_without_a_readable_version_is_stale(staff, product, version):
    form = form_fields(staff.get(f"/products/{product.id}/edit").get_data(as_text=True),
                       "product-form")
    form.pop("version")
    if version is not None:
        form["version"] = version
    response = staff.post(f"/products/{product.id}/edit", data={**form, "name": "Eiken tafel"},
                          headers=HTMX)
    assert response.status_code == 409
    assert STALE_PRODUCT in text_of(response)
    assert shows_value(response, "Eiken tafel")
    from models.products import Product
    stored = Product.get_by_id(product.id)
    assert stored.name == "Oak table" and stored.version == product.version
    saved = staff.post(f"/products/{product.id}/edit",
                       data={**form, "name": "Eiken tafel", "version": str(product.version)})
    assert saved.status_code == 303 and Product.get_by_id(product.id).name == "Eiken tafel"


@pytest.mark.parametrize("url", ["/quotes/", "/products/", "/inbox/", "/outbox/"])
@pytest.mark.parametrize("page", [HUGE, BEYOND, "9" * 5000])
def test_a_page_number_no_list_can_reach_is_404_everywhere(staff, url, page):
    assert staff.get(f"{url}?page={page}").status_code == 404
    assert staff.get(f"{url}?page={page}", headers=HTMX).status_code == 404


@pytest.mark.parametrize("url, expected", [
    ("/quotes/", "1 quote"), ("/products/", "1 product"), ("/inbox/", "1 message waiting"),
    ("/outbox/", "1 message")])
@pytest.mark.parametrize("page", ["abc", "²", "-5", "0", "1.5", ""])
def test_a_page_that_is_no_number_is_the_first_everywhere(staff, quote, product, url, expected,
                                                          page):
    from mail.outbox import queue_email
    from test_email_display import inbound_email
    inbound_email(state="triage")
    queue_email(to=["anna@bakkerij.nl"], subject="Offerte", text="Zie bijlage", kind="test")
    response = staff.get(f"{url}?page={page}", headers=HTMX)
    assert response.status_code == 200
    assert expected in text_of(response)


@pytest.mark.parametrize("owner, matches", [(HUGE, False), (BEYOND, False), ("-3", False),
                                            ("abc", True), ("²", True)])
def test_a_quote_owner_filter_no_user_can_match_matches_nobody(auth, quote, owner, matches):
    response = auth.get(f"/quotes/?owner={owner}", headers=HTMX)
    assert response.status_code == 200
    assert ("1 quote" in text_of(response)) is matches
    assert ("0 quotes" in text_of(response)) is not matches


@pytest.mark.parametrize("char", ["%00", "%1B"], ids=["NUL", "ESC"])
@pytest.mark.parametrize("url, expected", [
    ("/quotes/?q=Bak{c}kerij", "1 quote"),
    ("/quotes/?q={number}{c}", "1 quote"),
    ("/quotes/{quote}?q=P-100{c}", "Oak table"),
    ("/quotes/{quote}/products?q=Oak{c}", "Oak table"),
    ("/products/?q=Oak{c}", "1 product"),
    ("/products/?category=furni{c}ture", "1 product"),
    ("/products/export.csv?category=furni{c}ture", "Oak table"),
    ("/inbox/?account_q=Bak{c}kerij", "Bakkerij de Vries"),
    ("/inbox/accounts?account_q=Bak{c}kerij", "Bakkerij de Vries"),
    ("/outbox/?status=queu{c}ed", "1 message"),
])
def test_search_terms_and_filters_drop_control_characters_everywhere(staff, quote, product, char,
                                                                     url, expected):
    from mail.outbox import queue_email
    from test_email_display import inbound_email
    inbound_email(state="triage")
    queue_email(to=["anna@bakkerij.nl"], subject="Offerte", text="Zie bijlage", kind="test")
    response = staff.get(url.format(c=char, number=quote.number, quote=quote.id))
    assert response.status_code == 200
    assert expected in text_of(response)


@pytest.mark.parametrize("char", ["%00", "%1B"], ids=["NUL", "ESC"])
@pytest.mark.parametrize("url", ["/api/v1/products?q=Oak{c}", "/api/v1/products?q=P-100{c}",
                                 "/api/v1/products?category=furni{c}ture"])
def test_api_product_filters_drop_control_characters(api, product, char, url):
    response = api.get(url.format(c=char))
    assert response.status_code == 200
    assert [p["code"] for p in response.json["items"]] == ["P-100"]


@pytest.mark.parametrize("url", [f"/api/v1/products/{HUGE}", f"/api/v1/products/{BEYOND}",
                                 f"/api/v1/accounts/{HUGE}/prices"])
def test_api_product_urls_no_record_can_have_are_404(api, url):
    response = api.get(url)
    assert response.status_code == 404
    assert response.json == {"error": "There is nothing at this address."}


@pytest.mark.parametrize("email, password", [
    ("am@example.com\x00", "wrong horse"), ("am\x00@example.com", "wrong horse"),
    ("\x1bam@example.com", "wrong horse"), ("nobody\x00@example.com", "x"),
    ("am@example.com", "correct\x00horse")], ids=["NUL end", "NUL", "ESC", "unknown", "password"])
def test_login_with_control_characters_is_a_wrong_email_or_password(client, user, email,
                                                                    password):
    from models.users import LoginAttempt
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 422
    assert field_error(response, "password") == NO_MATCH
    assert shows_value(response, email)
    # Counted against the address it reads as: control characters do not escape the throttle.
    assert [a.email for a in LoginAttempt.select()] == [search_term(email).lower()]


@pytest.mark.parametrize("user_id", NO_IDS + [""])
def test_the_user_form_check_reads_an_id_that_names_nobody_as_a_new_user(client, admin, user,
                                                                         user_id):
    login(client, admin)
    data = {"_field": "email", "email": user.email, "name": "Anna"}
    response = client.post("/admin/users/check", data={**data, "user_id": user_id})
    assert response.status_code == 200
    assert field_error(response, "email") == "Another user already has this email address."
    itself = client.post("/admin/users/check", data={**data, "user_id": str(user.id)})
    assert itself.status_code == 200 and field_error(itself, "email") == ""


@pytest.mark.parametrize("product_id", NO_IDS + [""])
def test_the_product_form_check_reads_an_id_that_names_nothing_as_a_new_product(
        staff, product, product_id):
    data = {"_field": "code", "code": "P-100", "name": "Oak table"}
    response = staff.post("/products/check", data={**data, "product_id": product_id})
    assert response.status_code == 200
    assert field_error(response, "code") == "There is already a product with the code P-100."
    itself = staff.post("/products/check", data={**data, "product_id": str(product.id)})
    assert itself.status_code == 200 and field_error(itself, "code") == ""


@pytest.fixture
def mailbox():
    from models.inbound import Mailbox
    return Mailbox.create(name="Verkoop", host="imap.bakkerij.nl", port=993, security="ssl",
                          username="verkoop", password="geheim", folders="INBOX")


@pytest.mark.parametrize("mailbox_id", NO_IDS + [""])
def test_the_mailbox_form_check_reads_an_id_that_names_nothing_as_a_new_mailbox(
        client, admin, mailbox, mailbox_id):
    """A new mailbox needs a password; the stored one counts only for the mailbox named."""
    login(client, admin)
    data = {"_field": "password", "name": "Verkoop", "host": "imap.bakkerij.nl", "port": "993",
            "security": "ssl", "username": "verkoop", "since_days": "90", "password": ""}
    response = client.post("/mailboxes/check", data={**data, "mailbox_id": mailbox_id})
    assert response.status_code == 200
    assert field_error(response, "password") == "Enter the password of this mailbox."
    itself = client.post("/mailboxes/check", data={**data, "mailbox_id": str(mailbox.id)})
    assert itself.status_code == 200 and field_error(itself, "password") == ""


@pytest.mark.parametrize("port", ["²", HUGE, "65536", "0", "abc", ""])
def test_the_mailbox_connection_test_refuses_a_port_that_is_no_port(client, admin, mailbox,
                                                                   port):
    """Answered before any connection is tried (imap.bakkerij.nl is never looked up)."""
    login(client, admin)
    response = client.post("/mailboxes/test", data={
        "mailbox_id": "²", "host": "imap.bakkerij.nl", "port": port, "security": "ssl",
        "username": "verkoop", "password": ""}, headers=HTMX)
    assert response.status_code == 200
    assert "Enter the server and its port first." in text_of(response)


@pytest.mark.parametrize("contact_id", NO_IDS)
def test_writing_to_a_contact_id_that_names_nobody_starts_an_empty_message(auth, account,
                                                                          contact, contact_id):
    response = auth.get(f"/accounts/{account.id}/write", query_string={"contact": contact_id})
    assert response.status_code == 200
    assert form_fields(response.get_data(as_text=True), "compose-form")["to"] == ""
    named = auth.get(f"/accounts/{account.id}/write", query_string={"contact": contact.id})
    assert form_fields(named.get_data(as_text=True), "compose-form")["to"] == "anna@bakkerij.nl"


@pytest.mark.parametrize("account_id", NO_IDS)
def test_the_inbox_account_choice_that_names_no_account_is_no_choice(auth, account, account_id):
    from test_email_display import inbound_email
    inbound_email(state="triage")
    response = auth.get("/inbox/", query_string={"account_id": account_id})
    assert response.status_code == 200
    assert "Bakkerij de Vries" not in text_of(response)
    chosen = auth.get("/inbox/", query_string={"account_id": account.id})
    assert chosen.status_code == 200 and "Bakkerij de Vries" in text_of(chosen)


@pytest.mark.parametrize("message_id", NO_IDS)
def test_assigning_messages_that_no_message_can_be_is_refused(auth, account, message_id):
    from models.emails import Email
    from test_email_display import inbound_email
    waiting = inbound_email(state="triage")
    response = auth.post("/inbox/assign", data={"ids": [message_id],
                                                "account_id": str(account.id)}, headers=HTMX)
    assert response.status_code == 422
    assert "Tick the messages to assign first." in text_of(response)
    dismissed = auth.post("/inbox/dismiss", data={"only": message_id})
    assert dismissed.status_code == 303
    assert "Tick the messages to dismiss first." in text_of(auth.get("/inbox/"))
    assert Email.get_by_id(waiting.id).inbound_state == "triage"


@pytest.mark.parametrize("account_id", NO_IDS)
@pytest.mark.parametrize("back", ["", "²", HUGE, "message"])
def test_assigning_to_an_account_id_that_names_no_account_is_refused_at_the_field(
        auth, account, account_id, back):
    from models.emails import Email
    from test_email_display import inbound_email
    waiting = inbound_email(state="triage")
    if back == "message":
        back = str(waiting.id)
    response = auth.post("/inbox/assign", data={"ids": [str(waiting.id)], "account_id": account_id,
                                                "account_q": "Bakk", "back": back}, headers=HTMX)
    assert response.status_code == 422
    assert field_error(response, "account_id") == "Choose the account this message belongs to."
    assert shows_value(response, "Bakk")
    assert Email.get_by_id(waiting.id).inbound_state == "triage"


@pytest.mark.parametrize("product_id", NO_IDS)
def test_adding_a_product_id_that_names_no_product_is_refused(auth, quote, product, product_id):
    line = _line(quote)
    response = auth.post(f"/quotes/{quote.id}/lines", headers=HTMX, data={
        "version": str(quote.version), f"quantity-{line.id}": "3", "add_product": product_id})
    assert response.status_code == 422
    assert NOT_A_PRODUCT in text_of(response)
    assert f'name="quantity-{line.id}" size="6" value="3"' in response.get_data(as_text=True)
    assert [(line.description, line.quantity) for line in quote.ordered_lines()] == \
        [("Consulting", 1)]


@pytest.mark.parametrize("remove", NO_IDS)
def test_removing_a_line_id_that_names_no_line_removes_nothing(auth, quote, remove):
    line = _line(quote)
    response = auth.post(f"/quotes/{quote.id}/lines", data={
        "version": str(quote.version), f"quantity-{line.id}": "2", "remove": [remove]})
    assert response.status_code == 303
    assert [(line.id, line.quantity) for line in quote.ordered_lines()] == [(line.id, 2)]


# What the new-record forms need besides the field under test, so that only it is wrong.
FILLED = {"code": "P-200", "name": "Ladekast", "list_price": "10", "cost_price": "5",
          "email": "piet@bakkerij.nl", "password": "lang genoeg wachtwoord",
          "host": "imap.bakkerij.nl", "username": "verkoop"}


@pytest.mark.parametrize("url, form_id, field, typed", [
    ("/products/new", "product-form", "name", "Eiken\x00 tafel"),
    ("/products/{product}/edit", "product-form", "category", "meu\x00bels"),
    ("/quotes/{quote}", "quote-header-form", "payment_terms", "30 dagen\x00"),
    ("/admin/users/new", "user-form", "name", "Piet\x00 Bakker"),
    ("/admin/users/new", "user-form", "email", "piet\x00@bakkerij.nl"),
    ("/mailboxes/new", "mailbox-form", "host", "imap.\x00bakkerij.nl"),
    ("/mailboxes/new", "mailbox-form", "folders", "INBOX,\x00Sent"),
    ("/settings/company", "company-form", "address", "Dorpsstraat 1\x00"),
], ids=["product new", "product edit", "quote header", "user name", "user email",
        "mailbox host", "mailbox folders", "company address"])
def test_nul_in_the_other_forms_is_refused_at_the_field(client, admin, quote, product, url,
                                                        form_id, field, typed):
    login(client, admin)
    url = url.format(product=product.id, quote=quote.id)
    form = form_fields(client.get(url).get_data(as_text=True), form_id)
    post = f"/quotes/{quote.id}/header" if form_id == "quote-header-form" else url
    data = {**form, **{k: v for k, v in FILLED.items() if k in form}, field: typed}
    response = client.post(post, data=data, headers=HTMX)
    assert response.status_code == 422
    assert field_error(response, field) == CONTROL
    assert shows_value(response, typed)
