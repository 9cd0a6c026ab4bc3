"""Reading user input into clean values, with a message per field.

Every form and every API write goes through an area's `clean_*` function built
on `Checker`; the inline field check calls the same function, so the message a
user sees while typing is the one the save would give.
"""
import datetime
import functools
import re

from flask_babel import lazy_gettext as _l

# Ids, versions and counts are 32-bit integers in the database: a larger number names nothing,
# and handed to the database it fails (OverflowError on SQLite, DataError on PostgreSQL).
MAX_ID = 2**31 - 1
# The years a date typed by a person may have: older or later ones are typing mistakes, and at
# the far ends a moment cannot even be moved into UTC (year 1 at +05:00 is before year 1).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# C0 control characters other than tab, line feed and carriage return: nobody types them, and
# PostgreSQL refuses NUL outright ("A string literal cannot contain NUL").
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
INTEGER_RE = re.compile(r"([+-]?)0*([0-9]+)")
HUGE = 10**30  # what a number of more digits is read as: beyond every range, cheap to compare

EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{4,30}$")


def parse_int(value, *, minimum=0, maximum=MAX_ID):
    """A whole number from input, or None: an int, or a string of ASCII digits (with a sign
    when `minimum` is negative), from `minimum` to `maximum`. The one reading of a number for
    ids, versions, pages and cursors, so none can reach the database out of its range."""
    number = _whole(value)
    if number is None or not minimum <= number <= maximum:
        return None
    return number


def _whole(value):
    """An int, or a string like "12" or "-3" (not "²" or "1.0"), or None. A string of more
    than 30 digits counts as ±HUGE, so a thousand digits cost no more than ten."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = INTEGER_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    sign, digits = match.groups()
    number = int(digits) if len(digits) <= 30 else HUGE
    return -number if sign == "-" else number


def search_term(text):
    """What a search or filter may look for: control characters dropped (no stored text holds
    one, and PostgreSQL cannot be asked about NUL), tabs and line breaks as spaces, trimmed.
    Every search term passes through here: `contains`, `Contact.matching`, the list filters."""
    if not isinstance(text, str):
        return ""
    return CONTROL_RE.sub("", re.sub(r"[\t\n\r]", " ", text)).strip()


def has_control_characters(value):
    """Whether `value` (a string or a list of them) holds a character CONTROL_RE refuses."""
    if isinstance(value, str):
        return CONTROL_RE.search(value) is not None
    if isinstance(value, (list, tuple)):
        return any(has_control_characters(item) for item in value)
    return False


def _field(method):
    """A Checker method: skipped when a partial update leaves the field out; refused when the
    value holds control characters, whatever kind of field it is."""
    @functools.wraps(method)
    def check(self, name, *args, **kwargs):
        if self._skip(name):
            return None
        if has_control_characters(self.data.get(name)):
            return self.fail(name, _l("Remove the invisible control characters from this text."))
        return method(self, name, *args, **kwargs)
    return check


class Invalid(Exception):
    """Input that cannot be saved; `errors` maps each field to its message."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


class Checker:
    """Collects clean values and messages from a mapping of raw input.

    Absent keys are skipped when `partial` (an API PATCH), so only what was
    sent is checked and changed.
    """

    def __init__(self, data, partial=False):
        self.data = data
        self.partial = partial
        self.values = {}
        self.errors = {}

    def _raw(self, name):
        value = self.data.get(name)
        if isinstance(value, str):
            value = value.strip()
        return value

    def _skip(self, name):
        return self.partial and name not in self.data

    def fail(self, name, message):
        self.errors.setdefault(name, message)

    def _blank(self, name, value, required, empty=None):
        """Whether nothing was given for the field; then it is settled: "required", or `empty`."""
        if value not in (None, ""):
            return False
        if required:
            self.fail(name, _l("This field is required."))
        else:
            self.values[name] = empty
        return True

    @_field
    def text(self, name, *, required=False, max_length=200, multiline=False):
        value = self._raw(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            return self.fail(name, _l("Enter text."))
        if required and not value:
            return self.fail(name, _l("This field is required."))
        if len(value) > max_length:
            return self.fail(name, _l("Keep this under %(n)s characters.", n=max_length))
        if not multiline and ("\n" in value or "\r" in value or "\t" in value):
            value = " ".join(value.split())
        self.values[name] = value

    @_field
    def choice(self, name, choices, *, required=True):
        value = self._raw(name) or ""
        if not value and not required:
            self.values[name] = None
            return
        if not isinstance(value, str) or value not in choices:
            return self.fail(name, _l("Choose one of the options."))
        self.values[name] = value

    @_field
    def email(self, name, *, required=False):
        value = (self._raw(name) or "")
        if not isinstance(value, str):
            return self.fail(name, _l("Enter a valid email address."))
        value = value.lower()
        if self._blank(name, value, required, empty=""):
            return
        if len(value) > 254 or not EMAIL_RE.match(value):
            return self.fail(name, _l("Enter a valid email address, like name@example.com."))
        self.values[name] = value

    @_field
    def email_list(self, name):
        """Several addresses, separated by commas, spaces or new lines (or a JSON list)."""
        items = _split_list(self._raw(name))
        if items is None:
            return self.fail(name, _l("Enter email addresses separated by commas."))
        bad = [e for e in items if len(e) > 254 or not EMAIL_RE.match(e)]
        if bad:
            return self.fail(name, _l("This is not a valid email address: %(v)s", v=bad[0]))
        self.values[name] = _unique(e.lower() for e in items)

    @_field
    def domain_list(self, name):
        items = _split_list(self._raw(name))
        if items is None:
            return self.fail(name, _l("Enter domains separated by commas."))
        cleaned = []
        for item in items:
            domain = item.lower().removeprefix("@").rstrip(".")
            if not DOMAIN_RE.match(domain):
                return self.fail(name, _l("This is not a valid domain: %(v)s", v=item))
            cleaned.append(domain)
        self.values[name] = _unique(cleaned)

    @_field
    def phone(self, name):
        value = self._raw(name) or ""
        if value and (not isinstance(value, str) or not PHONE_RE.match(value)):
            return self.fail(name, _l("Enter a phone number with digits, like +31 20 123 4567."))
        self.values[name] = value

    @_field
    def url(self, name):
        value = self._raw(name) or ""
        if not isinstance(value, str):
            return self.fail(name, _l("Enter a web address."))
        if value and not re.match(r"^https?://", value, re.I):
            value = "https://" + value
        if value and (len(value) > 200 or not re.match(r"^https?://[^\s/$.?#][^\s<>\"]*$", value, re.I)):
            return self.fail(name, _l("Enter a web address, like www.example.com."))
        self.values[name] = value

    @_field
    def date(self, name, *, required=False):
        value = self._raw(name) or ""
        if not value:
            if required:
                return self.fail(name, _l("Enter a date."))
            self.values[name] = None
            return
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            return self.fail(name, _l("Enter a date as YYYY-MM-DD."))
        if not self._in_range(name, day):
            return
        self.values[name] = day

    @_field
    def datetime(self, name, *, required=False):
        """A moment in time; naive input is read as UTC by the caller's convention."""
        value = self._raw(name) or ""
        if not value:
            if required:
                return self.fail(name, _l("Enter a date and time."))
            self.values[name] = None
            return
        try:
            moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return self.fail(name, _l("Enter a date and time as YYYY-MM-DD HH:MM."))
        if not self._in_range(name, moment):
            return
        self.values[name] = moment

    def _in_range(self, name, day):
        """Whether a date or moment lies in the years people mean (a message when not)."""
        if EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            return True
        self.fail(name, _l("Enter a date from %(first)s to %(last)s.",
                           first=str(EARLIEST_YEAR), last=str(LATEST_YEAR)))
        return False

    @_field
    def decimal(self, name, message, *, places, maximum=None, minimum=None, required=True,
                positive=False, default=None):
        """A Decimal from user input ("12,50", "1.234,50", or a JSON number read as written)."""
        from .money import ZERO, parse_decimal
        raw = self._raw(name)
        if self._blank(name, raw, required, empty=default):
            return
        if isinstance(raw, float):
            raw = str(raw)  # never through binary floating point
        limits = {"minimum": ZERO if minimum is None else minimum}
        if maximum is not None:
            limits["maximum"] = maximum
        value = parse_decimal(raw, places=places, **limits)
        if value is None or (positive and value <= 0):
            return self.fail(name, message)
        self.values[name] = value

    @_field
    def boolean(self, name):
        value = self.data.get(name)
        if isinstance(value, bool):
            self.values[name] = value
        elif value in (None, "", "0", "false", "off", "no"):
            self.values[name] = False
        elif value in ("1", "true", "on", "yes"):
            self.values[name] = True
        else:
            self.fail(name, _l("Choose yes or no."))

    @_field
    def integer(self, name, *, required=False, minimum=None, maximum=MAX_ID):
        """A whole number; at most `maximum` (by default what the database can hold)."""
        value = self._raw(name)
        if self._blank(name, value, required):
            return
        number = _whole(value)
        if number is None:
            return self.fail(name, _l("Enter a whole number."))
        if number < (-MAX_ID if minimum is None else minimum):
            return self.fail(name, _l("Enter a number of at least %(n)s.",
                                      n=-MAX_ID if minimum is None else minimum))
        if number > maximum:
            return self.fail(name, _l("Enter a number of at most %(n)s.", n=maximum))
        self.values[name] = number

    @_field
    def record(self, name, find, message, *, required=False):
        """A record chosen by its id: `find(id)` answers it, or None when it is not one the
        field may name. `message` for an id that names none (or could not be an id at all)."""
        value = self._raw(name)
        if self._blank(name, value, required):
            return
        record_id = parse_int(value, minimum=1)
        found = find(record_id) if record_id is not None else None
        if found is None:
            return self.fail(name, message)
        self.values[name] = found

    def done(self):
        if self.errors:
            raise Invalid(self.errors)
        return self.values


def _split_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            return None
        return [v.strip() for v in value if v.strip()]
    if not isinstance(value, str):
        return None
    return [v for v in re.split(r"[\s,;]+", value) if v]


def _unique(items):
    return list(dict.fromkeys(items))
