"""Accounts in the API: list, create, read, update."""
from flask import g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import JOIN

from models.accounts import (SIZE_CLASSES, STAGES, Account, AccountDomain, AccountTeamMember,
                             clean_account, save_account, tags_by_account)
from models.users import User

from . import (ID, bp, choice_arg, field_messages, forbid_unless, found, iso_datetime, page_by_id,
               page_response, page_size, read_body, record_response, seen_version, user_arg,
               user_ids_for)

TEXT_FIELDS = ("name", "stage", "size_class", "owner", "stand_in", "industry", "street",
               "postal_code", "city", "country", "website", "vat_number", "language", "currency",
               "payment_terms", "delivery_terms", "vision", "purchasing_policy", "competitors",
               "credit_notes")
WRITABLE = {**{name: "text" for name in TEXT_FIELDS},
            "email_domains": "texts", "tags": "texts", "version": "int"}
READ_ONLY = ("id", "team", "last_contact_at", "created_at", "updated_at")


@bp.get("/accounts")
def list_accounts():
    """Accounts in id order; filters: owner (email), stage, size_class, tag, q (name)."""
    owner = user_arg("owner")
    query = Account.with_owner(Account.matching(
        q=request.args.get("q", "").strip(), owner=owner.id if owner else None,
        stage=choice_arg("stage", STAGES), size_class=choice_arg("size_class", SIZE_CLASSES),
        tag=request.args.get("tag", "").strip() or None))
    rows, next_cursor = page_by_id(_with_stand_in(query), Account, page_size())
    return page_response(account_items(rows), next_cursor)


@bp.post("/accounts")
def post_account():
    body, errors = read_body(WRITABLE, READ_ONLY + ("version",))
    # The same starting values as the form for a new account.
    data = {"stage": "prospect", "size_class": "M", "owner": g.user.email,
            "language": g.user.language, "currency": "EUR", **body}
    _translate(data, errors)
    with field_messages(errors):
        values = clean_account(data)
    account = save_account(values)
    return record_response(_account_item(account.id), 201,
                           url_for(".get_account", account_id=account.id))


@bp.get(f"/accounts/<{ID}:account_id>")
def get_account(account_id):
    return record_response(_account_item(account_id))


@bp.patch(f"/accounts/<{ID}:account_id>")
def patch_account(account_id):
    account = _account(account_id)
    forbid_unless(account.can_edit(g.user))
    body, errors = read_body(WRITABLE, READ_ONLY)
    version = seen_version(body)
    _translate(body, errors)
    with field_messages(errors):
        values = clean_account(body, account, partial=True)
    save_account(values, account, seen_version=version)
    return record_response(_account_item(account.id))


def _account(account_id):
    return found(Account.get_or_none(Account.id == account_id),
                 _("There is no account with the id %(id)s.", id=account_id))


def _translate(data, errors):
    """The API's values as the form's: users by id instead of email, tags as one text."""
    user_ids_for(data, ("owner", "stand_in"), errors)
    if "tags" in data:
        tags = data["tags"] or []
        if any("," in tag for tag in tags):
            errors["tags"] = _l("A tag cannot contain a comma.")
        data["tags"] = ", ".join(tags)


def _with_stand_in(query):
    """Accounts with the stand-in joined (the owner already is), as `account.stand_in_user`."""
    StandIn = User.alias()
    return (query
            .join_from(Account, StandIn, JOIN.LEFT_OUTER, on=(Account.stand_in == StandIn.id),
                       attr="stand_in_user")
            .select_extend(StandIn))


def _account_item(account_id):
    query = _with_stand_in(Account.with_owner()).where(Account.id == account_id)
    account = found(query.first(), _("There is no account with the id %(id)s.", id=account_id))
    return account_items([account])[0]


def account_items(accounts):
    """The accounts as JSON objects: domains, tags and team for the whole page in three queries."""
    ids = [a.id for a in accounts]
    tags = tags_by_account(accounts)
    domains = {i: [] for i in ids}
    team = {i: [] for i in ids}
    if ids:
        for account_id, domain in (AccountDomain.select(AccountDomain.account, AccountDomain.domain)
                                   .where(AccountDomain.account.in_(ids))
                                   .order_by(AccountDomain.domain)
                                   .tuples()):
            domains[account_id].append(domain)
        for member in (AccountTeamMember.select(AccountTeamMember, User)
                       .join(User)
                       .where(AccountTeamMember.account.in_(ids))
                       .order_by(User.name)):
            team[member.account_id].append(
                {"email": member.user.email, "name": member.user.name, "role": member.role})
    return [_item(a, domains[a.id], tags[a.id], team[a.id]) for a in accounts]


def _item(account, domains, tags, team):
    stand_in = getattr(account, "stand_in_user", None)
    return {
        "id": account.id,
        "name": account.name,
        "stage": account.stage,
        "size_class": account.size_class,
        "owner": account.owner.email,
        "stand_in": stand_in.email if stand_in is not None else None,
        "team": team,
        "email_domains": domains,
        "tags": tags,
        "language": account.language,
        "currency": account.currency,
        "industry": account.industry,
        "street": account.street,
        "postal_code": account.postal_code,
        "city": account.city,
        "country": account.country,
        "website": account.website,
        "vat_number": account.vat_number,
        "payment_terms": account.payment_terms,
        "delivery_terms": account.delivery_terms,
        "vision": account.vision,
        "purchasing_policy": account.purchasing_policy,
        "competitors": account.competitors,
        "credit_notes": account.credit_notes,
        "last_contact_at": iso_datetime(account.last_contact_at),
        "created_at": iso_datetime(account.created_at),
        "updated_at": iso_datetime(account.updated_at),
        "version": account.version,
    }
