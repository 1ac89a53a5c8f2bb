"""RetryPolicy: backoff arithmetic and the retry / hold / dead-letter decision."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from campotech_whatsapp.cloud import constants as C
from campotech_whatsapp.cloud.client import MediaIntegrityError
from campotech_whatsapp.cloud.errors import CloudApiError, PayloadError, TransportError
from campotech_whatsapp.cloud.retry import RetryDecision, RetryPolicy

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


class FixedRng:
    """Always draws the same end of the jitter interval."""

    def __init__(self, high):
        self.high = high

    def uniform(self, a, b):
        return b if self.high else a


def meta(code, http_status=400, retry_after=None):
    return CloudApiError("meta says no", code=code, http_status=http_status,
                         retry_after=retry_after)


def no_jitter(**kwargs):
    return RetryPolicy(jitter=0, **kwargs)


# --- delay --------------------------------------------------------------------

def test_delay_grows_exponentially_from_the_base():
    policy = no_jitter()
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_delay_is_capped_at_max_delay():
    policy = no_jitter()
    assert policy.delay(8) == 3600
    assert policy.delay(10_000) == 3600  # no float overflow on absurd attempt numbers


def test_delay_is_deterministic_with_a_seeded_rng():
    first = RetryPolicy(rng=random.Random(42))
    second = RetryPolicy(rng=random.Random(42))
    delays = [first.delay(n) for n in range(1, 9)]
    assert delays == [second.delay(n) for n in range(1, 9)]
    assert delays != [no_jitter().delay(n) for n in range(1, 9)]


def test_jitter_stays_within_the_proportional_band():
    assert RetryPolicy(rng=FixedRng(high=False)).delay(2) == pytest.approx(60 * 0.8)
    assert RetryPolicy(rng=FixedRng(high=True)).delay(2) == pytest.approx(60 * 1.2)
    policy = RetryPolicy(rng=random.Random(1))
    assert all(24 <= policy.delay(1) <= 36 for _ in range(200))


def test_jitter_never_pushes_a_delay_past_the_cap():
    assert RetryPolicy(rng=FixedRng(high=True)).delay(20) == 3600


def test_throttled_errors_start_from_the_throttled_base():
    policy = no_jitter()
    assert policy.delay(1, meta(C.ERR_THROUGHPUT)) == 60
    assert policy.delay(2, meta(C.ERR_WABA_RATE)) == 120
    assert policy.delay(1, TransportError("timed out")) == 30


def test_pair_rate_waits_at_least_the_pair_rate_interval():
    policy = RetryPolicy(base_delay=1, throttled_base_delay=1, jitter=0)
    assert policy.delay(1, meta(C.ERR_PAIR_RATE)) == C.PAIR_RATE_SECONDS


def test_retry_after_is_a_minimum():
    policy = no_jitter()
    assert policy.delay(1, meta(C.ERR_THROUGHPUT, 429, retry_after=500)) == 500
    # A short Retry-After does not shorten our own backoff.
    assert policy.delay(3, meta(None, 503, retry_after=5)) == 120


def test_retry_after_beyond_max_delay_is_honoured_exactly():
    policy = RetryPolicy(rng=FixedRng(high=True))
    assert policy.delay(10, meta(C.ERR_APP_RATE, retry_after=7200)) == 7200


@pytest.mark.parametrize("kwargs", [
    {"base_delay": 0}, {"factor": 0.5}, {"max_delay": 10}, {"max_attempts": 0}, {"jitter": 1.5},
])
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_attempt_numbers_start_at_one():
    with pytest.raises(ValueError):
        RetryPolicy().delay(0)


# --- next_attempt ---------------------------------------------------------------

def test_retryable_error_is_retried_at_now_plus_delay():
    decision = no_jitter().next_attempt(2, TransportError("connection refused"), NOW)
    assert decision == RetryDecision(
        retry=True, at=NOW + timedelta(seconds=60), reason=decision.reason,
        dead_letter=False, hold=False, pause_queue=False)
    assert "connection refused" in decision.reason


def test_throttled_error_with_retry_after_is_retried_no_sooner():
    error = meta(C.ERR_THROUGHPUT, 429, retry_after=900)
    decision = RetryPolicy(rng=random.Random(3)).next_attempt(1, error, NOW)
    assert decision.retry
    assert decision.at >= NOW + timedelta(seconds=900)


def test_max_attempts_turns_a_retryable_error_into_a_dead_letter():
    policy = no_jitter(max_attempts=3)
    assert policy.next_attempt(2, meta(C.ERR_GENERIC, 500), NOW).retry
    decision = policy.next_attempt(3, meta(C.ERR_GENERIC, 500), NOW)
    assert (decision.retry, decision.dead_letter, decision.at) == (False, True, None)
    assert "3 attempts" in decision.reason


def test_window_closed_is_held_for_a_template_not_retried():
    decision = RetryPolicy().next_attempt(1, meta(C.ERR_REENGAGEMENT), NOW)
    assert (decision.retry, decision.hold, decision.dead_letter) == (False, True, False)
    assert "template" in decision.reason


def test_admin_error_dead_letters_and_asks_to_pause_the_queue():
    decision = RetryPolicy().next_attempt(1, meta(C.ERR_TOKEN_EXPIRED, 401), NOW)
    assert (decision.retry, decision.dead_letter, decision.pause_queue) == (False, True, True)
    assert "admin" in decision.reason


@pytest.mark.parametrize("error", [
    meta(C.ERR_UNDELIVERABLE), meta(C.ERR_TEMPLATE_MISSING), PayloadError("text too long"),
    RuntimeError("bug"),
])
def test_permanent_errors_are_dead_lettered_at_once(error):
    decision = RetryPolicy().next_attempt(1, error, NOW)
    assert (decision.retry, decision.dead_letter, decision.hold) == (False, True, False)


def test_media_integrity_error_is_retried():
    assert RetryPolicy().next_attempt(1, MediaIntegrityError("short read"), NOW).retry


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        RetryPolicy().next_attempt(1, TransportError("x"), datetime(2026, 11, 25, 12, 0))


def test_retry_time_keeps_the_callers_timezone():
    buenos_aires = timezone(timedelta(hours=-3))
    now = NOW.astimezone(buenos_aires)
    decision = no_jitter().next_attempt(1, TransportError("x"), now)
    assert decision.at.utcoffset() == timedelta(hours=-3)
    assert decision.at - now == timedelta(seconds=30)


def test_processing_of_an_unreadable_webhook_is_not_retried():
    policy = RetryPolicy(rng=random.Random(1))
    decision = policy.next_processing_attempt(1, ValueError("x"), NOW, unreadable=True)
    assert (decision.retry, decision.dead_letter) == (False, True)


def test_processing_failure_is_retried_with_backoff_until_max_attempts():
    policy = RetryPolicy(base_delay=60, max_attempts=3, jitter=0, rng=random.Random(1))
    first = policy.next_processing_attempt(1, RuntimeError("lock"), NOW)
    second = policy.next_processing_attempt(2, RuntimeError("lock"), NOW)
    assert first.retry and first.at == NOW + timedelta(seconds=60)
    assert second.at == NOW + timedelta(seconds=120)
    assert not policy.next_processing_attempt(3, RuntimeError("lock"), NOW).retry
