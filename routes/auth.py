"""Logging in and out, and the language of the interface."""
from flask import Blueprint, g, redirect, render_template, request, session, url_for

from models.users import LANGUAGES, authenticate
from models.validation import Invalid

from .access import log_in

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.user is not None:
        return redirect(url_for("main.my_day"))
    errors, form = {}, {}
    if request.method == "POST":
        form = {"email": request.form.get("email", "")}
        try:
            user = authenticate(request.form.get("email"), request.form.get("password"),
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


def _safe_next(target):
    """Only local paths: a login link must not send anyone to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
