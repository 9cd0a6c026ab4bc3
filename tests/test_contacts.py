"""Contacts: the list, the contact page, creating, editing and deleting, the DMU rules."""
import datetime
import re

import pytest
from playhouse.test_utils import count_queries

from conftest import login, make_account, make_contact, make_entry, make_user, text_of
from models.contacts import Contact, ContactEmail, emails_by_contact
from models.db import utcnow
from models.tasks import Task
from models.timeline import TimelineParticipant

HX = {"HX-Request": "true"}


def form_of(**fields):
    data = {"first_name": "Maria", "last_name": "Papadopoulou", "position": "Buyer",
            "dmu_role": "buyer", "emails": "maria@example.gr", "phone": "+30 210 123 4567",
            "mobile": "", "language": "", "birthday": "1980-05-17",
            "personal_notes": "Two children; sails on weekends.", "consent_source": ""}
    data.update(fields)
    return data


@pytest.fixture
def account(user):
    return make_account(user)


# --- the list ------------------------------------------------------------------------------

def test_list_is_a_page_or_a_fragment_on_the_same_url(auth, account):
    make_contact(account, last_name="Jansen", emails="anna@jansen.nl")
    page = auth.get("/contacts/")
    assert page.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    assert "Anna Jansen" in text_of(page)

    part = auth.get("/contacts/", headers=HX)
    assert part.status_code == 200
    assert "<html" not in part.get_data(as_text=True)
    assert "HX-Request" in part.headers["Vary"]
    assert "Anna Jansen" in text_of(part)
    assert "anna@jansen.nl" in text_of(part)

    boosted = auth.get("/contacts/", headers={**HX, "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)
    restore = auth.get("/contacts/", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_list_row_shows_position_account_role_email_phone_and_last_contact(auth, user, account):
    contact = make_contact(account, last_name="Visser", position="Head of purchasing",
                           dmu_role="decision_maker", emails="p.visser@devries.nl, pv@home.nl",
                           phone="+31 20 555 0101")
    make_entry(account, user, days_ago=5, contacts=[contact.id])
    text = text_of(auth.get("/contacts/", headers=HX))
    for expected in ("Anna Visser", "Head of purchasing", account.name, "Decision maker",
                     "p.visser@devries.nl", "+31 20 555 0101", "5 days ago"):
        assert expected in text
    assert "pv@home.nl" not in text  # only the main address in the row


def test_list_without_contacts_says_what_to_do(auth):
    assert "No contacts yet" in text_of(auth.get("/contacts/"))


def test_search_by_name_ignores_accents_and_case(auth, account):
    make_contact(account, first_name="Jürgen", last_name="Müller")
    make_contact(account, last_name="Smit")
    text = text_of(auth.get("/contacts/?q=muller", headers=HX))
    assert "Jürgen Müller" in text
    assert "Smit" not in text
    assert "Jürgen Müller" in text_of(auth.get("/contacts/?q=MÜLL", headers=HX))


def test_search_by_email_and_by_phone_digits(auth, account):
    make_contact(account, last_name="Mail", emails="someone@bakery.example")
    make_contact(account, last_name="Phone", phone="+31 (20) 123-4567")
    by_email = text_of(auth.get("/contacts/?q=someone@bak", headers=HX))
    assert "Anna Mail" in by_email and "Anna Phone" not in by_email
    by_phone = text_of(auth.get("/contacts/?q=20 1234", headers=HX))
    assert "Anna Phone" in by_phone and "Anna Mail" not in by_phone
    assert "No contacts match" in text_of(auth.get("/contacts/?q=nobody-here", headers=HX))


def test_filter_by_dmu_role(auth, account):
    make_contact(account, last_name="Decider", dmu_role="decision_maker")
    make_contact(account, last_name="Guard", dmu_role="gatekeeper")
    make_contact(account, last_name="Unknown")
    text = text_of(auth.get("/contacts/?dmu_role=gatekeeper", headers=HX))
    assert "Anna Guard" in text and "Decider" not in text and "Unknown" not in text
    text = text_of(auth.get("/contacts/?dmu_role=none", headers=HX))
    assert "Anna Unknown" in text and "Guard" not in text and "Decider" not in text
    # An unknown role is no filter rather than an error.
    assert "1 contact" not in text_of(auth.get("/contacts/?dmu_role=bogus", headers=HX))


def test_filter_by_owner_of_the_account(auth, user, account):
    colleague = make_user("colleague@example.com", name="Carl Colleague")
    theirs = make_account(colleague, name="Their Account")
    make_contact(account, last_name="Mine")
    make_contact(theirs, last_name="Theirs")
    text = text_of(auth.get(f"/contacts/?owner={user.id}", headers=HX))
    assert "Anna Mine" in text and "Theirs" not in text
    text = text_of(auth.get(f"/contacts/?owner={colleague.id}", headers=HX))
    assert "Anna Theirs" in text and "Mine" not in text
    page = text_of(auth.get("/contacts/"))
    assert "My accounts" in page and "Carl Colleague" in page


def test_sort_by_name_and_by_last_contact(auth, user, account):
    recent = make_contact(account, first_name="Zoe", last_name="Recent")
    old = make_contact(account, first_name="Adam", last_name="Old")
    make_contact(account, first_name="Mia", last_name="Never")
    make_entry(account, user, days_ago=1, contacts=[recent.id])
    make_entry(account, user, days_ago=40, contacts=[old.id])

    def order(url):
        html = auth.get(url, headers=HX).get_data(as_text=True)
        return re.findall(r'class="primary" href="/contacts/\d+">([^<]+)<', html)

    assert order("/contacts/") == ["Adam Old", "Mia Never", "Zoe Recent"]
    assert order("/contacts/?sort=-name") == ["Zoe Recent", "Mia Never", "Adam Old"]
    # Longest ago first (never contacted before all), or the most recent first.
    assert order("/contacts/?sort=last_contact") == ["Mia Never", "Adam Old", "Zoe Recent"]
    assert order("/contacts/?sort=-last_contact") == ["Zoe Recent", "Adam Old", "Mia Never"]


def test_pagination(auth, account):
    for i in range(30):
        make_contact(account, last_name=f"Person{i:02d}")
    first = auth.get("/contacts/", headers=HX).get_data(as_text=True)
    assert "30 contacts" in first
    assert "Page 1 of 2" in first
    assert "Person24" in first and "Person25" not in first
    assert 'href="/contacts/?page=2"' in first
    second = text_of(auth.get("/contacts/?page=2", headers=HX))
    assert "Person25" in second and "Person29" in second and "Person24" not in second
    assert "Page 2 of 2" in second


def test_list_does_a_fixed_number_of_queries(auth, user, account):
    def queries(**headers):
        with count_queries() as counter:
            response = auth.get("/contacts/?sort=-last_contact", headers=headers)
        assert response.status_code == 200
        return counter.count

    make_contact(account, last_name="First", emails="a@one.example, b@one.example")
    with_one = queries(**HX), queries()
    other = make_account(user, name="Other account")
    for i in range(12):
        contact = make_contact(other if i % 2 else account, last_name=f"More{i}",
                               emails=f"m{i}@x.example", dmu_role="buyer")
        make_entry(contact.account, user, contacts=[contact.id])
    assert (queries(**HX), queries()) == with_one


# --- the contact page ----------------------------------------------------------------------

def test_contact_page_shows_details(auth, user, account):
    contact = make_contact(account, first_name="Piet", last_name="de Boer", position="CFO",
                           dmu_role="decision_maker", emails="piet@devries.nl, p@boer.nl",
                           phone="+31 20 555 0199", mobile="06 1234 5678", language="en",
                           birthday="1975-03-02", personal_notes="Plays golf; daughter Eva.",
                           newsletter_consent="1", consent_source="verbal")
    response = auth.get(f"/contacts/{contact.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    for expected in ("Piet de Boer", "CFO", "Decision maker", account.name, "English",
                     "Plays golf; daughter Eva.", "In a conversation"):
        assert expected in text
    assert re.search(r"Birthday (2 March 1975|March 2, 1975)", text)  # en or en_GB
    assert 'href="mailto:piet@devries.nl"' in html and 'href="mailto:p@boer.nl"' in html
    assert 'href="tel:+31205550199"' in html and 'href="tel:0612345678"' in html
    assert f'href="/accounts/{account.id}"' in html
    assert "Last contact: never" in text


def test_contact_page_language_defaults_to_the_accounts(auth, account):
    contact = make_contact(account)
    assert "Nederlands (the account's)" in text_of(auth.get(f"/contacts/{contact.id}"))


def test_last_contact_is_derived_from_the_timeline(auth, user, account):
    contact = make_contact(account)
    other = make_contact(account, last_name="Other")
    entry = make_entry(account, user, days_ago=5, contacts=[contact.id], subject="Price talk")
    make_entry(account, user, kind="note", days_ago=2, contacts=[contact.id], subject="A note")
    make_entry(account, user, days_ago=1, contacts=[other.id], subject="Not with Anna")
    contact = Contact.get_by_id(contact.id)
    assert contact.last_contact_at == entry.occurred_at  # a note is not a contact moment
    text = text_of(auth.get(f"/contacts/{contact.id}"))
    assert "Last contact: 5 days ago" in text
    assert "Price talk" in text and "A note" in text
    assert "Not with Anna" not in text


def test_contact_timeline_is_newest_first_and_pages_with_show_older(auth, user, account):
    contact = make_contact(account)
    for days in range(25):
        make_entry(account, user, days_ago=days, contacts=[contact.id], subject=f"Moment {days:02d}")
    html = auth.get(f"/contacts/{contact.id}").get_data(as_text=True)
    subjects = re.findall(r'class="subject">(Moment \d+)<', html)
    assert subjects == [f"Moment {d:02d}" for d in range(20)]
    more = re.search(r'hx-get="(/contacts/\d+/timeline/more\?before=[^"]+)"', html)
    assert more and "Show older" in html
    older = auth.get(more.group(1).replace("&amp;", "&"), headers=HX)
    assert older.status_code == 200
    assert "<html" not in older.get_data(as_text=True)
    assert re.findall(r'class="subject">(Moment \d+)<', older.get_data(as_text=True)) == \
        [f"Moment {d:02d}" for d in range(20, 25)]
    assert "Show older" not in older.get_data(as_text=True)
    # Without JavaScript the same control is a link to the page from that point on.
    plain = re.search(r'href="(/contacts/\d+\?before=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "Moment 24" in text_of(auth.get(plain))


def test_contact_page_lists_open_tasks_with_this_contact(auth, user, account):
    contact = make_contact(account)
    other = make_contact(account, last_name="Other")
    today = datetime.date.today()
    Task.create(account=account, contact=contact, owner=user, due_date=today,
                objective="Send the catalogue")
    Task.create(account=account, contact=other, owner=user, due_date=today,
                objective="Call the other one")
    Task.create(account=account, contact=contact, owner=user, due_date=today,
                objective="Already done", done=True)
    text = text_of(auth.get(f"/contacts/{contact.id}"))
    assert "Send the catalogue" in text
    assert "Call the other one" not in text and "Already done" not in text


def test_unknown_contact_is_404(auth):
    for url in ("/contacts/999", "/contacts/999/edit", "/contacts/999/timeline/more"):
        assert auth.get(url).status_code == 404
    assert auth.post("/contacts/999/delete").status_code == 404
    assert auth.get("/contacts/new/999").status_code == 404


def test_contacts_need_a_login(client, account):
    contact = make_contact(account)
    response = client.get(f"/contacts/{contact.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- creating, editing, deleting -----------------------------------------------------------

def test_create_contact(auth, account):
    form = auth.get(f"/contacts/new/{account.id}")
    assert form.status_code == 200
    assert 'name="last_name"' in form.get_data(as_text=True)
    response = auth.post(f"/contacts/new/{account.id}",
                         data=form_of(emails="maria@example.gr\nMaria.P@Home.example"))
    assert response.status_code == 303
    contact = Contact.get(Contact.last_name == "Papadopoulou")
    assert response.headers["Location"].endswith(f"/contacts/{contact.id}")
    assert contact.account_id == account.id
    assert contact.dmu_role == "buyer"
    assert emails_by_contact([contact])[contact.id] == ["maria@example.gr", "maria.p@home.example"]
    assert contact.birthday == datetime.date(1980, 5, 17)
    assert contact.language is None
    assert contact.personal_notes == "Two children; sails on weekends."
    assert contact.newsletter_consent is False and contact.consent_at is None
    assert "Maria Papadopoulou added" in text_of(auth.get(response.headers["Location"]))


def test_create_from_an_htmx_form_redirects_with_hx_redirect(auth, account):
    response = auth.post(f"/contacts/new/{account.id}", data=form_of(), headers=HX)
    contact = Contact.get(Contact.last_name == "Papadopoulou")
    assert response.headers["HX-Redirect"] == f"/contacts/{contact.id}"


def test_create_with_bad_input_keeps_it_and_says_why(auth, account):
    response = auth.post(f"/contacts/new/{account.id}", headers=HX, data=form_of(
        last_name="", emails="maria@example.gr, not-an-address", birthday="next tuesday",
        personal_notes="Keep this text"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert re.search(r'id="last_name-error"[^>]*>This field is required\.<', html)
    assert re.search(r'id="emails-error"[^>]*>This is not a valid email address: not-an-address<',
                     html)
    assert re.search(r'id="birthday-error"[^>]*>Enter a date as YYYY-MM-DD\.<', html)
    assert "Keep this text" in html and "maria@example.gr, not-an-address" in html
    assert 'value="next tuesday"' in html
    assert Contact.select().count() == 0
    # Without htmx the whole page comes back, also with 422.
    page = auth.post(f"/contacts/new/{account.id}", data=form_of(last_name=""))
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)


def test_birthday_in_the_future_is_refused(auth, account):
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    response = auth.post(f"/contacts/new/{account.id}", data=form_of(birthday=tomorrow.isoformat()))
    assert response.status_code == 422
    assert "A birthday cannot lie in the future." in text_of(response)


def test_inline_check_answers_the_fields_message(auth):
    bad = auth.post("/contacts/check", data={**form_of(emails="nope"), "_field": "emails"},
                    headers=HX)
    assert bad.status_code == 200
    assert 'id="emails-error"' in bad.get_data(as_text=True)
    assert "This is not a valid email address: nope" in text_of(bad)
    # Another field's problem is not this field's message.
    good = auth.post("/contacts/check", data={**form_of(emails="nope"), "_field": "phone"},
                     headers=HX)
    assert 'id="phone-error"' in good.get_data(as_text=True)
    assert text_of(good) == ""
    phone = auth.post("/contacts/check", data={**form_of(phone="call me"), "_field": "phone"},
                      headers=HX)
    assert "Enter a phone number with digits" in text_of(phone)


def test_form_fields_carry_the_inline_check(auth, account):
    html = auth.get(f"/contacts/new/{account.id}").get_data(as_text=True)
    assert 'hx-post="/contacts/check"' in html
    assert '"_field": "emails"' in html


def test_edit_contact(auth, account):
    contact = make_contact(account, emails="old@example.com", dmu_role="user")
    page = auth.get(f"/contacts/{contact.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "old@example.com" in html and 'name="version" value="1"' in html
    response = auth.post(f"/contacts/{contact.id}/edit", data=form_of(
        first_name="Anna", last_name="Jansen-Bos", emails="new@example.com", dmu_role="champion",
        version="1"))
    assert response.status_code == 303
    contact = Contact.get_by_id(contact.id)
    assert (contact.last_name, contact.dmu_role, contact.version) == ("Jansen-Bos", "champion", 2)
    assert emails_by_contact([contact])[contact.id] == ["new@example.com"]
    assert ContactEmail.select().where(ContactEmail.email == "old@example.com").count() == 0


def test_edit_with_bad_input_is_422(auth, account):
    contact = make_contact(account)
    response = auth.post(f"/contacts/{contact.id}/edit", headers=HX,
                         data=form_of(last_name="", version="1"))
    assert response.status_code == 422
    assert "This field is required." in text_of(response)
    assert Contact.get_by_id(contact.id).last_name == "Jansen"


def test_stale_edit_is_409_with_the_users_input(auth, account):
    contact = make_contact(account)
    auth.post(f"/contacts/{contact.id}/edit", data=form_of(last_name="First", version="1"))
    response = auth.post(f"/contacts/{contact.id}/edit", headers=HX,
                         data=form_of(last_name="Second", personal_notes="mine", version="1"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else changed this contact" in html
    assert 'value="Second"' in html and "mine" in html
    assert Contact.get_by_id(contact.id).last_name == "First"


def test_consent_is_time_stamped_when_ticked_and_cleared_when_unticked(auth, account):
    contact = make_contact(account)
    assert contact.consent_at is None
    before = utcnow() - datetime.timedelta(seconds=1)
    auth.post(f"/contacts/{contact.id}/edit", data=form_of(
        newsletter_consent="1", consent_source="form", version="1"))
    contact = Contact.get_by_id(contact.id)
    assert contact.newsletter_consent is True and contact.consent_source == "form"
    assert contact.consent_at is not None and contact.consent_at >= before
    given = contact.consent_at
    # Saving again keeps the original moment of consent.
    auth.post(f"/contacts/{contact.id}/edit", data=form_of(
        newsletter_consent="1", consent_source="form", position="Director", version="2"))
    assert Contact.get_by_id(contact.id).consent_at == given
    assert "Web or paper form" in text_of(auth.get(f"/contacts/{contact.id}"))
    # Unticking (an unchecked box sends nothing) withdraws it.
    auth.post(f"/contacts/{contact.id}/edit", data=form_of(version="3"))
    contact = Contact.get_by_id(contact.id)
    assert contact.newsletter_consent is False and contact.consent_at is None
    assert "No consent" in text_of(auth.get(f"/contacts/{contact.id}"))


def test_delete_contact(auth, user, account):
    contact = make_contact(account, emails="gone@example.com")
    entry = make_entry(account, user, contacts=[contact.id])
    task = Task.create(account=account, contact=contact, owner=user,
                       due_date=datetime.date.today(), objective="Follow up")
    edit = text_of(auth.get(f"/contacts/{contact.id}/edit"))
    assert "This deletes Anna Jansen with their email addresses" in edit
    response = auth.post(f"/contacts/{contact.id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/accounts/{account.id}")
    assert Contact.get_or_none(Contact.id == contact.id) is None
    assert ContactEmail.select().count() == 0
    assert TimelineParticipant.select().count() == 0
    assert Task.get_by_id(task.id).contact_id is None  # the task stays, without the contact
    assert entry.__class__.get_by_id(entry.id).account_id == account.id
    assert auth.get(f"/contacts/{contact.id}").status_code == 404


def test_delete_needs_post(auth, account):
    contact = make_contact(account)
    assert auth.get(f"/contacts/{contact.id}/delete").status_code == 405
    assert Contact.get_or_none(Contact.id == contact.id) is not None


def test_only_who_may_edit_the_account_changes_its_contacts(client, user, account):
    stranger = make_user("stranger@example.com")
    contact = make_contact(account)
    login(client, stranger)
    assert client.get(f"/contacts/{contact.id}").status_code == 200  # reading is fine
    assert client.get(f"/contacts/new/{account.id}").status_code == 403
    assert client.post(f"/contacts/new/{account.id}", data=form_of()).status_code == 403
    assert client.get(f"/contacts/{contact.id}/edit").status_code == 403
    assert client.post(f"/contacts/{contact.id}/edit",
                       data=form_of(version="1")).status_code == 403
    assert client.post(f"/contacts/{contact.id}/delete").status_code == 403
    assert Contact.select().count() == 1
    assert Contact.get_by_id(contact.id).last_name == "Jansen"
    assert f'href="/contacts/{contact.id}/edit"' not in \
        client.get(f"/contacts/{contact.id}").get_data(as_text=True)


def test_team_member_and_manager_may_edit(client, user, manager, account):
    from models.accounts import set_team_member
    member = make_user("member@example.com")
    set_team_member(account, member, "technical sales")
    contact = make_contact(account)
    for person in (member, manager):
        login(client, person)
        assert client.get(f"/contacts/{contact.id}/edit").status_code == 200
    response = client.post(f"/contacts/new/{account.id}", data=form_of())
    assert response.status_code == 303


def test_changes_without_csrf_token_are_refused(auth, account):
    contact = make_contact(account)
    assert auth.post(f"/contacts/new/{account.id}", data=form_of(),
                     csrf=False).status_code == 400
    assert auth.post(f"/contacts/{contact.id}/edit", data=form_of(version="1"),
                     csrf=False).status_code == 400
    assert auth.post(f"/contacts/{contact.id}/delete", csrf=False).status_code == 400
    assert Contact.select().count() == 1
    assert Contact.get_by_id(contact.id).last_name == "Jansen"


def test_markup_in_every_text_field_is_escaped(auth, user, account):
    evil = "<script>alert(1)</script>"
    contact = make_contact(account, first_name=evil, last_name=evil + "Evil", position=evil,
                           personal_notes=evil)
    Task.create(account=account, contact=contact, owner=user, due_date=datetime.date.today(),
                objective=evil)
    make_entry(account, user, contacts=[contact.id], subject=evil, summary=evil)
    for url in ("/contacts/", "/contacts/?q=evil", f"/contacts/{contact.id}",
                f"/contacts/{contact.id}/edit", "/search?q=evil"):
        html = auth.get(url).get_data(as_text=True)
        assert "Evil" in html, url
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_ids_beyond_the_database_range_are_404_not_a_database_error(auth, user, account):
    huge = 2**40
    contact = make_contact(account)
    for url in (f"/contacts/{huge}", f"/contacts/{huge}/edit", f"/contacts/{huge}/timeline/more",
                f"/contacts/new/{huge}"):
        assert auth.get(url).status_code == 404, url
    assert auth.post(f"/contacts/{huge}/delete").status_code == 404
    listed = auth.get(f"/contacts/?owner={huge}", headers=HX)
    assert listed.status_code == 200 and "0 contacts" in text_of(listed)  # nobody owns those
    older = auth.get(f"/contacts/{contact.id}/timeline/more?before=2026-01-01T00:00:00_{huge}",
                     headers=HX)
    assert older.status_code == 200


def test_an_address_that_bounces_is_marked_on_the_contact_and_in_the_dmu(auth, account):
    contact = make_contact(account, first_name="Ingrid", last_name="Hendriks",
                           emails="ingrid@zuiderhuis.example, i.hendriks@zuiderhuis.example")
    (ContactEmail.update(bouncing=True)
     .where(ContactEmail.email == "ingrid@zuiderhuis.example").execute())

    page = auth.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert re.search(r"ingrid@zuiderhuis\.example</a> <span class=\"chip bouncing\"", page)
    assert not re.search(r"i\.hendriks@zuiderhuis\.example</a> <span class=\"chip bouncing\"",
                         page)
    dmu = auth.get(f"/accounts/{account.id}").get_data(as_text=True)
    assert re.search(r"ingrid@zuiderhuis\.example <span class=\"chip bouncing\"", dmu)

    ContactEmail.update(bouncing=False).execute()
    assert "chip bouncing" not in auth.get(f"/contacts/{contact.id}").get_data(as_text=True)
