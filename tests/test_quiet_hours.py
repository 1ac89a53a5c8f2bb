"""Quiet hours: when an automated message queued at a moment goes out."""

import datetime

import pytest

from campotech_whatsapp.cloud import quiet_hours as qh

UTC = datetime.timezone.utc


def utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def test_daytime_message_goes_at_once():
    # 15:00 in Buenos Aires (UTC-3) is 18:00 UTC.
    assert qh.release_at(utc(2026, 12, 15, 18, 0)) is None


def test_late_evening_waits_for_next_morning():
    # 23:30 local on the 15th -> 08:00 local on the 16th = 11:00 UTC.
    assert qh.release_at(utc(2026, 12, 16, 2, 30)) == utc(2026, 12, 16, 11, 0)


def test_early_morning_waits_for_the_same_morning():
    # 05:00 local on the 16th -> 08:00 local the same day.
    assert qh.release_at(utc(2026, 12, 16, 8, 0)) == utc(2026, 12, 16, 11, 0)


def test_boundaries_start_is_quiet_end_is_not():
    assert qh.release_at(utc(2026, 12, 16, 0, 0)) == utc(2026, 12, 16, 11, 0)  # 21:00 local
    assert qh.release_at(utc(2026, 12, 16, 11, 0)) is None  # 08:00 local
    assert qh.release_at(utc(2026, 12, 15, 23, 59)) is None  # 20:59 local


def test_naive_utc_in_naive_utc_out():
    released = qh.release_at(datetime.datetime(2026, 12, 16, 2, 30))
    assert released == datetime.datetime(2026, 12, 16, 11, 0)
    assert released.tzinfo is None


def test_customer_time_zone_wins():
    # 02:30 UTC is 21:30 in Bogotá (UTC-5) too, but 03:30 in Madrid (UTC+1, winter).
    assert qh.release_at(utc(2026, 12, 16, 2, 30), tz="America/Bogota") == utc(2026, 12, 16, 13, 0)
    assert qh.release_at(utc(2026, 12, 16, 2, 30), tz="Europe/Madrid") == utc(2026, 12, 16, 7, 0)
    # 15:00 UTC is 16:00 in Madrid: not quiet there.
    assert qh.release_at(utc(2026, 12, 16, 15, 0), tz="Europe/Madrid") is None


def test_unknown_zone_falls_back_to_the_next_then_buenos_aires():
    assert qh.resolve_tz("Mars/Olympus", "", "America/Bogota").key == "America/Bogota"
    assert qh.resolve_tz(None, "nonsense").key == qh.DEFAULT_TZ


def test_same_day_span_and_half_hours():
    # 13:30-15:00 local siesta: 14:00 local (17:00 UTC) waits until 15:00 local.
    assert qh.release_at(utc(2026, 12, 15, 17, 0), 13.5, 15.0) == utc(2026, 12, 15, 18, 0)
    assert qh.release_at(utc(2026, 12, 15, 16, 29), 13.5, 15.0) is None


def test_equal_start_and_end_means_no_quiet_hours():
    assert qh.release_at(utc(2026, 12, 16, 2, 30), 8.0, 8.0) is None


def test_daylight_saving_zone_uses_the_local_clock():
    # New York in July is UTC-4: 22:00 local = 02:00 UTC, released at 08:00 local = 12:00 UTC.
    assert qh.release_at(utc(2026, 7, 2, 2, 0), tz="America/New_York") == utc(2026, 7, 2, 12, 0)


@pytest.mark.parametrize("bad", [None, -1, 25, True])
def test_bad_hours_are_refused(bad):
    with pytest.raises(ValueError):
        qh.release_at(utc(2026, 12, 16, 2, 30), bad, 8.0)
