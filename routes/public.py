"""The customer's side: a quote behind a signed, expiring link — no login.

Every problem with a link (tampered, expired, superseded, already answered) is a friendly
page with a fitting status, never an error page. The forms keep their CSRF protection: the
token lives in the (anonymous) session cookie.
"""
import datetime

from flask import Blueprint, make_response, render_template, request, url_for
from flask_babel import force_locale
from markupsafe import Markup

from mail.documents import Formats, accent_colour, document_locale, render_quote
from mail.quotes import LinkProblem, notify_owner_of_answer, quote_from_token
from models.db import db
from models.quotes import accept as accept_quote, decline as decline_quote
from models.validation import Invalid

from .access import public
from .rendering import see_other

bp = Blueprint("public", __name__, url_prefix="/q")

# Why a quote cannot be answered, and the status that says so.
PROBLEM_STATUS = {"tampered": 400, "expired": 410, "gone": 410, "link_expired": 410,
                  "superseded": 410, "answered": 409, "unavailable": 410}


@bp.get("/document-theme.css")
@public
def document_theme():
    """The company's accent colour for documents shown in the browser (no inline styles)."""
    response = make_response(f".quote-document {{ --doc-accent: {accent_colour()}; }}\n")
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _problem_of(quote):
    """Why this quote cannot be answered now, or None."""
    if quote.status == "superseded":
        return "superseded"
    if quote.status == "expired" or (quote.status == "sent"
                                      and quote.valid_until < datetime.date.today()):
        return "expired"
    if quote.status in ("accepted", "declined"):
        return None  # shown with the answer and a thank-you, not as a problem
    if quote.status != "sent":
        return "unavailable"
    return None


def _problem_page(problem, quote=None):
    language = quote.language if quote is not None else (
        request.accept_languages.best_match(["en", "nl", "it", "el"]) or "en")
    with force_locale(document_locale(language)):
        html = render_template("public/problem.html", problem=problem, quote=quote,
                               language=language)
    return _no_store(make_response(html, PROBLEM_STATUS[problem]))


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link is the customer's key
    return response


def _load(token):
    try:
        return quote_from_token(token), None
    except LinkProblem as problem:
        reason = "link_expired" if problem.reason == "expired" else problem.reason
        return None, _problem_page(reason)


def _page(quote, token, errors=None, form=None, status=200):
    with force_locale(document_locale(quote.language)):
        document = Markup(render_quote("documents/_quote.html", quote))
        html = render_template("public/quote.html", quote=quote, token=token,
                               document=document, errors=errors or {}, form=form or {},
                               fmt=Formats(quote.currency))
    return _no_store(make_response(html, status))


@bp.get("/<token>")
@public
def quote(token):
    quote, problem_page = _load(token)
    if problem_page:
        return problem_page
    problem = _problem_of(quote)
    if problem:
        return _problem_page(problem, quote)
    return _page(quote, token)


def _answer(token, act):
    quote, problem_page = _load(token)
    if problem_page:
        return problem_page
    if quote.status in ("accepted", "declined"):
        return _problem_page("answered", quote)
    problem = _problem_of(quote)
    if problem:
        return _problem_page(problem, quote)
    try:
        with db.atomic():
            act(quote)
            notify_owner_of_answer(quote)
    except Invalid as invalid:
        fresh, unused = _load(token)
        if fresh is not None and fresh.status != quote.status:
            return _problem_page("answered", fresh)
        if set(invalid.errors) == {"status"}:
            return _problem_page(_problem_of(quote) or "answered", quote)
        return _page(quote, token, errors=invalid.errors, form=request.form, status=422)
    return see_other(url_for("public.quote", token=token))


@bp.post("/<token>/accept")
@public
def accept(token):
    return _answer(token, lambda quote: accept_quote(
        quote, request.form.get("name", ""), request.form.get("purchase_order", "")))


@bp.post("/<token>/decline")
@public
def decline(token):
    return _answer(token, lambda quote: decline_quote(quote, request.form.get("reason", "")))
