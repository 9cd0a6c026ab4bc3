"""Company settings and the margin policy: admin only, validated, the logo judged by content."""
import io
from decimal import Decimal

import pytest

from conftest import form_fields, login, make_user, text_of
from models.pricing import discount_limit, margin_policy
from models.settings import clean_logo, company, is_iban
from models.users import ROLES
from models.validation import Invalid

HTMX = {"HX-Request": "true"}
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#2457c5"/></svg>'


@pytest.fixture
def as_admin(client, admin):
    login(client, admin)
    return client


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_only_admins_see_the_settings(client, role):
    login(client, make_user(f"{role}@example.com", role=role))
    for url in ("/settings/", "/settings/company", "/settings/margins"):
        assert client.get(url).status_code == 403
    assert client.post("/settings/margins", data={}).status_code == 403
    assert client.post("/settings/company", data={"name": "Mine"}).status_code == 403
    assert company().name == "Your Company"


def _company_form(client):
    return form_fields(client.get("/settings/company").get_data(as_text=True), "company-form")


def test_company_details_saved_and_validated(as_admin):
    form = _company_form(as_admin)
    form.update(name="Bakkerij Jansen B.V.", address="Dorpsstraat 1\n1234 AB Ergens",
                email="Info@Jansen.nl", bank_account="nl91abna0417164300",
                accent_color="#AA3300", website="jansen.nl")
    response = as_admin.post("/settings/company", data=form)
    assert response.status_code == 303
    row = company()
    assert (row.name, row.email, row.bank_account, row.accent_color, row.website) == (
        "Bakkerij Jansen B.V.", "info@jansen.nl", "NL91 ABNA 0417 1643 00", "#aa3300",
        "https://jansen.nl")
    assert row.address == "Dorpsstraat 1\n1234 AB Ergens"

    form.update(accent_color="blue", bank_account="NL91ABNA0417164301", name="<script>x</script>")
    bad = as_admin.post("/settings/company", data=form, headers=HTMX)
    assert bad.status_code == 422
    page = text_of(bad)
    assert "Enter a valid IBAN" in page and "six hex digits, like #2457c5" in page
    html = bad.get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert company().name == "Bakkerij Jansen B.V."
    check = as_admin.post("/settings/company/check",
                          data={**form, "_field": "accent_color"})
    assert "six hex digits" in text_of(check)


def test_iban_check_digits():
    assert is_iban("NL91ABNA0417164300")
    assert is_iban("GR1601101250000000012300695")
    assert not is_iban("NL91ABNA0417164301")
    assert not is_iban("NL91")


def _upload_logo(client, data, name):
    form = _company_form(client)
    form["logo"] = (io.BytesIO(data), name)
    return client.post("/settings/company", data=form, content_type="multipart/form-data")


@pytest.mark.parametrize("data, kind", [(PNG, "image/png"), (JPEG, "image/jpeg"),
                                        (SVG, "image/svg+xml")])
def test_logo_is_judged_by_its_content(as_admin, data, kind):
    # The name says PNG; the content decides.
    response = _upload_logo(as_admin, data, "logo.png")
    assert response.status_code == 303
    assert company().logo_type == kind
    served = as_admin.get("/settings/logo")
    assert served.status_code == 200
    assert served.mimetype == kind and served.get_data() == data
    assert "default-src 'none'" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize("data, message", [
    (b"GIF89a\x01\x00\x01\x00", "PNG, JPEG or SVG"),
    (b"just text pretending.png", "PNG, JPEG or SVG"),
    (PNG + b"\x00" * (1024 * 1024), "larger than 1 MB"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "scripts"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "scripts"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
     b'<a x:href="javascript:alert(1)"><rect/></a></svg>', "scripts"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>',
     "links to other files"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
     "scripts"),
    (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
     "scripts"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://x/y.css);</style></svg>',
     "scripts"),
])
def test_bad_logos_are_refused_with_a_message_and_nothing_saved(as_admin, data, message):
    response = _upload_logo(as_admin, data, "logo.svg")
    assert response.status_code == 422
    assert message in text_of(response)
    assert company().logo is None
    assert as_admin.get("/settings/logo").status_code == 404


def test_logo_can_be_removed_and_is_for_logged_in_users_only(as_admin, client):
    _upload_logo(as_admin, PNG, "logo.png")
    form = _company_form(as_admin)
    assert "remove_logo" not in form
    form["remove_logo"] = "1"
    assert as_admin.post("/settings/company", data=form).status_code == 303
    assert company().logo is None
    with pytest.raises(Invalid):
        clean_logo(b"")
    _upload_logo(as_admin, PNG, "logo.png")
    with client.session_transaction() as session:
        session.clear()
    response = client.get("/settings/logo")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, make_user("am2@example.com"))
    assert client.get("/settings/logo").status_code == 200


def test_margin_policy_for_all_five_roles(as_admin):
    form = form_fields(as_admin.get("/settings/margins").get_data(as_text=True), "margins-form")
    assert form["min_line_margin_pct"] == "10" or Decimal(form["min_line_margin_pct"]) == 10
    assert {f"max_discount_{role}" for role in ROLES} <= set(form)
    form.update(min_line_margin_pct="12,5", min_quote_margin_pct="18", approval_threshold="25000",
                max_discount_account_manager="7.5", max_discount_inside_sales="3",
                max_discount_manager="30", max_discount_finance="20", max_discount_admin="40")
    assert as_admin.post("/settings/margins", data=form).status_code == 303
    policy = margin_policy()
    assert (policy.min_line_margin_pct, policy.min_quote_margin_pct,
            policy.approval_threshold) == (Decimal("12.5"), Decimal("18"), Decimal("25000"))
    assert [discount_limit(r) for r in ROLES] == [Decimal(x) for x in
                                                  ("7.5", "3", "30", "20", "40")]
    # Saving twice keeps one row per role.
    assert as_admin.post("/settings/margins", data=form).status_code == 303
    form.update(max_discount_manager="120", min_quote_margin_pct="-1", approval_threshold="x")
    bad = as_admin.post("/settings/margins", data=form, headers=HTMX)
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'value="120"' in html
    for field in ("max_discount_manager", "min_quote_margin_pct", "approval_threshold"):
        assert f'id="f-{field}"' in html and 'aria-invalid="true"' in html.split(
            f'id="f-{field}"')[1][:200]
    assert discount_limit("manager") == Decimal("30")
