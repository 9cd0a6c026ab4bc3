"""Logging in and out, the throttle, sessions, CSRF, language, security headers, the profile."""
import datetime
import time

import pytest
from flask_babel import force_locale, gettext

from conftest import PASSWORD, form_fields, login, make_account, make_user, text_of
from models.db import utcnow
from models.tasks import Task, create_task
from models.users import LoginAttempt, User

HTMX = {"HX-Request": "true"}


def sign_in(client, email, password=PASSWORD, next_url=None):
    url = "/login" if next_url is None else f"/login?next={next_url}"
    return client.post(url, data={"email": email, "password": password})


# Logging in ---------------------------------------------------------------------------------

def test_login_page_has_the_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html and 'name="csrf_token"' in html


def test_login_succeeds_and_lands_on_my_day(client, user):
    response = sign_in(client, "AM@example.com ")  # case and spaces do not matter
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert user.name in text_of(page)
    assert User.get_by_id(user.id).last_login_at is not None


def test_wrong_password_answers_at_the_field_and_keeps_the_email(client, user):
    response = sign_in(client, "am@example.com", "not the password")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="am@example.com"' in html
    assert "That email address and password do not match." in html
    assert 'id="password-error" role="alert"' in html
    assert "not the password" not in html  # a password is never sent back
    assert client.get("/").status_code == 302  # still not logged in


def test_unknown_email_gets_the_same_message(client, user):
    response = sign_in(client, "nobody@example.com")
    assert response.status_code == 422
    assert "That email address and password do not match." in text_of(response)


def test_inactive_user_cannot_log_in(client):
    make_user("gone@example.com", active=False)
    response = sign_in(client, "gone@example.com")
    assert response.status_code == 422
    assert "That email address and password do not match." in text_of(response)
    assert client.get("/").status_code == 302


def test_after_five_failures_even_the_right_password_waits(client, user):
    for _ in range(5):
        assert sign_in(client, "am@example.com", "wrong password!").status_code == 422
    response = sign_in(client, "am@example.com")
    assert response.status_code == 422
    assert "Too many failed attempts. Try again in" in text_of(response)
    assert 'value="am@example.com"' in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_the_wait_grows_with_each_failure_and_then_passes(client, user):
    past = utcnow() - datetime.timedelta(minutes=1)
    for _ in range(5):
        LoginAttempt.create(email="am@example.com", ip="10.0.0.9", at=past)
    # Five failures a minute ago: their two-second wait is over.
    assert sign_in(client, "am@example.com").status_code == 302


def test_a_successful_login_clears_the_failures(client, user):
    for _ in range(4):
        sign_in(client, "am@example.com", "wrong password!")
    assert LoginAttempt.select().count() == 4
    assert sign_in(client, "am@example.com").status_code == 302
    assert LoginAttempt.select().count() == 0
    client.post("/logout")
    for _ in range(4):
        sign_in(client, "am@example.com", "wrong password!")
    assert sign_in(client, "am@example.com").status_code == 302


def test_next_takes_the_user_back_to_a_local_page(client, user):
    response = sign_in(client, "am@example.com", next_url="/accounts/?q=bakker")
    assert response.headers["Location"] == "/accounts/?q=bakker"


@pytest.mark.parametrize("target", [
    "//evil.com", "https://evil.com", "http://evil.com/x", "/\\evil.com", "\\\\evil.com",
    "/%09/evil.com", "/%0a/evil.com", "javascript:alert(1)", "evil.com",
])
def test_next_never_leads_to_another_site(client, user, target):
    response = sign_in(client, "am@example.com", next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_login_form_carries_next_along(client):
    response = client.get("/login?next=/tasks/")
    assert 'action="/login?next=/tasks/"' in response.get_data(as_text=True)


def test_a_logged_in_user_visiting_login_goes_to_my_day(auth):
    response = auth.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# Sessions -----------------------------------------------------------------------------------

def test_logout_is_post_only(auth):
    assert auth.get("/logout").status_code == 405
    assert auth.get("/").status_code == 200
    response = auth.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert auth.get("/").status_code == 302


def test_logout_keeps_the_language(client):
    user = make_user("nl@example.com", language="nl")
    login(client, user)
    client.post("/logout")
    assert '<html lang="nl">' in client.get("/login").get_data(as_text=True)


def test_protected_pages_send_people_to_login_with_next(client):
    response = client.get("/accounts/?q=x")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/accounts/?q%3Dx"


def test_htmx_requests_get_401_and_a_redirect_header(client):
    response = client.get("/accounts/", headers=HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_public_pages_need_no_login(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/css/app.css").status_code == 200


def test_an_idle_session_ends(app, auth, user):
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with auth.session_transaction() as session:
        session["seen"] = int(time.time()) - idle + 120
    assert auth.get("/").status_code == 200  # still within the limit
    with auth.session_transaction() as session:
        session["seen"] = int(time.time()) - idle - 5
    response = auth.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert auth.get("/").status_code == 302  # the session is gone, not just this request


def test_activity_keeps_the_session_alive(app, auth):
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with auth.session_transaction() as session:
        session["seen"] = int(time.time()) - idle + 120
    auth.get("/")
    with auth.session_transaction() as session:
        assert session["seen"] >= int(time.time()) - 5


def test_a_password_change_elsewhere_ends_the_session(auth, user):
    user.set_password("another good password")
    user.save()
    response = auth.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_deactivated_user_is_signed_out(auth, user):
    User.update(active=False).where(User.id == user.id).execute()
    assert auth.get("/").status_code == 302


# CSRF ---------------------------------------------------------------------------------------

def test_a_post_without_csrf_token_is_refused_and_saves_nothing(auth, user):
    response = auth.post("/profile", data={"language": "nl", "timezone": "Europe/Rome"},
                         csrf=False)
    assert response.status_code == 400
    assert "This form has expired or was sent from elsewhere" in text_of(response)
    assert User.get_by_id(user.id).language == "en"


def test_a_post_with_a_wrong_csrf_token_is_refused(auth, user):
    response = auth.post("/profile", data={"language": "nl", "timezone": "Europe/Rome"},
                         headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert "nothing was saved" in text_of(response)
    assert User.get_by_id(user.id).timezone == "Europe/Amsterdam"


def test_login_needs_the_csrf_token_too(client, user):
    response = client.post("/login", data={"email": "am@example.com", "password": PASSWORD},
                           csrf=False)
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_the_csrf_token_in_the_form_field_is_accepted(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"email": "am@example.com", "password": PASSWORD,
                                           "csrf_token": token}, csrf=False)
    assert response.status_code == 302


# Language -----------------------------------------------------------------------------------

def _dutch(app, text):
    with app.test_request_context(), force_locale("nl"):
        return gettext(text)


def test_switching_language_before_login(app, client):
    response = client.post("/language", data={"language": "nl", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login")
    assert '<html lang="nl">' in page.get_data(as_text=True)
    translated = _dutch(app, "Sign in")
    if translated != "Sign in":  # once the Dutch catalogue has it, the page shows it
        assert translated in text_of(page)


def test_switching_language_is_kept_on_the_user(auth, user):
    auth.post("/language", data={"language": "el", "next": "/tasks/"})
    assert User.get_by_id(user.id).language == "el"
    assert '<html lang="el">' in auth.get("/").get_data(as_text=True)


def test_an_unknown_language_changes_nothing(auth, user):
    response = auth.post("/language", data={"language": "xx", "next": "//evil.com"})
    assert response.headers["Location"] == "/"
    assert User.get_by_id(user.id).language == "en"


# Headers and roles --------------------------------------------------------------------------

def test_security_headers(client, auth):
    for response in (client.get("/login"), auth.get("/")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in auth.get("/").headers["Cache-Control"]


def test_pages_have_no_inline_script(auth):
    html = auth.get("/").get_data(as_text=True)
    for chunk in html.split("<script")[1:]:
        assert chunk.lstrip().startswith("src=")
    assert " onclick=" not in html and " style=" not in html


@pytest.mark.parametrize("role", ["account_manager", "inside_sales", "manager", "finance"])
def test_administration_is_for_admins_only(client, role):
    login(client, make_user(f"{role}@example.com", role=role))
    assert client.get("/admin/users").status_code == 403


# The profile --------------------------------------------------------------------------------

def test_profile_shows_the_users_settings(auth, user):
    response = auth.get("/profile")
    assert response.status_code == 200
    fields = form_fields(response.get_data(as_text=True), "profile-form")
    assert fields["language"] == "en" and fields["timezone"] == "Europe/Amsterdam"
    assert "away" not in fields
    fragment = auth.get("/profile", headers=HTMX)
    assert "<html" not in fragment.get_data(as_text=True) and 'id="profile-form"' in \
        fragment.get_data(as_text=True)


def test_profile_saves_language_time_zone_and_away(auth, user):
    response = auth.post("/profile", data={"language": "it", "timezone": "Europe/Rome",
                                           "away": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    saved = User.get_by_id(user.id)
    assert (saved.language, saved.timezone, saved.away) == ("it", "Europe/Rome", True)
    assert '<html lang="it">' in auth.get("/profile").get_data(as_text=True)
    auth.post("/profile", data={"language": "it", "timezone": "Europe/Rome"})
    assert User.get_by_id(user.id).away is False


def test_profile_rejects_an_unknown_time_zone_with_the_input_kept(auth, user):
    response = auth.post("/profile", data={"language": "nl", "timezone": "Mars/Olympus"},
                         headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="timezone-error" role="alert">Choose one of the options.' in html
    assert form_fields(html, "profile-form")["language"] == "nl"
    assert User.get_by_id(user.id).language == "en"


def test_away_hands_my_tasks_to_my_stand_in(client, user):
    stand_in = make_user("sofia@example.com", role="inside_sales", name="Sofia Stand-in")
    account = make_account(user, "Ferramenta Rossi S.r.l.", stand_in=str(stand_in.id))
    create_task(account, {"owner": user, "due_date": datetime.date.today(),
                          "objective": "Call about the spring order"}, user)
    login(client, stand_in)
    assert "Call about the spring order" not in text_of(client.get("/"))
    owner = client.application.test_client()
    login(owner, user)
    owner.post("/profile", data={"language": "en", "timezone": "Europe/Amsterdam", "away": "on"})
    assert "Call about the spring order" in text_of(client.get("/"))
    assert Task.select().count() == 1


def test_profile_names_the_stand_ins(auth, user):
    stand_in = make_user("sofia@example.com", role="inside_sales", name="Sofia Stand-in")
    make_account(user, "Bakkerij Van den Berg", stand_in=str(stand_in.id))
    make_account(user, "Harbour Lane Catering Ltd")
    text = text_of(auth.get("/profile"))
    assert "Your stand-ins: Sofia Stand-in." in text
    assert "1 of your accounts has no stand-in yet" in text


def test_changing_the_password_keeps_this_session_and_ends_the_others(app, auth, user):
    other = app.test_client()
    login(other, user)
    response = auth.post("/profile/password", data={
        "current_password": PASSWORD, "new_password": "a brand new secret",
        "new_password_again": "a brand new secret"})
    assert response.status_code == 303
    assert "Your password is changed" in text_of(auth.get("/profile"))
    assert auth.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert User.get_by_id(user.id).check_password("a brand new secret")
    fresh = app.test_client()
    assert sign_in(fresh, "am@example.com", PASSWORD).status_code == 422
    assert sign_in(fresh, "am@example.com", "a brand new secret").status_code == 302


@pytest.mark.parametrize("data, field, message", [
    ({"current_password": "wrong one", "new_password": "long enough pw",
      "new_password_again": "long enough pw"}, "current_password",
     "That is not your current password."),
    ({"current_password": "", "new_password": "long enough pw",
      "new_password_again": "long enough pw"}, "current_password",
     "Enter your current password."),
    ({"current_password": PASSWORD, "new_password": "short",
      "new_password_again": "short"}, "new_password", "Use at least 10 characters."),
    ({"current_password": PASSWORD, "new_password": "long enough pw",
      "new_password_again": "long enough px"}, "new_password_again",
     "The two new passwords are not the same."),
])
def test_a_rejected_password_change_says_why(auth, user, data, field, message):
    response = auth.post("/profile/password", data=data, headers=HTMX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error" role="alert">{message}' in html
    assert "long enough" not in html  # passwords are never echoed
    assert User.get_by_id(user.id).check_password(PASSWORD)
    assert auth.get("/").status_code == 200


def test_guessing_the_current_password_is_throttled(auth, user):
    for _ in range(5):
        auth.post("/profile/password", data={"current_password": "guess guess",
                                             "new_password": "long enough pw",
                                             "new_password_again": "long enough pw"})
    response = auth.post("/profile/password", data={
        "current_password": PASSWORD, "new_password": "long enough pw",
        "new_password_again": "long enough pw"})
    assert response.status_code == 422
    assert "Too many failed attempts" in text_of(response)
    assert User.get_by_id(user.id).check_password(PASSWORD)


def test_colleagues_behind_one_address_do_not_lock_each_other_out(client, user):
    for i in range(6):
        LoginAttempt.create(email=f"typo{i}@example.com", ip="127.0.0.1")
    assert sign_in(client, "am@example.com").status_code == 302


def test_many_addresses_tried_from_one_ip_are_slowed_down(client, user):
    for i in range(20):
        LoginAttempt.create(email=f"guess{i}@example.com", ip="127.0.0.1")
    response = sign_in(client, "am@example.com")
    assert response.status_code == 422
    assert "Too many failed attempts" in text_of(response)
