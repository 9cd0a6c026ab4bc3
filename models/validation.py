"""Reading user input into clean values, with a message per field.

Every form and every API write goes through an area's `clean_*` function built
on `Checker`; the inline field check calls the same function, so the message a
user sees while typing is the one the save would give.
"""
import datetime
import re

from flask_babel import lazy_gettext as _l

EMAIL_RE = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{4,30}$")


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

    def text(self, name, *, required=False, max_length=200, multiline=False):
        if self._skip(name):
            return
        value = self._raw(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            return self.fail(name, _l("Enter text."))
        if required and not value:
            return self.fail(name, _l("This field is required."))
        if len(value) > max_length:
            return self.fail(name, _l("Keep this under %(n)s characters.", n=max_length))
        if not multiline and ("\n" in value or "\r" in value):
            value = " ".join(value.split())
        self.values[name] = value

    def choice(self, name, choices, *, required=True):
        if self._skip(name):
            return
        value = self._raw(name) or ""
        if not value and not required:
            self.values[name] = None
            return
        if not isinstance(value, str) or value not in choices:
            return self.fail(name, _l("Choose one of the options."))
        self.values[name] = value

    def email(self, name, *, required=False):
        if self._skip(name):
            return
        value = (self._raw(name) or "")
        if not isinstance(value, str):
            return self.fail(name, _l("Enter a valid email address."))
        value = value.lower()
        if not value:
            if required:
                return self.fail(name, _l("This field is required."))
            self.values[name] = ""
            return
        if len(value) > 254 or not EMAIL_RE.match(value):
            return self.fail(name, _l("Enter a valid email address, like name@example.com."))
        self.values[name] = value

    def email_list(self, name):
        """Several addresses, separated by commas, spaces or new lines (or a JSON list)."""
        if self._skip(name):
            return
        items = _split_list(self._raw(name))
        if items is None:
            return self.fail(name, _l("Enter email addresses separated by commas."))
        bad = [e for e in items if len(e) > 254 or not EMAIL_RE.match(e)]
        if bad:
            return self.fail(name, _l("This is not a valid email address: %(v)s", v=bad[0]))
        self.values[name] = _unique(e.lower() for e in items)

    def domain_list(self, name):
        if self._skip(name):
            return
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

    def phone(self, name):
        if self._skip(name):
            return
        value = self._raw(name) or ""
        if value and (not isinstance(value, str) or not PHONE_RE.match(value)):
            return self.fail(name, _l("Enter a phone number with digits, like +31 20 123 4567."))
        self.values[name] = value

    def url(self, name):
        if self._skip(name):
            return
        value = self._raw(name) or ""
        if not isinstance(value, str):
            return self.fail(name, _l("Enter a web address."))
        if value and not re.match(r"^https?://", value, re.I):
            value = "https://" + value
        if value and (len(value) > 200 or not re.match(r"^https?://[^\s/$.?#][^\s<>\"]*$", value, re.I)):
            return self.fail(name, _l("Enter a web address, like www.example.com."))
        self.values[name] = value

    def date(self, name, *, required=False):
        if self._skip(name):
            return
        value = self._raw(name) or ""
        if not value:
            if required:
                return self.fail(name, _l("Enter a date."))
            self.values[name] = None
            return
        try:
            self.values[name] = datetime.date.fromisoformat(str(value))
        except ValueError:
            self.fail(name, _l("Enter a date as YYYY-MM-DD."))

    def datetime(self, name, *, required=False):
        """A moment in time; naive input is read as UTC by the caller's convention."""
        if self._skip(name):
            return
        value = self._raw(name) or ""
        if not value:
            if required:
                return self.fail(name, _l("Enter a date and time."))
            self.values[name] = None
            return
        try:
            self.values[name] = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(name, _l("Enter a date and time as YYYY-MM-DD HH:MM."))

    def decimal(self, name, message, *, places, maximum=None, minimum=None, required=True,
                positive=False, default=None):
        """A Decimal from user input ("12,50", "1.234,50", or a JSON number read as written)."""
        from .money import ZERO, parse_decimal
        if self._skip(name):
            return
        raw = self._raw(name)
        if raw is None or raw == "":
            if required:
                return self.fail(name, _l("This field is required."))
            self.values[name] = default
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

    def boolean(self, name):
        if self._skip(name):
            return
        value = self.data.get(name)
        if isinstance(value, bool):
            self.values[name] = value
        elif value in (None, "", "0", "false", "off", "no"):
            self.values[name] = False
        elif value in ("1", "true", "on", "yes"):
            self.values[name] = True
        else:
            self.fail(name, _l("Choose yes or no."))

    def integer(self, name, *, required=False, minimum=None):
        if self._skip(name):
            return
        value = self._raw(name)
        if value in (None, ""):
            if required:
                return self.fail(name, _l("This field is required."))
            self.values[name] = None
            return
        try:
            number = int(value)
        except (TypeError, ValueError):
            return self.fail(name, _l("Enter a whole number."))
        if minimum is not None and number < minimum:
            return self.fail(name, _l("Enter a number of at least %(n)s.", n=minimum))
        self.values[name] = number

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
