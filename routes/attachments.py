"""Email attachments for download, and the inline (`cid:`) images of a received email.

A download never renders in our origin: it is sent as an attachment, with a content type
from a short allow-list (anything else is application/octet-stream), `nosniff`, and a
filename made safe for the Content-Disposition header (RFC 6266: an ASCII fallback and the
UTF-8 name as filename*). Inline images are served only when their type is a plain image.
"""
import email as email_module
import re
import unicodedata
from email import policy
from urllib.parse import quote

from flask import Blueprint, abort, make_response
from flask_babel import format_decimal

from mail.sanitize import safe_filename
from models.emails import Email, EmailAttachment

from .access import find

bp = Blueprint("attachments", __name__)

SAFE_TYPES = frozenset({
    "application/pdf", "application/zip", "text/plain", "text/csv", "text/calendar",
    "image/png", "image/jpeg", "image/gif", "image/webp",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "message/rfc822",
})
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def safe_type(content_type):
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value if value in SAFE_TYPES else "application/octet-stream"


def content_disposition(name, kind="attachment"):
    """`attachment; filename="ascii"; filename*=UTF-8''…` (RFC 6266 and RFC 5987)."""
    name = safe_filename(name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()+-]", "_", ascii_name)
    stem, dot, extension = ascii_name.rpartition(".")
    if not dot:
        stem, extension = ascii_name, ""
    stem = stem.strip(" .") if stem.strip(" ._-") else "attachment"  # all of it was non-ASCII
    ascii_name = stem + (f".{extension.strip()}" if extension.strip() else "")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.app_template_filter("filesize")
def filesize(size):
    size = size or 0
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(size / 1024, '#,##0')} KB"
    return f"{format_decimal(size / (1024 * 1024), '#,##0.0')} MB"


def _file_response(data, content_type, filename, kind="attachment"):
    response = make_response(bytes(data))
    response.headers["Content-Type"] = content_type
    response.headers["Content-Disposition"] = content_disposition(filename, kind)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/attachments/<int:attachment_id>")
def download(attachment_id):
    attachment = find(EmailAttachment, attachment_id)
    if attachment is None or attachment.content is None:
        abort(404)
    return _file_response(attachment.content, safe_type(attachment.content_type),
                          attachment.filename)


@bp.get("/emails/<int:email_id>/inline/<path:content_id>")
def inline(email_id, content_id):
    """An inline image a received email names by `cid:`, read from the stored message."""
    stored = find(Email, email_id)
    if stored is None or stored.direction != "in" or not stored.raw:
        abort(404)
    part = _part_by_content_id(bytes(stored.raw), content_id)
    if part is None:
        abort(404)
    content_type = part.get_content_type().lower()
    if content_type not in INLINE_TYPES:
        abort(404)
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001  a broken part is simply not shown
        abort(404)
    return _file_response(data, content_type, part.get_filename() or "image", kind="inline")


def _part_by_content_id(raw, content_id):
    wanted = content_id.strip().strip("<>").lower()
    try:
        message = email_module.message_from_bytes(raw, policy=policy.compat32)
        for part in message.walk():
            cid = str(part.get("Content-ID", "")).strip().strip("<>").lower()
            if cid and cid == wanted and not part.is_multipart():
                return part
    except Exception:  # noqa: BLE001  untrusted bytes: no part rather than an error page
        return None
    return None
