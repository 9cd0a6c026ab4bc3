"""Quote documents for staff: the on-screen preview and the PDF."""
from flask import Blueprint, make_response
from markupsafe import Markup

from mail.documents import quote_filename, quote_pdf, render_quote
from models.quotes import Quote

from .access import get_or_404
from .rendering import page_or_fragment

bp = Blueprint("documents", __name__, url_prefix="/quotes")


def document_markup(quote):
    """The document in the quote's language, ready to sit in a page in the user's language.

    Rendered (and escaped) by its own template; Markup only keeps it from being escaped twice.
    """
    return Markup(render_quote("documents/_quote.html", quote))


@bp.get("/<int:quote_id>/preview")
def preview(quote_id):
    """The quote as the customer will see it, in the quote's language."""
    quote = get_or_404(Quote, quote_id)
    return page_or_fragment("documents/preview.html", "documents/_document.html",
                            quote=quote, document=document_markup(quote))


@bp.get("/<int:quote_id>/pdf")
def pdf(quote_id):
    quote = get_or_404(Quote, quote_id)
    response = make_response(quote_pdf(quote))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{quote_filename(quote)}"'
    return response
