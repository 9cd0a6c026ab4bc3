"""My day, global search and the health check."""
import datetime
import logging

from flask import Blueprint, g, jsonify, request
from flask_babel import to_user_timezone
from peewee import DatabaseError

from models.accounts import Account, accounts_going_quiet
from models.contacts import Contact, birthdays_between, emails_by_contact
from models.db import db, utcnow
from models.quotes import Quote, totals_by_quote
from models.tasks import Task
from models.validation import search_term

from .rendering import page_or_fragment

bp = Blueprint("main", __name__)
log = logging.getLogger(__name__)

SEARCH_LIMIT = 8
# My day shows what to do now, not everything: the rest is one click away in Tasks.
MY_DAY_OVERDUE = 20
MY_DAY_COMING = 40


@bp.get("/")
def my_day():
    """What to do now: overdue and today's tasks, the week ahead, accounts going quiet."""
    today = to_user_timezone(utcnow()).date()
    overdue_query = Task.due_for(g.user, today - datetime.timedelta(days=1))
    overdue = list(overdue_query.limit(MY_DAY_OVERDUE))
    overdue_total = overdue_query.count() if len(overdue) == MY_DAY_OVERDUE else len(overdue)
    coming = list(Task.due_for(g.user, today + datetime.timedelta(days=7), since=today)
                  .limit(MY_DAY_COMING))
    quiet = list(accounts_going_quiet(g.user).limit(10))
    birthdays = birthdays_between(g.user, today, today + datetime.timedelta(days=6))
    expiring = list(Quote.expiring_for(g.user, today + datetime.timedelta(days=7)).limit(20))
    return page_or_fragment(
        "main/my_day.html", "main/_my_day_tasks.html",
        overdue=overdue, overdue_total=overdue_total,
        due_today=[t for t in coming if t.due_date == today],
        upcoming=[t for t in coming if t.due_date > today],
        quiet=quiet, birthdays=birthdays, expiring=expiring,
        expiring_totals=totals_by_quote(expiring), day=today)


@bp.get("/search")
def search():
    """Accounts and contacts by name, email or phone; the header's live results."""
    q = search_term(request.args.get("q", ""))
    accounts, contacts = [], []
    if q:
        accounts = list(Account.search(q).limit(SEARCH_LIMIT))
        contacts = list(Contact.search(q).limit(SEARCH_LIMIT))
        emails = emails_by_contact(contacts)
        for contact in contacts:
            contact.email_list = emails[contact.id]
    return page_or_fragment("main/search.html", "main/_search_results.html",
                            q=q, accounts=accounts, contacts=contacts)


@bp.get("/healthz")
def healthz():
    """200 when the database answers; 503 otherwise (for load balancers and monitoring)."""
    try:
        db.execute_sql("SELECT 1").fetchone()
    except Exception as error:  # any database failure means "not healthy"
        return _unhealthy(error)
    return jsonify(status="ok", database="ok")


@bp.errorhandler(DatabaseError)
def database_failed(error):
    """A database that cannot even be connected to fails before the view runs (every request
    opens its connection first, routes/__init__.py): for /healthz that is the 503 it reports;
    for the other pages of this blueprint the usual 500."""
    if request.endpoint != "main.healthz":
        raise error
    return _unhealthy(error)


def _unhealthy(error):
    """The 503: the reason goes to the log, not to whoever asks (a connection error names
    the host, the database and the user)."""
    log.error("health check: the database does not answer: %s", error)
    return jsonify(status="error", database="unavailable"), 503
