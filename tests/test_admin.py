"""Administration of users: admins only, the list, creating, editing, and the guard rails."""
import pytest
from playhouse.test_utils import count_queries

from conftest import PASSWORD, form_fields, login, make_account, make_user, text_of
from models.users import User

HTMX = {"HX-Request": "true"}


@pytest.fixture
def as_admin(client, admin):
    login(client, admin)
    return client


def new_user_form(**fields):
    return {"email": "nikos@example.com", "name": "Nikos Georgiou", "role": "account_manager",
            "language": "el", "timezone": "Europe/Athens", "password": "a long first password",
            **fields}


def edit_form(client, user, **changes):
    """What the browser would send from the edit page, with `changes` applied."""
    fields = form_fields(client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True),
                         "user-form")
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


# Who may -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["account_manager", "inside_sales", "manager", "finance"])
def test_everyone_but_admins_gets_403(client, role):
    someone = make_user(f"{role}@example.com", role=role)
    login(client, someone)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.get(f"/admin/users/{someone.id}/edit").status_code == 403
    response = client.post(f"/admin/users/{someone.id}/edit",
                           data={"email": someone.email, "name": "X", "role": "admin",
                                 "language": "en", "timezone": "UTC", "active": "1"})
    assert response.status_code == 403
    assert client.post("/admin/users/new", data=new_user_form()).status_code == 403
    assert client.post("/admin/users/check", data={"_field": "email"}).status_code == 403
    assert User.get_by_id(someone.id).role == role
    assert User.by_email("nikos@example.com") is None


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_menu_shows_users_only_to_admins(client, auth, admin):
    assert 'href="/admin/users"' not in auth.get("/").get_data(as_text=True)
    login(client, admin)
    assert 'href="/admin/users"' in client.get("/").get_data(as_text=True)


# The list -----------------------------------------------------------------------------------

def test_the_list_shows_each_user_with_role_and_status(as_admin, admin):
    anna = make_user("anna@example.com", name="Anna de Vries")
    make_user("old@example.com", role="finance", name="Otto Old", active=False)
    make_user("away@example.com", role="inside_sales", name="Sofia Away", away=True)
    make_account(anna, "Bakkerij Van den Berg")
    make_account(anna, "Harbour Lane Catering Ltd")
    response = as_admin.get("/admin/users")
    assert response.status_code == 200
    text = text_of(response)
    assert "4 users" in text
    assert "Anna de Vries anna@example.com Account manager Active 2 never" in text
    assert "Otto Old old@example.com Finance manager Deactivated" in text
    assert "Sofia Away away@example.com Inside sales Active Away" in text
    assert text.index("Sofia Away") < text.index("Otto Old")  # the deactivated come last


def test_the_list_shows_the_last_sign_in(client, admin):
    client.post("/login", data={"email": "admin@example.com", "password": PASSWORD})
    text = text_of(client.get("/admin/users"))
    assert "Ada Admin admin@example.com Admin Active 0 today" in text


def test_the_list_needs_the_same_queries_for_many_users(as_admin, admin):
    as_admin.get("/admin/users")
    with count_queries() as few:
        as_admin.get("/admin/users")
    for i in range(8):
        owner = make_user(f"u{i}@example.com")
        make_account(owner, f"Account {i}")
    with count_queries() as many:
        response = as_admin.get("/admin/users")
    assert "9 users" in text_of(response)
    assert many.count == few.count


def test_the_list_is_a_page_and_a_fragment(as_admin):
    page = as_admin.get("/admin/users").get_data(as_text=True)
    fragment = as_admin.get("/admin/users", headers=HTMX)
    assert "<html" in page
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Ada Admin" in text_of(fragment)
    assert "HX-Request" in fragment.headers["Vary"]


# Creating -----------------------------------------------------------------------------------

def test_an_admin_creates_a_user_who_can_then_sign_in(app, as_admin):
    form = form_fields(as_admin.get("/admin/users/new").get_data(as_text=True), "user-form")
    assert form["role"] == "account_manager"
    response = as_admin.post("/admin/users/new", data=new_user_form(email="Nikos@Example.com"))
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    assert "Nikos Georgiou can now sign in as nikos@example.com." in text_of(
        as_admin.get("/admin/users"))
    nikos = User.by_email("nikos@example.com")
    assert (nikos.name, nikos.role, nikos.language, nikos.timezone, nikos.active) == \
        ("Nikos Georgiou", "account_manager", "el", "Europe/Athens", True)
    fresh = app.test_client()
    response = fresh.post("/login", data={"email": "nikos@example.com",
                                          "password": "a long first password"})
    assert response.status_code == 302
    assert '<html lang="el">' in fresh.get("/").get_data(as_text=True)


@pytest.mark.parametrize("changes, field, message", [
    ({"password": "too short"}, "password", "Use at least 10 characters."),
    ({"email": "not-an-address"}, "email", "Enter a valid email address"),
    ({"email": "admin@example.com"}, "email", "Another user already has this email address."),
    ({"role": "emperor"}, "role", "Choose one of the options."),
    ({"name": "  "}, "name", "This field is required."),
    ({"timezone": "Mars/Olympus"}, "timezone", "Choose one of the options."),
])
def test_a_rejected_new_user_comes_back_with_the_input(as_admin, changes, field, message):
    response = as_admin.post("/admin/users/new", data=new_user_form(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error" role="alert">{message}' in html
    kept = form_fields(html, "user-form")
    assert kept["language"] == "el" and kept["timezone"] in ("Europe/Athens", "Europe/Amsterdam")
    if field != "name":
        assert kept["name"] == "Nikos Georgiou"
    assert kept["password"] == ""  # a password is never sent back
    assert User.select().count() == 1


def test_a_rejected_new_user_swaps_in_the_form_for_htmx(as_admin):
    response = as_admin.post("/admin/users/new", data=new_user_form(password="short"),
                             headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="user-form"' in html


def test_the_inline_check_uses_the_same_rules(as_admin, admin):
    response = as_admin.post("/admin/users/check", data={**new_user_form(
        email="ADMIN@example.com"), "_field": "email"}, headers=HTMX)
    assert response.status_code == 200
    assert "Another user already has this email address." in text_of(response)
    response = as_admin.post("/admin/users/check", data={**new_user_form(password="x"),
                                                         "_field": "email"}, headers=HTMX)
    assert text_of(response) == ""  # the password's problem is not the email field's
    response = as_admin.post("/admin/users/check", data={
        **edit_form(as_admin, admin, role="manager"), "_field": "role"}, headers=HTMX)
    assert "You cannot take away your own admin role." in text_of(response)


def test_creating_without_csrf_saves_nothing(as_admin):
    response = as_admin.post("/admin/users/new", data=new_user_form(), csrf=False)
    assert response.status_code == 400
    assert User.by_email("nikos@example.com") is None


# Editing ------------------------------------------------------------------------------------

def test_the_edit_page_shows_the_stored_values(as_admin):
    anna = make_user("anna@example.com", name="Anna de Vries", language="nl", away=True)
    fields = edit_form(as_admin, anna)
    assert fields["email"] == "anna@example.com" and fields["name"] == "Anna de Vries"
    assert fields["role"] == "account_manager" and fields["language"] == "nl"
    assert fields["active"] == "1" and fields["away"] == "1"
    assert fields["password"] == ""


def test_an_admin_changes_role_name_and_away(as_admin):
    anna = make_user("anna@example.com", name="Anna de Vries")
    data = edit_form(as_admin, anna, role="manager", name="Anna van Dijk", away="1",
                     timezone="Europe/Brussels")
    response = as_admin.post(f"/admin/users/{anna.id}/edit", data=data)
    assert response.status_code == 303
    saved = User.get_by_id(anna.id)
    assert (saved.role, saved.name, saved.away, saved.timezone) == \
        ("manager", "Anna van Dijk", True, "Europe/Brussels")
    assert saved.check_password(PASSWORD)  # an empty password field keeps the password
    assert saved.session_version == anna.session_version  # nothing that ends sessions


def test_deactivating_a_user_ends_their_sessions_and_their_sign_in(app, as_admin):
    anna = make_user("anna@example.com", name="Anna de Vries")
    hers = app.test_client()
    login(hers, anna)
    assert hers.get("/").status_code == 200
    data = edit_form(as_admin, anna)
    del data["active"]  # the unchecked box is not sent
    assert as_admin.post(f"/admin/users/{anna.id}/edit", data=data).status_code == 303
    saved = User.get_by_id(anna.id)
    assert saved.active is False and saved.session_version == anna.session_version + 1
    assert hers.get("/").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "anna@example.com",
                                      "password": PASSWORD}).status_code == 422
    assert "Deactivated" in text_of(as_admin.get("/admin/users"))
    # Back again: she signs in anew.
    data["active"] = "1"
    as_admin.post(f"/admin/users/{anna.id}/edit", data=data)
    assert fresh.post("/login", data={"email": "anna@example.com",
                                      "password": PASSWORD}).status_code == 302


def test_resetting_a_password_signs_the_user_out(app, as_admin):
    anna = make_user("anna@example.com", name="Anna de Vries")
    hers = app.test_client()
    login(hers, anna)
    data = edit_form(as_admin, anna, password="reset by the admin")
    assert as_admin.post(f"/admin/users/{anna.id}/edit", data=data).status_code == 303
    assert hers.get("/").status_code == 302
    assert User.get_by_id(anna.id).check_password("reset by the admin")


def test_a_short_reset_password_is_refused(as_admin):
    anna = make_user("anna@example.com", name="Anna de Vries")
    data = edit_form(as_admin, anna, password="short", name="Changed Name")
    response = as_admin.post(f"/admin/users/{anna.id}/edit", data=data)
    assert response.status_code == 422
    assert "Use at least 10 characters." in text_of(response)
    assert form_fields(response.get_data(as_text=True), "user-form")["name"] == "Changed Name"
    saved = User.get_by_id(anna.id)
    assert saved.name == "Anna de Vries" and saved.check_password(PASSWORD)


def test_an_email_taken_by_someone_else_is_refused(as_admin):
    anna = make_user("anna@example.com", name="Anna de Vries")
    data = edit_form(as_admin, anna, email="admin@example.com")
    response = as_admin.post(f"/admin/users/{anna.id}/edit", data=data)
    assert response.status_code == 422
    assert "Another user already has this email address." in text_of(response)
    assert User.get_by_id(anna.id).email == "anna@example.com"


def test_an_admin_cannot_deactivate_themselves(as_admin, admin):
    data = edit_form(as_admin, admin)
    del data["active"]
    response = as_admin.post(f"/admin/users/{admin.id}/edit", data=data)
    assert response.status_code == 422
    assert 'id="active-error" role="alert">You cannot deactivate your own account.' in \
        response.get_data(as_text=True)
    assert User.get_by_id(admin.id).active is True
    assert as_admin.get("/admin/users").status_code == 200


def test_an_admin_cannot_demote_themselves(as_admin, admin):
    data = edit_form(as_admin, admin, role="manager")
    response = as_admin.post(f"/admin/users/{admin.id}/edit", data=data)
    assert response.status_code == 422
    assert "You cannot take away your own admin role. Ask another admin to do it." in \
        text_of(response)
    assert User.get_by_id(admin.id).role == "admin"


def test_an_admin_may_demote_another_admin(as_admin):
    other = make_user("second@example.com", role="admin", name="Second Admin")
    response = as_admin.post(f"/admin/users/{other.id}/edit",
                             data=edit_form(as_admin, other, role="finance"))
    assert response.status_code == 303
    assert User.get_by_id(other.id).role == "finance"


def test_an_admin_edits_their_own_name(as_admin, admin):
    response = as_admin.post(f"/admin/users/{admin.id}/edit",
                             data=edit_form(as_admin, admin, name="Ada Lovelace"))
    assert response.status_code == 303
    assert User.get_by_id(admin.id).name == "Ada Lovelace"
    assert as_admin.get("/admin/users").status_code == 200


def test_an_unknown_user_is_404(as_admin):
    assert as_admin.get("/admin/users/9999/edit").status_code == 404
    assert as_admin.post("/admin/users/9999/edit", data=new_user_form()).status_code == 404


def test_an_htmx_save_sends_the_browser_to_the_list(as_admin):
    response = as_admin.post("/admin/users/new", data=new_user_form(), headers=HTMX)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/admin/users"
    assert User.by_email("nikos@example.com") is not None
