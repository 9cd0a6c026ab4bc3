"""Contacts in the API: the contract's fields, filters, create, read, update, rights, versions."""
import datetime

from conftest import make_account, make_contact, make_user
from models.contacts import Contact
from test_api import ISO_MOMENT, api  # noqa: F401  (api is a fixture)

CONTRACT = {"id", "account_id", "name", "emails", "dmu_role", "language", "newsletter_consent"}


def test_the_list_speaks_the_contract(api, user):
    account = make_account(user)
    contact = make_contact(account, first_name="Anna", last_name="Jansen",
                           emails="anna@devries.nl, a.jansen@devries.nl", dmu_role="buyer",
                           birthday="1980-02-29", newsletter_consent="1", consent_source="form")
    item = api.get("/api/v1/contacts").json["items"][0]
    assert CONTRACT <= set(item)
    assert (item["id"], item["account_id"], item["name"]) == (contact.id, account.id, "Anna Jansen")
    assert item["emails"] == ["anna@devries.nl", "a.jansen@devries.nl"]
    assert (item["dmu_role"], item["language"]) == ("buyer", None)
    assert item["newsletter_consent"] is True
    assert ISO_MOMENT.match(item["consent_at"])
    assert item["birthday"] == "1980-02-29"
    assert item["version"] == 1


def test_the_list_filters_by_account_and_address(api, user):
    first = make_account(user, name="First")
    second = make_account(user, name="Second")
    make_contact(first, last_name="Eerste", emails="een@first.nl")
    make_contact(second, last_name="Tweede", emails="twee@second.nl")

    def names(query):
        response = api.get(f"/api/v1/contacts?{query}")
        assert response.status_code == 200, response.json
        return [c["last_name"] for c in response.json["items"]]

    assert names(f"account_id={second.id}") == ["Tweede"]
    assert names("email=EEN@first.nl") == ["Eerste"]
    assert names("") == ["Eerste", "Tweede"]
    assert api.get("/api/v1/contacts?account_id=abc").status_code == 400


def test_create(api, user):
    account = make_account(user)
    response = api.post("/api/v1/contacts", {
        "account_id": account.id, "first_name": "Giulia", "last_name": "Bianchi",
        "emails": ["Giulia@Bianchi.it"], "dmu_role": "decision_maker", "language": "it",
        "birthday": "1975-06-01", "newsletter_consent": True, "consent_source": "verbal",
        "phone": "+39 06 1234 5678"})
    assert response.status_code == 201, response.json
    created = response.json
    assert response.headers["Location"].endswith(f"/api/v1/contacts/{created['id']}")
    assert (created["name"], created["emails"]) == ("Giulia Bianchi", ["giulia@bianchi.it"])
    assert (created["dmu_role"], created["language"], created["birthday"]) == \
        ("decision_maker", "it", "1975-06-01")
    assert created["newsletter_consent"] is True and created["consent_at"]
    contact = Contact.get_by_id(created["id"])
    assert contact.account_id == account.id
    assert contact.birthday == datetime.date(1975, 6, 1)
    assert api.get(f"/api/v1/contacts/{contact.id}").json == created


def test_create_refuses_bad_input_with_a_message_per_field(api, user):
    response = api.post("/api/v1/contacts", {
        "account_id": 999, "last_name": "", "emails": ["not-an-address"],
        "dmu_role": "boss", "birthday": "01-02-1980", "newsletter_consent": "yes please"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"account_id", "last_name", "emails", "dmu_role",
                                            "birthday", "newsletter_consent"}
    assert "not-an-address" in response.json["fields"]["emails"]
    assert "YYYY-MM-DD" in response.json["fields"]["birthday"]
    assert Contact.select().count() == 0


def test_patch_changes_only_what_was_sent_and_times_consent(api, user):
    account = make_account(user)
    contact = make_contact(account, last_name="Jansen", emails="anna@devries.nl",
                           position="Buyer")
    url = f"/api/v1/contacts/{contact.id}"
    response = api.patch(url, {"newsletter_consent": True, "dmu_role": "champion"})
    assert response.status_code == 200, response.json
    item = response.json
    assert (item["newsletter_consent"], item["dmu_role"], item["position"]) == \
        (True, "champion", "Buyer")
    assert item["emails"] == ["anna@devries.nl"]
    assert ISO_MOMENT.match(item["consent_at"])
    assert item["version"] == 2
    withdrawn = api.patch(url, {"newsletter_consent": False, "dmu_role": None}).json
    assert (withdrawn["newsletter_consent"], withdrawn["consent_at"], withdrawn["dmu_role"]) == \
        (False, None, None)


def test_a_contact_stays_with_its_account(api, user):
    contact = make_contact(make_account(user))
    other = make_account(user, name="Other")
    response = api.patch(f"/api/v1/contacts/{contact.id}", {"account_id": other.id})
    assert response.status_code == 400
    assert set(response.json["fields"]) == {"account_id"}


def test_a_stale_version_is_409(api, user):
    contact = make_contact(make_account(user), last_name="Jansen")
    url = f"/api/v1/contacts/{contact.id}"
    assert api.patch(url, {"last_name": "de Jong", "version": 1}).status_code == 200
    stale = api.patch(url, {"last_name": "Lost", "version": 1})
    assert stale.status_code == 409
    assert Contact.get_by_id(contact.id).last_name == "de Jong"


def test_only_who_may_change_the_account_may_change_its_people(api, user, manager):
    colleague = make_user("mario@example.com")
    account = make_account(colleague)
    contact = make_contact(account, last_name="Rossi")
    assert api.get(f"/api/v1/contacts/{contact.id}").status_code == 200
    assert api.patch(f"/api/v1/contacts/{contact.id}", {"last_name": "X"}).status_code == 403
    refused = api.post("/api/v1/contacts", {"account_id": account.id, "last_name": "New"})
    assert refused.status_code == 403
    assert Contact.select().count() == 1
    boss = api.as_user(manager)
    assert boss.patch(f"/api/v1/contacts/{contact.id}", {"last_name": "Verdi"}).status_code == 200
