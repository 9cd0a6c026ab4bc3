"""The company's own details, shown on every document and email a customer receives."""
import re
from xml.etree import ElementTree

from flask_babel import lazy_gettext as _l
from peewee import BlobField, CharField, TextField

from .db import BaseModel
from .validation import Checker, Invalid


class CompanySettings(BaseModel):
    """One row, edited by an admin."""
    name = CharField(default="Your Company")
    address = TextField(default="")
    email = CharField(default="")
    phone = CharField(default="")
    website = CharField(default="")
    vat_number = CharField(default="")
    bank_account = CharField(default="")   # IBAN, printed on quotes
    accent_color = CharField(default="#2457c5")
    logo = BlobField(null=True)
    logo_type = CharField(default="")      # image/png, image/svg+xml, image/jpeg


def company():
    """The settings row, created with defaults on first use."""
    row = CompanySettings.select().order_by(CompanySettings.id).first()
    return row or CompanySettings.create()


# --- editing the settings ----------------------------------------------------------------

ACCENT_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
FIELDS = ("name", "address", "email", "phone", "website", "vat_number", "bank_account",
          "accent_color")
MAX_LOGO_BYTES = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
# An SVG logo is an image, not a page: anything that runs, embeds or fetches is refused.
SVG_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler",
                          "listener", "animate", "set", "animatemotion", "animatetransform"}
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"


def clean_company(data):
    check = Checker(data)
    check.text("name", required=True, max_length=160)
    check.text("address", max_length=1000, multiline=True)
    check.email("email")
    check.phone("phone")
    check.url("website")
    check.text("vat_number", max_length=30)
    check.text("bank_account", max_length=60)
    check.text("accent_color", required=True, max_length=7)
    values = check.values
    if values.get("bank_account"):
        iban = values["bank_account"].replace(" ", "").upper()
        if not is_iban(iban):
            check.fail("bank_account", _l("Enter a valid IBAN, like NL91 ABNA 0417 1643 00."))
        else:
            values["bank_account"] = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    if values.get("accent_color"):
        if not ACCENT_RE.match(values["accent_color"]):
            check.fail("accent_color", _l("Enter a colour as # and six hex digits, like "
                                          "#2457c5."))
        else:
            values["accent_color"] = values["accent_color"].lower()
    return check.done()


def is_iban(iban):
    """The IBAN check: the country's shape and the mod-97 check digits."""
    if not IBAN_RE.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def clean_logo(raw):
    """(bytes, content type) of an uploaded logo, judged by its content, not its name."""
    if not raw:
        raise Invalid({"logo": _l("Choose an image file to upload.")})
    if len(raw) > MAX_LOGO_BYTES:
        raise Invalid({"logo": _l("The logo is larger than 1 MB; upload a smaller image.")})
    if raw.startswith(PNG_SIGNATURE) and raw[12:16] == b"IHDR":
        return raw, "image/png"
    if raw.startswith(JPEG_SIGNATURE):
        return raw, "image/jpeg"
    if _looks_like_svg(raw):
        problem = _svg_problem(raw)
        if problem:
            raise Invalid({"logo": problem})
        return raw, "image/svg+xml"
    raise Invalid({"logo": _l("Upload a PNG, JPEG or SVG image.")})


def _looks_like_svg(raw):
    head = raw[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def _svg_problem(raw):
    """Why this SVG cannot be a logo (script, event handlers, external files), or None."""
    unsafe = _l("This SVG contains scripts, animations or links to other files. Save it as a "
                "plain SVG or PNG and upload it again.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _l("The SVG is not UTF-8 text.")
    if "<!doctype" in text.lower() or "<!entity" in text.lower():
        return unsafe
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return _l("The SVG could not be read; export it again from your drawing program.")
    if root.tag not in (f"{SVG_NAMESPACE}svg", "svg"):
        return _l("Upload a PNG, JPEG or SVG image.")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.rsplit("}", 1)[-1].lower() in SVG_FORBIDDEN_ELEMENTS:
            return unsafe
        if element.tag.rsplit("}", 1)[-1].lower() == "style" and _unsafe_css(element.text):
            return unsafe
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return unsafe
            if local == "href" and not (value.startswith("#")
                                        or value.startswith("data:image/png")
                                        or value.startswith("data:image/jpeg")):
                return unsafe
            if "javascript:" in value.lower().replace(" ", "") or \
                    (local == "style" and _unsafe_css(value)):
                return unsafe
    return None


def _unsafe_css(css):
    css = (css or "").lower()
    return "@import" in css or "javascript:" in css or re.search(r"url\(\s*['\"]?[^#'\"\s]", css)


def set_logo(raw):
    """Store a validated logo (see clean_logo) or, with None, remove it."""
    row = company()
    if raw is None:
        row.logo, row.logo_type = None, ""
    else:
        row.logo, row.logo_type = clean_logo(raw)
    row.save()
    return row


def save_company(values):
    row = company()
    for field, value in values.items():
        setattr(row, field, value)
    row.save()
    return row


def company_form(row):
    return {field: getattr(row, field) or "" for field in FIELDS}
