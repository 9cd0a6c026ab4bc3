"""Money arithmetic: Decimal only, rounded half-up to cents where an amount is final."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
ZERO = Decimal("0")


def cents(amount):
    """Round an amount to cents, half-up (0.005 → 0.01), as invoices and quotes do."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount, rate):
    """`rate` percent of `amount`, unrounded."""
    return Decimal(amount) * Decimal(rate) / HUNDRED


def ratio_pct(part, whole, places="0.1"):
    """`part` as a percentage of `whole` (None when whole is zero), rounded half-up."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_UP)


def parse_decimal(text, *, places, minimum=ZERO, maximum=Decimal("999999999")):
    """A decimal from user input ("1234.5", "1234,50", "1.234,50"), or None when it is not one.

    Rejects more than `places` decimals: a price of 1.23456 is a typing error, not a price.
    """
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, (int,)) and not isinstance(text, bool):
        value = Decimal(text)
    elif isinstance(text, str):
        cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
        if "," in cleaned and "." in cleaned:
            # The later separator is the decimal one: 1.234,50 or 1,234.50.
            if cleaned.rfind(",") > cleaned.rfind("."):
                cleaned = cleaned.replace(".", "").replace(",", ".")
            else:
                cleaned = cleaned.replace(",", "")
        else:
            cleaned = cleaned.replace(",", ".")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            return None
    else:
        return None
    if not value.is_finite() or value < minimum or value > maximum:
        return None
    if -value.as_tuple().exponent > places:
        return None
    return value
