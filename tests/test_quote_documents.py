"""The quote document: HTML preview and PDF in the quote's language, with the company's
details, lines, VAT per rate and totals — and never cost or margin."""
import io
import re

import pytest

from conftest import login, make_user, text_of
from mail.documents import quote_html, quote_pdf
from mail_servers import sendable_quote
from models.settings import CompanySettings, company

PNG_PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082")


def pdf_text(data):
    from pypdf import PdfReader
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").split())


@pytest.fixture
def branded(app):
    settings = company()
    CompanySettings.update(name="Ακμή Έπιπλα Α.Ε.", address="Οδός Ερμού 12\n105 63 Αθήνα",
                           vat_number="EL123456789", bank_account="GR16 0110 1250 0000 0001 2300 695",
                           accent_color="#aa3300", logo=PNG_PIXEL, logo_type="image/png").where(
        CompanySettings.id == settings.id).execute()
    return company()


@pytest.mark.parametrize("language, money, date_word", [
    ("en", "€2,250.00", "December"), ("nl", "€ 2.250,00", "december"),
    ("it", "2.250,00 €", "dicembre"), ("el", "2.250,00 €", "Δεκεμβρίου")])
def test_the_pdf_is_in_the_quote_language_with_lines_and_totals(app, user, branded, language,
                                                                 money, date_word):
    import datetime
    from models.quotes import Quote
    quote = sendable_quote(user, language=language)
    Quote.update(valid_until=datetime.date(datetime.date.today().year + 1, 12, 15)).where(
        Quote.id == quote.id).execute()
    quote = Quote.get_by_id(quote.id)
    text = pdf_text(quote_pdf(quote))
    assert money in text
    assert date_word in text
    assert quote.display_number in text
    assert "Ακμή Έπιπλα Α.Ε." in text and "EL123456789" in text and "GR16 0110" in text
    assert "Αθήνα" in text


def test_the_html_document_shows_vat_per_rate_and_no_cost_or_margin(app, user, branded):
    quote = sendable_quote(user, language="el")
    html = quote_html(quote)
    assert "<style>" in html and "--doc-accent: #aa3300" in html
    assert 'src="data:image/png;base64,' in html
    text = re.sub(r"<[^>]+>", " ", html.split("</style>")[1]).replace("\u00a0", " ")
    assert "24 %" in text and "6 %" in text
    assert "605,52 €" in text and "2,16 €" in text and "3.166,68 €" in text
    assert "10 %" in text                       # the line discount
    assert "625,00" not in text                 # cost price (half the unit price) never shown
    assert "margin" not in text.lower() and "Cost" not in text


def test_a_company_colour_that_is_not_a_colour_is_not_put_in_the_css(app, user):
    settings = company()
    CompanySettings.update(accent_color="red;} body{display:none").where(
        CompanySettings.id == settings.id).execute()
    quote = sendable_quote(user)
    assert "display:none" not in quote_html(quote)
    assert "--doc-accent: #2457c5" in quote_html(quote)


def test_the_preview_page_and_fragment(app, client, user, branded):
    quote = sendable_quote(user, language="it")
    login(client, user)
    page = client.get(f"/quotes/{quote.id}/preview")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "style=" not in body and "<style" not in body     # the CSP allows no inline styles
    assert "/static/css/document.css" in body and "/q/document-theme.css" in body
    assert "Download PDF" in text_of(page)
    assert "2.250,00 €" in text_of(page).replace("\u00a0", " ")
    fragment = client.get(f"/quotes/{quote.id}/preview", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'class="quote-document"' in fragment.get_data(as_text=True)
    theme = client.get("/q/document-theme.css")
    assert theme.mimetype == "text/css" and "--doc-accent: #aa3300" in theme.get_data(True)


def test_the_pdf_route(app, client, user):
    quote = sendable_quote(user)
    login(client, user)
    response = client.get(f"/quotes/{quote.id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert f'filename="{quote.display_number}.pdf"' in response.headers["Content-Disposition"]
    assert client.get("/quotes/999999/pdf").status_code == 404


def test_documents_are_for_staff_only(app, client, user):
    quote = sendable_quote(user)
    assert client.get(f"/quotes/{quote.id}/preview").status_code == 302
    assert client.get(f"/quotes/{quote.id}/pdf").status_code == 302
    colleague = make_user("other@example.com")
    login(client, colleague)
    assert client.get(f"/quotes/{quote.id}/preview").status_code == 200


def test_user_text_in_the_document_is_escaped(app, user):
    from models.quotes import QuoteLine
    quote = sendable_quote(user)
    QuoteLine.update(description="<script>alert(1)</script>").where(
        QuoteLine.quote == quote).execute()
    html = quote_html(quote)
    assert "<script>" not in html and "&lt;script&gt;" in html
