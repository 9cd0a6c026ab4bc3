"""Template filters: dates and numbers in the user's language and time zone."""
import datetime
import functools
from decimal import Decimal
from email.errors import HeaderParseError
from email.header import decode_header, make_header

from babel import Locale
from babel.numbers import (format_currency, format_decimal as babel_format_decimal,
                           get_currency_precision, get_decimal_symbol, get_group_symbol)
from flask import g, url_for
from flask_babel import (get_locale, format_date, format_datetime, format_decimal, format_time,
                         format_timedelta, gettext as _, to_user_timezone)

from models.db import utcnow
from models.users import LANGUAGES

from .access import current_language


def local_today():
    """Today in the user's time zone, worked out once per request (lists ask for every row)."""
    if "local_today" not in g:
        g.local_today = to_user_timezone(utcnow()).date()
    return g.local_today


def when(moment):
    """A stored UTC moment the way people say it: "14:05", "yesterday 14:05", "3 Mar 2026"."""
    if moment is None:
        return ""
    local = to_user_timezone(moment)
    days = (local_today() - local.date()).days
    time = format_time(moment, "short")
    if days == 0:
        return _("today %(time)s", time=time)
    if days == 1:
        return _("yesterday %(time)s", time=time)
    if 1 < days < 7:
        return f"{format_datetime(moment, 'EEEE')} {time}"
    return format_date(local.date(), "medium")


def ago(moment):
    """How long ago, coarsely: "12 days ago"."""
    if moment is None:
        return ""
    delta = moment - utcnow()
    if datetime.timedelta(days=1) <= abs(delta) < datetime.timedelta(days=60):
        # Days, not "2 weeks": an account manager counts the days since the last contact.
        return format_timedelta(delta, granularity="day", threshold=1000, add_direction=True)
    return format_timedelta(delta, add_direction=True, threshold=1.1)


def due(day):
    """A due date relative to today: "today", "tomorrow", "3 days overdue", or the date."""
    if day is None:
        return ""
    delta = (day - local_today()).days
    if delta == 0:
        return _("today")
    if delta == 1:
        return _("tomorrow")
    if delta < 0:
        return format_timedelta(datetime.timedelta(days=delta), granularity="day",
                                add_direction=True, threshold=1.1)
    return format_date(day, "medium")


def local_input(moment):
    """A UTC moment as the value of a datetime-local input in the user's time zone."""
    if moment is None:
        return ""
    return to_user_timezone(moment).strftime("%Y-%m-%dT%H:%M")


def money(amount, currency="EUR"):
    """An amount with its currency in the user's locale: € 1.234,50 / €1,234.50.

    Babel's own format_currency costs about a millisecond; a 50-line quote shows 250 amounts
    while the user types. So Babel formats one sample per locale and currency, and each amount
    is put into that pattern (same output: tests/test_quote_pages.py compares them).
    """
    if amount is None:
        return ""
    positive, negative, places, group, decimal = _money_pattern(str(get_locale()), currency)
    amount = Decimal(amount)
    digits = f"{abs(amount):,.{places}f}".translate(
        {ord(","): "\x00", ord("."): "\x01"}).replace("\x00", group).replace("\x01", decimal)
    return (negative if amount < 0 else positive).replace("\x02", digits)


@functools.lru_cache(maxsize=64)
def _money_pattern(locale_name, currency):
    locale = Locale.parse(locale_name)
    places = get_currency_precision(currency)
    sample = Decimal("1234567.891234")
    number = babel_format_decimal(sample, "#,##0." + "0" * places if places else "#,##0",
                            locale=locale, decimal_quantization=True)
    positive = format_currency(sample, currency, locale=locale).replace(number, "\x02")
    negative = format_currency(-sample, currency, locale=locale).replace(number, "\x02")
    return positive, negative, places, get_group_symbol(locale), get_decimal_symbol(locale)


def plain(value):
    """A decimal as typed by a person: 2, 1.5, 12.5 (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def readable(header):
    """An address header as a person reads it: "Νίκος Π. <n@x.gr>", not its MIME encoded words
    (outgoing mail keeps names encoded, so the worker can split the list on commas)."""
    if not header or "=?" not in header:
        return header or ""
    try:
        return str(make_header(decode_header(header)))
    except (HeaderParseError, LookupError, UnicodeDecodeError, ValueError):
        return header


def list_url(endpoint, args, **changes):
    """The list's URL with its current filters, some changed; empty ones left out."""
    merged = {**args, **changes}
    return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})


def init_app(app):
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        when=when,
        ago=ago,
        due=due,
        local_input=local_input,
        date=lambda d, f="medium": format_date(d, f) if d else "",
        datetime=lambda d, f="medium": format_datetime(d, f) if d else "",
        number=lambda n: format_decimal(n) if n is not None else "",
        money=money,
        plain=plain,
        readable=readable,
    )
    app.jinja_env.globals.update(
        today=local_today,
        current_language=current_language,
        list_url=list_url,
        now_utc=utcnow,
        languages=LANGUAGES,
    )
