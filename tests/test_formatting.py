import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from campotech_whatsapp.cloud import formatting as F


def test_datetime_is_day_first_in_buenos_aires_by_default():
    # Odoo stores datetimes naive in UTC: 17:30 UTC is 14:30 in Buenos Aires (UTC-3).
    assert F.format_datetime(datetime.datetime(2026, 12, 15, 17, 30)) == "15/12/2026 14:30"


def test_datetime_in_the_customers_time_zone():
    value = datetime.datetime(2026, 12, 15, 17, 30)
    assert F.format_datetime(value, "Europe/Madrid") == "15/12/2026 18:30"
    assert F.format_datetime(value, ZoneInfo("America/Mexico_City")) == "15/12/2026 11:30"


def test_datetime_crossing_midnight_changes_the_day():
    assert F.format_datetime(datetime.datetime(2026, 12, 16, 1, 15)) == "15/12/2026 22:15"


def test_aware_datetime_is_converted_not_relabelled():
    value = datetime.datetime(2026, 1, 2, 9, 5, tzinfo=ZoneInfo("Europe/Madrid"))
    assert F.format_datetime(value, "America/Argentina/Buenos_Aires") == "02/01/2026 05:05"


def test_timezone_takes_the_first_valid_name():
    assert F.timezone(False, "Not/AZone", "America/Argentina/Cordoba") == ZoneInfo(
        "America/Argentina/Cordoba")
    assert F.timezone(None, "") == ZoneInfo(F.DEFAULT_TZ)
    assert F.timezone() == ZoneInfo("America/Argentina/Buenos_Aires")


def test_date_is_day_first():
    assert F.format_date(datetime.date(2026, 3, 7)) == "07/03/2026"


def test_format_datetime_refuses_a_date():
    with pytest.raises(TypeError):
        F.format_datetime(datetime.date(2026, 3, 7))


@pytest.mark.parametrize("value, text", [
    (12345.67, "12.345,67"),
    (1234567.891, "1.234.567,89"),
    (0, "0,00"),
    (999.995, "1.000,00"),        # half up, not banker's rounding
    (Decimal("0.125"), "0,13"),
    (2.675, "2,68"),              # the float 2.675 is 2.67499…; str() keeps 2.675
    (-1500, "-1.500,00"),
])
def test_number_uses_argentine_separators(value, text):
    assert F.format_number(value) == text


def test_number_with_other_precision():
    assert F.format_number(12345.6789, 0) == "12.346"
    assert F.format_number(1.5, 3) == "1,500"


def test_amount_with_symbol_before_or_after():
    assert F.format_amount(12345.67) == "$ 12.345,67"
    assert F.format_amount(12345.67, "US$") == "US$ 12.345,67"
    assert F.format_amount(12.5, "€", "after") == "12,50 €"
    assert F.format_amount(-1500, "$") == "-$ 1.500,00"
    assert F.format_amount(3, "") == "3,00"


@pytest.mark.parametrize("bad", [True, "doce", None])
def test_number_refuses_what_is_not_a_number(bad):
    with pytest.raises(TypeError):
        F.format_number(bad)
