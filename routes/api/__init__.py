"""The JSON API under /api/v1, authenticated with personal bearer tokens.

This module holds what every area of the API shares: who is asking (the
token), reading a JSON body, pages with an opaque cursor, the error answers,
and how values are written (ISO dates, users by email). The areas register
their routes on `bp` from their own modules, imported at the bottom.

Writes go through the same `clean_*` and save functions as the forms, so a rule
lives once, in `models/`; this layer only translates between JSON and what
those functions expect (an email address for a user, a list for the tags).
"""
import base64
import binascii
import contextlib
import datetime
import json

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models.db import StaleRecord
from models.users import ApiToken, User
from models.validation import MAX_ID, Invalid, parse_int, search_term

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PAGE_SIZE = 200
# Ids and versions are 32-bit integers in the database (MAX_ID); a larger number in a URL, a
# body or a cursor could not name a record, and would make the database driver fail instead of
# saying 404.
ID = f"int(max={MAX_ID})"  # the URL converter of a record's id: /accounts/<{ID}:account_id>


class ApiError(Exception):
    """An answer other than success: a status, a human message, perhaps a message per field."""

    def __init__(self, status, message, fields=None, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields
        self.headers = headers or {}


def error_response(status, message, fields=None, headers=None):
    body = {"error": str(message)}
    if fields:
        body["fields"] = {name: str(text) for name, text in fields.items()}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.errorhandler(ApiError)
def api_error(error):
    return error_response(error.status, error.message, error.fields, error.headers)


@bp.errorhandler(Invalid)
def invalid_input(invalid):
    return error_response(422, _("Some fields are not valid."), invalid.errors)


@bp.errorhandler(StaleRecord)
def stale_record(_error):
    return error_response(409, _("Someone else changed this record since you read it. "
                                 "Read it again, then apply your change to the new version."))


@bp.before_request
def authenticate():
    """Every API request carries `Authorization: Bearer <token>`; it acts as the token's user."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = None
    if scheme.lower() == "bearer" and token.strip():
        user = ApiToken.authenticate(token.strip())
    if user is None:
        raise ApiError(401, _("Send a valid API token as 'Authorization: Bearer <token>'."),
                       headers={"WWW-Authenticate": 'Bearer realm="api"'})
    g.user = user


def forbid_unless(allowed):
    if not allowed:
        raise ApiError(403, _("You are not allowed to do this."))


def found(record, message):
    """`record`, or a 404 with `message` when there is none."""
    if record is None:
        raise ApiError(404, message)
    return record


# --- reading a request ---------------------------------------------------------------

# What a field's JSON value must look like before the area's clean function reads it.
# null is always accepted: the clean function decides whether a field may be empty.
def _is_text(value):
    return isinstance(value, str)


def _is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


JSON_KINDS = {
    "text": (_is_text, _l("Send this as a JSON string.")),
    "bool": (lambda v: isinstance(v, bool), _l("Send true or false.")),
    "int": (_is_whole, _l("Send a whole number, like an id.")),
    "texts": (lambda v: isinstance(v, list) and all(_is_text(i) for i in v),
              _l("Send a list of strings.")),
    "ints": (lambda v: isinstance(v, list) and all(_is_whole(i) for i in v),
             _l("Send a list of ids (whole numbers).")),
}


def read_body(fields, read_only=()):
    """The request's JSON object checked against `fields` {name: JSON kind}, and its messages.

    400 when the body is not JSON or not an object, or names fields that do not
    exist or cannot be written. A value of the wrong JSON type is left out of the
    body and gets a message in the returned errors, so the area's clean function
    can still report on the rest and the client hears of every problem at once.
    """
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, _("The body is not valid JSON."))
    if not isinstance(body, dict):
        raise ApiError(400, _("Send a JSON object, like {\"name\": \"…\"}."))
    fixed = sorted(k for k in body if k in read_only)
    if fixed:
        raise ApiError(400, _("These fields cannot be changed here: %(names)s.",
                              names=", ".join(fixed)),
                       {name: _l("This field cannot be changed here.") for name in fixed})
    unknown = sorted(k for k in body if k not in fields)
    if unknown:
        raise ApiError(400, _("Unknown fields: %(names)s.", names=", ".join(unknown)),
                       {name: _l("There is no such field.") for name in unknown})
    errors = {}
    for name, value in list(body.items()):
        is_kind, message = JSON_KINDS[fields[name]]
        if value is not None and not is_kind(value):
            errors[name] = message
            del body[name]
    return body, errors


def seen_version(body):
    """The version the client last read: `version` in the body, or an `If-Match` header.

    None when the client sent neither: the change then applies to whatever is stored.
    """
    version = body.pop("version", None)
    if version is None and request.headers.get("If-Match"):
        tag = request.headers["If-Match"].strip().removeprefix("W/").strip('"')
        version = parse_int(tag, minimum=1)
        if version is None:
            raise ApiError(400, _("If-Match must be the record's version, like \"3\"."))
    return version


def user_ids_for(body, names, errors):
    """Replace the email addresses in `body[name]` with the user ids the clean functions take."""
    for name in names:
        if name not in body:
            continue
        email = body[name]
        if not email:
            body[name] = ""
            continue
        user = User.by_email(email)
        if user is None or not user.active:
            errors[name] = _l("There is no active user with this email address.")
            body[name] = ""
        else:
            body[name] = str(user.id)


@contextlib.contextmanager
def field_messages(errors=None, renamed=None):
    """Raise the messages of a clean or save function together with the API's own `errors`,
    each under the field name the API uses (`renamed`: {model name: API name}).

    Wrap only the clean (or the save): with `errors` set, the 422 comes when the block ends.
    """
    errors = errors or {}
    renamed = renamed or {}
    try:
        yield
    except Invalid as invalid:
        raise Invalid({**{renamed.get(k, k): v for k, v in invalid.errors.items()},
                       **errors}) from None
    if errors:
        raise Invalid(errors)


def user_arg(name):
    """A query-string filter naming a user by email: that user, or a 400."""
    email = search_term(request.args.get(name, ""))
    if not email:
        return None
    user = User.by_email(email)
    if user is None:
        raise ApiError(400, _("There is no user with the email address %(email)s.", email=email))
    return user


def choice_arg(name, choices):
    """A query-string filter that must be one of the vocabulary's values."""
    value = request.args.get(name, "").strip()
    if not value:
        return None
    if value not in choices:
        raise ApiError(400, _("%(name)s must be one of: %(values)s.",
                              name=name, values=", ".join(choices)))
    return value


def int_arg(name):
    value = request.args.get(name, "").strip()
    if not value:
        return None
    number = parse_int(value)
    if number is None:
        raise ApiError(400, _("%(name)s must be a whole number, like an id.", name=name))
    return number


def bool_arg(name):
    value = request.args.get(name, "").strip().lower()
    if not value:
        return None
    if value not in ("true", "false", "1", "0"):
        raise ApiError(400, _("%(name)s must be true or false.", name=name))
    return value in ("true", "1")


# --- pages -----------------------------------------------------------------------------

def page_size():
    value = request.args.get("limit", "").strip()
    if not value:
        return current_app.config.get("API_PAGE_SIZE", 50)
    number = parse_int(value, minimum=1, maximum=MAX_PAGE_SIZE)
    if number is None:
        raise ApiError(400, _("limit must be a whole number from 1 to %(n)s.", n=MAX_PAGE_SIZE))
    return number


def encode_cursor(position):
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def cursor_arg(is_valid):
    """The position a `?cursor=` points at, or None for the first page; 400 when it is not ours."""
    cursor = request.args.get("cursor", "").strip()
    if not cursor:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        position = None
    if position is None or not is_valid(position):
        raise ApiError(400, _("The cursor is not valid; use the 'next' value of a page as it is."))
    return position


def is_id(position):
    return _is_whole(position) and position > 0


def page_by_id(query, model, size):
    """One page of `query` in id order after the cursor, and the cursor of the next page."""
    after = cursor_arg(is_id)
    if after is not None:
        query = query.where(model.id > after)
    rows = list(query.order_by(model.id).limit(size + 1))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (encode_cursor(rows[-1].id) if more else None)


def page_response(items, next_cursor):
    return jsonify(items=items, next=next_cursor)


def record_response(item, status=200, location=None):
    response = jsonify(item)
    response.status_code = status
    if "version" in item:
        response.headers["ETag"] = f'"{item["version"]}"'
    if location:
        response.headers["Location"] = location
    return response


# --- writing values ----------------------------------------------------------------------

def iso_datetime(value):
    """A stored moment (naive UTC) as ISO 8601 with its Z."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.isoformat() + "Z"


def iso_date(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.date.fromisoformat(value[:10])
    return value.isoformat()


from . import accounts, contacts, tasks, timeline  # noqa: E402,F401  (routes register on bp)
from . import products  # noqa: E402,F401  (the catalogue and an account's prices)
from . import quotes  # noqa: E402,F401  (quotes, their lines and actions)
from . import inbox  # noqa: E402,F401  (the triage inbox)
