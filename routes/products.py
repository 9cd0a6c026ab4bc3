"""The catalogue: the product list, creating and editing, CSV import and export."""
from flask import (Blueprint, Response, abort, flash, g, redirect, render_template, request,
                   url_for)
from flask_babel import format_decimal, gettext as _

from models.db import StaleRecord
from models.products import (MAX_IMPORT_BYTES, SORTS, STATUSES, Product, categories,
                             clean_product, confirm_import, delete_product, export_csv,
                             may_edit_catalogue, pending_import, product_form, read_import,
                             save_product, set_active, store_import)
from models.users import LANGUAGES
from models.validation import Invalid

from .access import find, get_or_404
from .rendering import (field_check, form_response, form_version, page_number, page_or_fragment,
                        see_other)

bp = Blueprint("products", __name__, url_prefix="/products")

PAGE_SIZE = 50
FILTERS = ("q", "category", "status", "sort")


@bp.app_template_filter("unit_price")
def unit_price(value):
    """A catalogue price: at least 2 decimals, up to the 4 a unit price may have."""
    return "" if value is None else format_decimal(value, format="#,##0.00##")


def _list_args():
    args = {k: request.args.get(k, "").strip() for k in FILTERS}
    if args["status"] not in STATUSES:
        args["status"] = ""
    return args


def _listing(args):
    return Product.listing(q=args["q"], category=args["category"] or None,
                           status=args["status"] or "active", sort=args["sort"] or "code")


def _editor_only():
    if not may_edit_catalogue(g.user):
        abort(403)


@bp.get("/")
def index():
    """The list: search as you type on code and name, category and status filters, pages."""
    args = _list_args()
    page = page_number()
    query = _listing(args)
    total = query.count()
    products = list(query.paginate(page, PAGE_SIZE))
    return page_or_fragment(
        "products/index.html", "products/_results.html",
        products=products, total=total, page=page, page_size=PAGE_SIZE, args=args,
        categories=categories(), statuses=STATUSES, sorts=SORTS,
        can_edit=may_edit_catalogue(g.user))


@bp.get("/export.csv")
def export():
    """The (filtered) list as CSV, with the columns the import reads."""
    args = _list_args()
    response = Response(export_csv(_listing(args)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="products.csv"'
    return response


@bp.route("/new", methods=["GET", "POST"])
def create():
    _editor_only()
    form = {"unit": "pc", "vat_rate": "21", "stock": "0", "reserved": "0",
            "lead_time_days": "0", "active": "1"}
    if request.method == "POST":
        form = request.form
        try:
            product = save_product(clean_product(form))
        except Invalid as invalid:
            return form_response("products/new.html", "products/_form.html", invalid.errors,
                                 **_form_context(form, None))
        flash(_("Product %(code)s created.", code=product.code), "success")
        return see_other(url_for("products.show", product_id=product.id))
    return page_or_fragment("products/new.html", "products/_form.html", errors={},
                            **_form_context(form, None))


@bp.post("/check")
def check():
    """Inline validation: the message the save would give for one field."""
    return field_check(clean_product, find(Product, request.form.get("product_id")))


@bp.get("/<int:product_id>")
def show(product_id):
    product = get_or_404(Product, product_id)
    texts = {t.language: t for t in product.texts}
    return render_template("products/show.html", product=product, texts=texts,
                           languages=LANGUAGES, quote_lines=product.quote_line_count(),
                           can_edit=may_edit_catalogue(g.user))


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
def edit(product_id):
    _editor_only()
    product = get_or_404(Product, product_id)
    if request.method == "POST":
        form = request.form
        try:
            save_product(clean_product(form, product), product, seen_version=form_version(form))
        except Invalid as invalid:
            return form_response("products/edit.html", "products/_form.html", invalid.errors,
                                 **_form_context(form, product))
        except StaleRecord:
            errors = {"_form": _("Someone else changed this product while you were editing. "
                                 "Your changes are below; reload the page to see theirs, then "
                                 "apply yours again.")}
            return form_response("products/edit.html", "products/_form.html", errors,
                                 status=409, **_form_context(form, product))
        flash(_("Changes to %(code)s saved.", code=product.code), "success")
        return see_other(url_for("products.show", product_id=product.id))
    return page_or_fragment("products/edit.html", "products/_form.html", errors={},
                            **_form_context(product_form(product), product))


@bp.post("/<int:product_id>/active")
def activate(product_id):
    """Deactivate (or reactivate) a product: quotes keep it, new lines cannot use it."""
    _editor_only()
    product = get_or_404(Product, product_id)
    active = request.form.get("active") == "1"
    set_active(product, active)
    if active:
        flash(_("%(code)s is active again.", code=product.code), "success")
    else:
        flash(_("%(code)s is deactivated: it stays on existing quotes and can no longer be "
                "added to new ones.", code=product.code), "success")
    return redirect(url_for("products.show", product_id=product.id), 303)


@bp.post("/<int:product_id>/delete")
def delete(product_id):
    _editor_only()
    product = get_or_404(Product, product_id)
    try:
        delete_product(product)
    except Invalid as invalid:
        flash(invalid.errors["_form"], "error")
        return redirect(url_for("products.show", product_id=product.id), 303)
    flash(_("Product %(code)s deleted.", code=product.code), "success")
    return redirect(url_for("products.index"), 303)


# --- import ------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
def upload():
    """Step 1: upload a file. Nothing is written; the next page shows what it would do."""
    _editor_only()
    errors = {}
    if request.method == "POST":
        file = request.files.get("file")
        raw = file.read(MAX_IMPORT_BYTES + 1) if file else b""
        if not raw:
            errors["file"] = _("Choose a CSV file to upload.")
        elif len(raw) > MAX_IMPORT_BYTES:
            errors["file"] = _("The file is larger than 8 MB; split it into smaller files.")
        else:
            preview = read_import(raw, judge=False)
            if preview.problem:
                errors["file"] = preview.problem
            else:
                stored = store_import(g.user, file.filename, raw)
                return see_other(url_for("products.preview", token=stored.token))
        return form_response("products/import.html", "products/_import_form.html", errors)
    return page_or_fragment("products/import.html", "products/_import_form.html", errors=errors)


@bp.route("/import/<token>", methods=["GET", "POST"])
def preview(token):
    """Step 2: every row as new, update or error; confirming writes the valid rows at once."""
    _editor_only()
    stored = pending_import(g.user, token)
    if stored is None:
        flash(_("That import is no longer waiting; upload the file again."), "error")
        return redirect(url_for("products.upload"), 303)
    if request.method == "POST":
        try:
            counts = confirm_import(stored)
        except Invalid as invalid:
            flash(invalid.errors["file"], "error")
            return redirect(url_for("products.upload"), 303)
        flash(_("Import done: %(new)s new, %(update)s updated, %(error)s rows skipped "
                "with errors.", **counts), "success")
        return see_other(url_for("products.index", status="all"))
    return render_template("products/import_preview.html", preview=read_import(bytes(stored.data)),
                           stored=stored)


def _form_context(form, product):
    return dict(form=form, product=product, languages=LANGUAGES, all_categories=categories())
