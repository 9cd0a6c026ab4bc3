"""Logging in and out, the language of the interface, and each user's own settings."""
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from models.accounts import Account
from models.users import (LANGUAGES, MIN_PASSWORD_LENGTH, TIMEZONES, User,
                          authenticate, change_password, clean_profile, update_profile)
from models.validation import Invalid, search_term

from .access import log_in
from .rendering import page_or_fragment, see_other

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.user is not None:
        return redirect(url_for("main.my_day"))
    errors, form = {}, {}
    if request.method == "POST":
        form = {"email": request.form.get("email", "")}
        try:
            # The address is looked up like a search term: no stored address holds a control
            # character, and PostgreSQL cannot be asked about NUL.
            user = authenticate(search_term(form["email"]), request.form.get("password"),
                                request.remote_addr or "")
        except Invalid as invalid:
            errors = invalid.errors
        else:
            log_in(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.my_day"))
    status = 422 if errors else 200
    return render_template("auth/login.html", errors=errors, form=form), status


@bp.post("/logout")
def logout():
    language = session.get("lang")
    session.clear()
    session["lang"] = language
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language; kept on the user for next time."""
    chosen = request.form.get("language")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        if g.user is not None:
            g.user.language = chosen
            g.user.save(only=["language"])
    return redirect(_safe_next(request.form.get("next")) or url_for("main.my_day"))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Language, time zone and "I am away" (the stand-ins take over meanwhile)."""
    if request.method == "POST":
        form = request.form
        try:
            update_profile(g.user, clean_profile(form))
        except Invalid as invalid:
            return _profile_page("auth/_profile_form.html", 422, form=form, errors=invalid.errors)
        session["lang"] = g.user.language
        flash(_("Your settings are saved."), "success")
        return see_other(url_for("auth.profile"))
    return _profile_page("auth/_profile_form.html")


@bp.post("/profile/password")
def password():
    """A new password; every other session of this user ends, this one goes on."""
    try:
        change_password(g.user, request.form, request.remote_addr or "")
    except Invalid as invalid:
        return _profile_page("auth/_password_form.html", 422, password_errors=invalid.errors)
    log_in(g.user)
    flash(_("Your password is changed. You were signed out everywhere else."), "success")
    return see_other(url_for("auth.profile"))


def _profile_page(fragment, status=200, form=None, errors=None, password_errors=None):
    user = g.user
    form = form or {"language": user.language, "timezone": user.timezone,
                    "away": "1" if user.away else ""}
    return page_or_fragment(
        "auth/profile.html", fragment, status=status, form=form, errors=errors or {},
        password_errors=password_errors or {}, languages=LANGUAGES,
        timezones=[(tz, tz.replace("_", " ")) for tz in TIMEZONES],
        min_password_length=MIN_PASSWORD_LENGTH, **_stand_ins(user))


def _stand_ins(user):
    """Who takes over the user's accounts while they are away, and how many have nobody."""
    owned = Account.select(Account.stand_in).where(Account.owner == user)
    return {
        "stand_ins": [u.name for u in User.select(User.name)
                      .where(User.id.in_(owned.where(Account.stand_in.is_null(False))))
                      .order_by(User.name)],
        "uncovered": owned.where(Account.stand_in.is_null()).count(),
    }


def _safe_next(target):
    """Only local paths: a login link must not send anyone to another site.

    Control characters are refused too: browsers drop a tab or a line break inside a URL,
    so "/<tab>/evil.com" would arrive as "//evil.com", and a line break cannot be a header.
    """
    if target and target.startswith("/") and not target.startswith("//") and \
            "\\" not in target and not any(ord(c) < 32 or ord(c) == 127 for c in target):
        return target
    return None
