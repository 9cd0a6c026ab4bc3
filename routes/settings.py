"""Settings an admin keeps: the company's details on documents, and the margin policy."""
from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from models.pricing import clean_margin_policy, margin_policy_form, save_margin_policy
from models.settings import (MAX_LOGO_BYTES, clean_company, clean_logo, company, company_form,
                             save_company, set_logo)
from models.users import ROLES
from models.validation import Invalid

from .access import roles_required
from .rendering import field_check, form_response, page_or_fragment, see_other

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/")
@roles_required("admin")
def index():
    return redirect(url_for("settings.company_details"))


@bp.route("/company", methods=["GET", "POST"])
@roles_required("admin")
def company_details():
    row = company()
    if request.method == "POST":
        form = request.form
        errors = {}
        try:
            values = clean_company(form)
        except Invalid as invalid:
            errors.update(invalid.errors)
        logo = request.files.get("logo")
        raw = logo.read(MAX_LOGO_BYTES + 1) if logo and logo.filename else None
        if raw is not None:
            try:
                clean_logo(raw)
            except Invalid as invalid:
                errors.update(invalid.errors)
        if errors:
            return form_response("settings/company.html", "settings/_company_form.html",
                                 errors, form=form, company=row)
        save_company(values)
        if raw is not None:
            set_logo(raw)
        elif form.get("remove_logo"):
            set_logo(None)
        flash(_("Company details saved."), "success")
        return see_other(url_for("settings.company_details"))
    return page_or_fragment("settings/company.html", "settings/_company_form.html", errors={},
                            form=company_form(row), company=row)


@bp.post("/company/check")
@roles_required("admin")
def company_check():
    return field_check(clean_company)


@bp.get("/logo")
def logo():
    """The company logo, for everyone logged in (documents are rendered on the server)."""
    row = company()
    if not row.logo:
        abort(404)
    response = Response(bytes(row.logo), mimetype=row.logo_type)
    # An SVG opened on its own is a document: let it run nothing, load nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.route("/margins", methods=["GET", "POST"])
@roles_required("admin")
def margins():
    if request.method == "POST":
        form = request.form
        try:
            save_margin_policy(clean_margin_policy(form))
        except Invalid as invalid:
            return form_response("settings/margins.html", "settings/_margins_form.html",
                                 invalid.errors, form=form, roles=ROLES)
        flash(_("Margin policy saved."), "success")
        return see_other(url_for("settings.margins"))
    return page_or_fragment("settings/margins.html", "settings/_margins_form.html", errors={},
                            form=margin_policy_form(), roles=ROLES)


@bp.post("/margins/check")
@roles_required("admin")
def margins_check():
    return field_check(clean_margin_policy)
