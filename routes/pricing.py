"""Price agreements: the discounts agreed with an account, per category and per product."""
from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from models.accounts import Account
from models.pricing import (agreements_of, clean_agreement, may_set_agreements, remove_agreement,
                            set_agreement)
from models.products import categories
from models.validation import Invalid

from .access import get_or_404
from .rendering import form_response, page_or_fragment, wants_fragment

bp = Blueprint("pricing", __name__, url_prefix="/accounts")


@bp.get("/<int:account_id>/prices")
def index(account_id):
    """The agreements, readable by everyone; the forms only for managers, finance and admins."""
    account = get_or_404(Account, account_id)
    return _page(account, errors={}, form={})


@bp.post("/<int:account_id>/prices")
def save(account_id):
    account = _agreeable_account(account_id)
    form = request.form
    try:
        agreement = set_agreement(account, clean_agreement(form))
    except Invalid as invalid:
        return form_response("pricing/index.html", "pricing/_agreements.html", invalid.errors,
                             **_context(account, form))
    subject = agreement.product.code if agreement.product_id else agreement.category
    return _saved(account, _("Discount for %(subject)s saved.", subject=subject))


@bp.post("/<int:account_id>/prices/<int:agreement_id>/delete")
def delete(account_id, agreement_id):
    account = _agreeable_account(account_id)
    if not remove_agreement(account, agreement_id):
        abort(404)
    return _saved(account, _("Agreement removed."))


def _agreeable_account(account_id):
    account = get_or_404(Account, account_id)
    if not may_set_agreements(g.user):
        abort(403)
    return account


def _saved(account, message):
    """htmx: the agreements again, with the note; a plain form: back to the page (303)."""
    if wants_fragment():
        return page_or_fragment("pricing/index.html", "pricing/_agreements.html", errors={},
                                saved=message, **_context(account, {}))
    flash(message, "success")
    return redirect(url_for("pricing.index", account_id=account.id), 303)


def _page(account, errors, form):
    return page_or_fragment("pricing/index.html", "pricing/_agreements.html", errors=errors,
                            **_context(account, form))


def _context(account, form):
    return dict(account=account, agreements=list(agreements_of(account)), form=form,
                category_options=[(c, c) for c in categories()],
                can_edit=may_set_agreements(g.user))
