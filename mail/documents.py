"""Customer documents: the quote as HTML (preview, the customer's page) and as PDF (WeasyPrint).

One template, `templates/documents/_quote.html`, in the quote's language with money and dates
formatted for that locale. The PDF embeds `static/css/document.css` (WeasyPrint does not care
about the CSP); pages shown in the browser link it, with the company's accent colour from
`public.document_theme`, since the CSP forbids inline styles.
"""
import base64
import re
from decimal import Decimal
from pathlib import Path

from babel.numbers import format_currency, format_decimal
from flask import current_app, render_template
from flask_babel import force_locale, format_date, get_locale

from models.db import utcnow
from models.settings import company

DEFAULT_ACCENT = "#2457c5"
COLOUR = re.compile(r"^#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
LOGO_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif", "image/webp")
# English as written in Europe (day before month, 24-hour clock), as in the app.
FORMAT_LOCALES = {"en": "en_GB"}


def document_locale(language):
    return FORMAT_LOCALES.get(language, language or "en")


def accent_colour(settings=None):
    """The company's accent colour when it is a plain #rgb/#rrggbb, else ours."""
    colour = (settings or company()).accent_color or ""
    return colour if COLOUR.match(colour) else DEFAULT_ACCENT


class Formats:
    """Money, quantities, percentages and dates in the locale in force (see force_locale)."""

    def __init__(self, currency):
        self.currency = currency

    def money(self, amount):
        return format_currency(amount, self.currency, locale=get_locale())

    def price(self, amount):
        """A unit price keeps its extra decimals (0.4125), shown with at least two."""
        return format_currency(Decimal(amount).normalize(), self.currency, locale=get_locale(),
                               decimal_quantization=False)

    def quantity(self, amount):
        return format_decimal(Decimal(amount).normalize(), locale=get_locale(),
                              decimal_quantization=False)

    def percent(self, rate):
        return format_decimal(Decimal(rate).normalize(), locale=get_locale(),
                              decimal_quantization=False) + "\u00a0%"

    def date(self, day):
        return format_date(day, "long") if day else ""


def quote_context(quote):
    """Everything the quote document shows — never cost or margin."""
    settings = company()
    lines = list(quote.ordered_lines())
    totals = quote.totals(lines)
    logo = None
    if settings.logo and settings.logo_type in LOGO_TYPES:
        logo = f"data:{settings.logo_type};base64,{base64.b64encode(bytes(settings.logo)).decode()}"
    return {
        "quote": quote,
        "account": quote.account,
        "contact": quote.contact,
        "author": quote.author,
        "company": settings,
        "logo_uri": logo,
        "rows": list(zip(lines, totals.lines)),
        "totals": totals,
        "has_discount": any(line.discount_pct for line in lines),
        "issued_on": (quote.sent_at or utcnow()).date(),
        "fmt": Formats(quote.currency),
    }


def document_css():
    path = Path(current_app.static_folder) / "css" / "document.css"
    return path.read_text(encoding="utf-8")


def render_quote(template, quote, **extra):
    """Render `template` with the quote document's context in the quote's language."""
    with force_locale(document_locale(quote.language)):
        return render_template(template, **quote_context(quote), **extra)


def quote_html(quote):
    """The quote as a standalone HTML document, its stylesheet embedded."""
    return render_quote("documents/quote.html", quote, css=document_css(),
                        accent=accent_colour())


def quote_pdf(quote):
    """The quote as PDF bytes."""
    from weasyprint import HTML  # slow to import: only where a PDF is made
    return HTML(string=quote_html(quote), base_url=current_app.static_folder).write_pdf()


def quote_filename(quote):
    return f"{quote.display_number}.pdf"
