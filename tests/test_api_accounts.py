"""Accounts in the API: the contract's fields, filters, create, read, update, rights, versions."""
from conftest import make_account, make_entry, make_user
from models.accounts import Account, set_team_member
from test_api import ISO_MOMENT, all_pages, api  # noqa: F401  (api is a fixture)

CONTRACT = {"id", "name", "stage", "size_class", "owner", "email_domains", "language", "currency"}


def test_the_list_speaks_the_contract(api, user):
    colleague = make_user("mario@example.com", name="Mario Rossi")
    account = make_account(user, name="Bakkerij de Vries", email_domains="devries.nl, bakker.nl",
                           tags="gold, north", stand_in=str(colleague.id), city="Utrecht")
    set_team_member(account, colleague, "technical sales")
    make_entry(account, user, kind="call", days_ago=2)
    item = api.get("/api/v1/accounts").json["items"][0]
    assert CONTRACT <= set(item)
    assert item["id"] == account.id
    assert (item["name"], item["stage"], item["size_class"]) == \
        ("Bakkerij de Vries", "customer", "M")
    assert item["owner"] == "am@example.com"
    assert item["stand_in"] == "mario@example.com"
    assert item["email_domains"] == ["bakker.nl", "devries.nl"]
    assert item["tags"] == ["gold", "north"]
    assert item["team"] == [{"email": "mario@example.com", "name": "Mario Rossi",
                             "role": "technical sales"}]
    assert (item["language"], item["currency"], item["city"]) == ("nl", "EUR", "Utrecht")
    assert item["version"] == 1
    for moment in ("last_contact_at", "created_at", "updated_at"):
        assert ISO_MOMENT.match(item[moment]), item[moment]
    stored = Account.get_by_id(account.id).last_contact_at
    assert item["last_contact_at"].startswith(stored.isoformat())


def test_the_list_filters(api, user):
    colleague = make_user("mario@example.com")
    mine = make_account(user, name="Mine", stage="customer", tags="gold")
    theirs = make_account(colleague, name="Theirs", stage="prospect", size_class="XL")

    def names(query):
        response = api.get(f"/api/v1/accounts?{query}")
        assert response.status_code == 200, response.json
        return [a["name"] for a in response.json["items"]]

    assert names("owner=mario@example.com") == ["Theirs"]
    assert names("owner=AM@example.com") == ["Mine"]
    assert names("stage=customer") == ["Mine"]
    assert names("size_class=XL") == ["Theirs"]
    assert names("tag=gold") == ["Mine"]
    assert names("q=thei") == ["Theirs"]
    assert names("") == ["Mine", "Theirs"]
    assert {mine.id, theirs.id} == {a["id"] for a in all_pages(api, "/api/v1/accounts?limit=1")[0]}


def test_create_with_defaults_and_users_by_email(api, user):
    make_user("mario@example.com")
    response = api.post("/api/v1/accounts", {
        "name": "  Caffè Rossi ", "stand_in": "MARIO@example.com",
        "email_domains": ["rossi.it", "@caffe-rossi.it"], "tags": ["espresso", "south"],
        "website": "rossi.it", "vision": "Grow in\nthe north."})
    assert response.status_code == 201, response.json
    created = response.json
    assert response.headers["Location"].endswith(f"/api/v1/accounts/{created['id']}")
    assert response.headers["ETag"] == '"1"'
    assert created["name"] == "Caffè Rossi"
    assert created["owner"] == "am@example.com"  # the one asking, as on the form
    assert (created["stage"], created["size_class"], created["currency"]) == \
        ("prospect", "M", "EUR")
    assert created["stand_in"] == "mario@example.com"
    assert created["email_domains"] == ["caffe-rossi.it", "rossi.it"]
    assert created["tags"] == ["espresso", "south"]
    assert created["website"] == "https://rossi.it"
    assert created["vision"] == "Grow in\nthe north."
    account = Account.get_by_id(created["id"])
    assert account.owner_id == user.id and account.search_name == "caffe rossi"
    assert api.get(f"/api/v1/accounts/{account.id}").json == created


def test_create_refuses_bad_input_with_a_message_per_field(api, user):
    make_account(user, name="Taken", email_domains="taken.nl")
    response = api.post("/api/v1/accounts", {
        "name": "", "stage": "won", "owner": "ghost@example.com",
        "email_domains": ["gmail.com"], "tags": ["a,b"], "language": "fr"})
    assert response.status_code == 422
    fields = response.json["fields"]
    assert set(fields) == {"name", "stage", "owner", "email_domains", "tags", "language"}
    assert "required" in fields["name"]
    assert "no active user" in fields["owner"]
    assert "free-mail" in fields["email_domains"]
    assert response.json["error"]
    clash = api.post("/api/v1/accounts", {"name": "Other", "email_domains": ["taken.nl"]})
    assert clash.status_code == 422
    assert "Taken" in clash.json["fields"]["email_domains"]
    assert Account.select().count() == 1


def test_an_inactive_owner_is_refused(api, user):
    make_user("gone@example.com", active=False)
    response = api.post("/api/v1/accounts", {"name": "Acme", "owner": "gone@example.com"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"owner"}


def test_patch_changes_only_what_was_sent(api, user):
    account = make_account(user, name="Old name", city="Utrecht", tags="gold",
                           email_domains="old.nl")
    response = api.patch(f"/api/v1/accounts/{account.id}", {"name": "New name", "tags": []})
    assert response.status_code == 200, response.json
    assert response.json["name"] == "New name"
    assert response.json["tags"] == []
    assert response.json["city"] == "Utrecht"
    assert response.json["email_domains"] == ["old.nl"]
    assert response.json["version"] == 2
    assert response.headers["ETag"] == '"2"'
    stored = Account.get_by_id(account.id)
    assert (stored.name, stored.search_name, stored.version) == ("New name", "new name", 2)


def test_patch_can_clear_the_stand_in_and_change_the_owner(api, user):
    colleague = make_user("mario@example.com")
    account = make_account(user, stand_in=str(colleague.id))
    response = api.patch(f"/api/v1/accounts/{account.id}",
                         {"stand_in": None, "owner": "mario@example.com"})
    assert response.status_code == 200, response.json
    assert (response.json["stand_in"], response.json["owner"]) == (None, "mario@example.com")


def test_patch_validates(api, user):
    account = make_account(user)
    response = api.patch(f"/api/v1/accounts/{account.id}", {"name": " ", "size_class": "XXXL"})
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"name", "size_class"}
    assert Account.get_by_id(account.id).version == 1


def test_a_stale_version_is_409_and_changes_nothing(api, user):
    account = make_account(user, name="First")
    url = f"/api/v1/accounts/{account.id}"
    assert api.patch(url, {"name": "Second", "version": 1}).status_code == 200
    stale = api.patch(url, {"name": "Lost update", "version": 1})
    assert stale.status_code == 409
    assert stale.json["error"]
    assert api.get(url).json["name"] == "Second"
    by_header = api.patch(url, {"name": "Lost update"}, headers={"If-Match": '"1"'})
    assert by_header.status_code == 409
    fresh = api.patch(url, {"name": "Third"}, headers={"If-Match": api.get(url).headers["ETag"]})
    assert fresh.status_code == 200
    assert fresh.json["version"] == 3
    assert api.patch(url, {"name": "X"}, headers={"If-Match": "yesterday"}).status_code == 400


def test_only_the_account_team_and_managers_may_change_an_account(api, user, manager):
    colleague = make_user("mario@example.com")
    account = make_account(colleague, name="Theirs")
    url = f"/api/v1/accounts/{account.id}"
    assert api.get(url).status_code == 200  # everyone may read, as in the app
    refused = api.patch(url, {"name": "Mine now"})
    assert refused.status_code == 403
    assert refused.json["error"]
    assert Account.get_by_id(account.id).name == "Theirs"
    set_team_member(account, user, "")
    assert api.patch(url, {"name": "Team work"}).status_code == 200
    assert api.as_user(manager).patch(url, {"name": "Managed"}).status_code == 200
