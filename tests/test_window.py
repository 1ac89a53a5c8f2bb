from datetime import datetime, timedelta, timezone

import pytest

from campotech_whatsapp.cloud import constants as C
from campotech_whatsapp.cloud.window import (
    WindowState, can_send_freeform, is_window_open, window_closes_at, window_state,
)

BUENOS_AIRES = timezone(timedelta(hours=-3))
LAST_NAIVE = datetime(2026, 3, 10, 15, 0, 0)  # as Odoo stores it: naive UTC
LAST_AWARE = LAST_NAIVE.replace(tzinfo=timezone.utc)
DAY = timedelta(seconds=C.SERVICE_WINDOW_SECONDS)


def test_window_is_24_hours():
    assert DAY == timedelta(hours=24)


def test_closes_24_hours_after_last_inbound_naive_stays_naive():
    assert window_closes_at(LAST_NAIVE) == datetime(2026, 3, 11, 15, 0, 0)
    assert window_closes_at(LAST_NAIVE).tzinfo is None


def test_closes_at_for_aware_input_is_aware_utc():
    closes = window_closes_at(LAST_AWARE.astimezone(BUENOS_AIRES))
    assert closes.utcoffset() == timedelta(0)
    assert closes == datetime(2026, 3, 11, 15, 0, 0, tzinfo=timezone.utc)


def test_no_inbound_message_means_no_window():
    assert window_closes_at(None) is None
    assert not is_window_open(None, LAST_AWARE)
    assert window_state(None, LAST_AWARE) == WindowState(False, None, timedelta(0))


def test_open_one_second_before_24_hours():
    now = LAST_NAIVE + DAY - timedelta(seconds=1)
    assert is_window_open(LAST_NAIVE, now)
    assert window_state(LAST_NAIVE, now).remaining == timedelta(seconds=1)


def test_closed_at_exactly_24_hours():
    assert not is_window_open(LAST_NAIVE, LAST_NAIVE + DAY)


def test_closed_after_24_hours_with_zero_remaining():
    state = window_state(LAST_NAIVE, LAST_NAIVE + DAY + timedelta(minutes=5))
    assert not state.open
    assert state.remaining == timedelta(0)
    assert state.closes_at == LAST_NAIVE + DAY


def test_open_right_after_the_inbound_message_with_full_day_remaining():
    state = window_state(LAST_AWARE, LAST_AWARE)
    assert state.open
    assert state.remaining == DAY
    assert state.closes_at == LAST_AWARE + DAY


def test_naive_datetimes_are_read_as_utc_not_local_time():
    # Odoo's naive values are UTC; read as Buenos Aires time (UTC-3) the
    # window would wrongly stay open 3 h longer.
    now_ba = (LAST_AWARE + timedelta(hours=23)).astimezone(BUENOS_AIRES)
    assert is_window_open(LAST_NAIVE, now_ba)
    now_ba_late = (LAST_AWARE + timedelta(hours=24, seconds=1)).astimezone(BUENOS_AIRES)
    assert not is_window_open(LAST_NAIVE, now_ba_late)


def test_naive_and_aware_forms_of_one_instant_agree():
    for hours in (0, 12, 23.99, 24, 30):
        now = LAST_AWARE + timedelta(hours=hours)
        assert is_window_open(LAST_NAIVE, now) == is_window_open(LAST_AWARE, now)
        assert is_window_open(LAST_AWARE, now.replace(tzinfo=None)) == \
            is_window_open(LAST_AWARE, now)


def test_aware_timestamps_in_other_zones_are_compared_as_instants():
    last_ba = LAST_AWARE.astimezone(BUENOS_AIRES)
    assert is_window_open(last_ba, LAST_AWARE + DAY - timedelta(seconds=1))
    assert not is_window_open(last_ba, LAST_AWARE + DAY)


def test_now_defaults_to_the_current_time():
    recent = datetime.now(timezone.utc) - timedelta(minutes=1)
    long_ago = datetime.now(timezone.utc) - timedelta(days=3)
    assert is_window_open(recent)
    assert not is_window_open(long_ago)


def test_odoo_empty_datetime_means_no_customer_message_yet():
    # A conversation started by us has last_inbound_at False in Odoo.
    assert window_state(False, LAST_AWARE) == WindowState(False, None, timedelta(0))
    assert not can_send_freeform(False, LAST_AWARE, "interactive")
    assert can_send_freeform(False, LAST_AWARE, "template")


def test_non_datetime_is_rejected():
    with pytest.raises(TypeError):
        is_window_open("2026-03-10 15:00:00", LAST_AWARE)


def test_templates_are_allowed_with_the_window_closed():
    late = LAST_NAIVE + DAY * 2
    assert can_send_freeform(LAST_NAIVE, late, "template")
    assert can_send_freeform(None, late, "template")


@pytest.mark.parametrize("message_type", [
    "text", "image", "document", "audio", "video", "sticker", "location",
    "contacts", "interactive", "reaction", "something_new",
])
def test_free_form_messages_need_the_window(message_type):
    assert can_send_freeform(LAST_NAIVE, LAST_NAIVE + timedelta(hours=1), message_type)
    assert not can_send_freeform(LAST_NAIVE, LAST_NAIVE + DAY, message_type)
    assert not can_send_freeform(None, LAST_NAIVE, message_type)


@pytest.mark.parametrize("message_type", ["mark_read", "typing"])
def test_read_receipts_and_typing_are_not_gated_by_the_window(message_type):
    assert can_send_freeform(LAST_NAIVE, LAST_NAIVE + DAY * 3, message_type)


@pytest.fixture
def server_in_buenos_aires(monkeypatch):
    import time
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    monkeypatch.setenv("TZ", "America/Argentina/Buenos_Aires")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_naive_means_utc_even_when_the_server_runs_in_local_time(server_in_buenos_aires):
    assert datetime(2026, 1, 1, 12).astimezone().utcoffset() == timedelta(hours=-3)
    assert window_closes_at(LAST_NAIVE) == LAST_NAIVE + DAY
    assert not is_window_open(LAST_NAIVE, LAST_AWARE + DAY)
    assert is_window_open(LAST_NAIVE, LAST_AWARE + DAY - timedelta(seconds=1))
