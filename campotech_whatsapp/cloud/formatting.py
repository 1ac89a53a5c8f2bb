"""Dates and amounts written the way an Argentine customer reads them.

Template parameters are plain text: WhatsApp shows them as given, so the
formatting is ours. Dates are day first (``15/12/2026 14:30``) in the
customer's time zone; amounts carry the currency symbol and Argentine
separators (``$ 12.345,67``: dot for thousands, comma for decimals).
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "America/Argentina/Buenos_Aires"
DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"


def timezone(*names):
    """The first valid IANA time zone among names (customer's, then the
    company's…), else Buenos Aires. Empty and unknown names are skipped."""
    for name in names:
        if not name or not isinstance(name, str):
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo(DEFAULT_TZ)


def format_date(value):
    """``15/12/2026`` for a date (a datetime gives its own date, as is)."""
    return value.strftime(DATE_FORMAT)


def format_datetime(value, tz=None):
    """``15/12/2026 14:30`` in tz. A naive datetime is UTC (how Odoo stores
    them); tz is a ZoneInfo or a name, Buenos Aires when missing."""
    if not isinstance(value, datetime.datetime):
        raise TypeError("format_datetime needs a datetime, got %s" % type(value).__name__)
    if not isinstance(tz, datetime.tzinfo):
        tz = timezone(tz)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(tz).strftime(DATETIME_FORMAT)


def format_number(value, decimals=2):
    """``12.345,67``: dot every three digits, comma before the decimals,
    rounded half up (as a cashier rounds, not banker's rounding)."""
    if isinstance(value, bool):
        raise TypeError("format_number needs a number, got bool")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise TypeError("format_number needs a number, got %r" % (value,)) from None
    decimals = max(int(decimals), 0)
    quantum = Decimal(1).scaleb(-decimals)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    text = "{:,.{}f}".format(abs(number), decimals)
    text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return sign + text


def format_amount(value, symbol="$", position="before", decimals=2):
    """``$ 12.345,67``; ``-$ 1.500,00`` for a credit; ``12,50 €`` when the
    currency writes its symbol after the amount (position 'after')."""
    number = format_number(value, decimals)
    sign = ""
    if number.startswith("-"):
        sign, number = "-", number[1:]
    if not symbol:
        return sign + number
    if position == "after":
        return "%s%s %s" % (sign, number, symbol)
    return "%s%s %s" % (sign, symbol, number)
