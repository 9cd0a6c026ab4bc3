"""Who is asking, and may they: the logged-in user, roles, language and time zone."""
import functools
import time

from flask import (abort, current_app, g, has_request_context, make_response, redirect, request,
                   session, url_for)

from models.users import LANGUAGES, User
from models.validation import parse_int

PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.language", "main.healthz"}


def public(view):
    """Mark a view that needs no login (the login page itself, health checks)."""
    PUBLIC_ENDPOINTS.add(f"{view.__module__.rsplit('.', 1)[-1]}.{view.__name__}")
    return view


def load_user():
    """Load the session's user; send everyone else to the login page.

    The API blueprint authenticates with bearer tokens on its own.
    """
    g.user = None
    if request.blueprint == "api":
        return None
    user_id = session.get("user_id")
    if user_id is not None:
        idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
        last_seen = session.get("seen", 0)
        user = User.get_or_none((User.id == user_id) & (User.active == True))  # noqa: E712
        if user is None or session.get("sv") != user.session_version or \
                time.time() - last_seen > idle_limit:
            session.clear()
        else:
            g.user = user
            # Write the cookie at most once a minute, not on every request.
            if time.time() - last_seen > 60:
                session["seen"] = int(time.time())
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS and request.endpoint:
        login = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if request.htmx:
            response = make_response("", 401)
            response.headers["HX-Redirect"] = login
            return response
        return redirect(login)
    return None


def log_in(user):
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["sv"] = user.session_version
    session["seen"] = int(time.time())
    session["lang"] = user.language


def roles_required(*roles):
    """Allow the view only to users with one of `roles` (403 for everyone else)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.user is None or g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def current_language():
    if not has_request_context():  # a command line tool: messages in English
        return "en"
    user = getattr(g, "user", None)
    if user is not None and user.language in LANGUAGES:
        return user.language
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(list(LANGUAGES)) or "en"


# English as written in Europe: 24-hour clock, day before month.
FORMAT_LOCALES = {"en": "en_GB"}


def current_locale():
    """The Babel locale for translations and formats of the current language."""
    language = current_language()
    return FORMAT_LOCALES.get(language, language)


def current_timezone():
    user = getattr(g, "user", None)
    if user is not None and user.timezone:
        return user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def find(model, record_id):
    """The record with this id, or None: also for what is no id at all ("²", "abc") and for a
    number no record can have (parse_int, so none reaches the database out of its range)."""
    record_id = parse_int(record_id, minimum=1)
    if record_id is None:
        return None
    return model.get_or_none(model.id == record_id)


def get_or_404(model, record_id):
    record = find(model, record_id)
    if record is None:
        abort(404)
    return record


def editable_account(account_id):
    """The account if the current user may change it: 404 when unknown, 403 when not theirs."""
    from models.accounts import Account
    account = get_or_404(Account, account_id)
    if not account.can_edit(g.user):
        abort(403)
    return account
