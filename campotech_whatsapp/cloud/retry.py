"""When to try a failed Cloud API call again, and when to stop.

Pure arithmetic over an error's ErrorClass: no clock and no randomness of its
own (both are passed in), so the queue's behaviour can be tested exactly.
"""

import dataclasses
import random
from datetime import datetime, timedelta

from . import constants as C
from .errors import CloudApiError, ErrorClass

_REASON_MAX = 300


@dataclasses.dataclass(frozen=True)
class RetryDecision:
    """What to do with a queue item after a failed attempt.

    Exactly one of ``retry`` (at ``at``), ``hold`` (keep it, it needs another
    action such as a template) and ``dead_letter`` (give up) is true.
    ``pause_queue`` asks the caller to stop sending for the whole account and
    alert an administrator (expired token, missing permission).
    """

    retry: bool
    at: datetime | None
    reason: str
    dead_letter: bool
    hold: bool
    pause_queue: bool = False


def error_class_of(error):
    """The ErrorClass of an exception; anything but a CloudApiError is permanent.

    A non-API exception is a bad payload or a bug: repeating it repeats it.
    """
    if isinstance(error, CloudApiError):
        return error.error_class
    return ErrorClass.PERMANENT


def _describe(error):
    text = str(error) or type(error).__name__
    return text if len(text) <= _REASON_MAX else text[:_REASON_MAX] + "…"


class RetryPolicy:
    """Exponential backoff with proportional jitter and a cap."""

    def __init__(self, base_delay=30, factor=2.0, max_delay=3600, max_attempts=8,
                 jitter=0.2, throttled_base_delay=60, rng=None):
        if base_delay <= 0 or throttled_base_delay <= 0:
            raise ValueError("base delays must be positive")
        if factor < 1:
            raise ValueError("factor must be at least 1 (delays never shrink)")
        if max_delay < max(base_delay, throttled_base_delay):
            raise ValueError("max_delay must be at least the base delays")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        self.base_delay = base_delay
        self.factor = float(factor)
        self.max_delay = max_delay
        self.max_attempts = max_attempts
        self.jitter = jitter
        self.throttled_base_delay = throttled_base_delay
        # Anything with uniform(a, b), e.g. random.Random(seed) in tests.
        self.rng = rng if rng is not None else random.Random()

    def __repr__(self):
        return ("RetryPolicy(base_delay=%r, factor=%r, max_delay=%r, max_attempts=%r, "
                "jitter=%r, throttled_base_delay=%r)" % (
                    self.base_delay, self.factor, self.max_delay, self.max_attempts,
                    self.jitter, self.throttled_base_delay))

    def delay(self, attempt, error=None):
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempt numbers start at 1")
        throttled = error is not None and error_class_of(error) is ErrorClass.THROTTLED
        base = self.throttled_base_delay if throttled else self.base_delay
        try:
            seconds = min(self.max_delay, base * self.factor ** (attempt - 1))
        except OverflowError:  # a huge attempt number; the cap applies anyway
            seconds = self.max_delay
        if self.jitter:
            seconds *= 1 + self.rng.uniform(-self.jitter, self.jitter)
        retry_after = getattr(error, "retry_after", None) or 0
        floor = retry_after
        if getattr(error, "code", None) == C.ERR_PAIR_RATE:
            floor = max(floor, C.PAIR_RATE_SECONDS)
        ceiling = max(self.max_delay, retry_after)
        return float(min(max(seconds, floor), ceiling))

    def next_attempt(self, attempts_done, error, now):
        """Decide about a queue item whose attempt number ``attempts_done`` failed.

        ``now`` is an aware datetime; the returned ``at`` is in its timezone.
        """
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        if error is None:
            raise TypeError("next_attempt needs the error that failed the attempt")
        error_class = error_class_of(error)
        what = _describe(error)
        if error_class is ErrorClass.ADMIN:
            return RetryDecision(
                retry=False, at=None, dead_letter=True, hold=False, pause_queue=True,
                reason="needs an administrator (access token or permission): pause the "
                       "queue and alert an admin. %s" % what)
        if error_class is ErrorClass.WINDOW_CLOSED:
            return RetryDecision(
                retry=False, at=None, dead_letter=False, hold=True,
                reason="the 24 h customer service window is closed: send an approved "
                       "template instead. %s" % what)
        if error_class is ErrorClass.PERMANENT:
            return RetryDecision(
                retry=False, at=None, dead_letter=True, hold=False,
                reason="will not go through as is, not retried. %s" % what)
        if attempts_done >= self.max_attempts:
            return RetryDecision(
                retry=False, at=None, dead_letter=True, hold=False,
                reason="gave up after %d attempts. %s" % (attempts_done, what))
        seconds = self.delay(max(1, attempts_done), error)
        return RetryDecision(
            retry=True, at=now + timedelta(seconds=seconds), dead_letter=False, hold=False,
            reason="%s error, retry %d of %d in %.0f s. %s" % (
                error_class.value, attempts_done + 1, self.max_attempts, seconds, what))

    def next_processing_attempt(self, attempts_done, error, now, unreadable=False):
        """Decide about a stored webhook whose processing failed.

        Unlike a send, nothing reaches Meta again: a body that is not a
        webhook at all (``unreadable``) never improves and waits for a
        person; anything else (a lock, a bug an update fixes, a status that
        overtook its wamid) is tried again with backoff until max_attempts.
        """
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        if unreadable:
            return RetryDecision(retry=False, at=None, dead_letter=True, hold=False,
                                 reason="not a webhook payload: kept for a person to look at")
        if attempts_done >= self.max_attempts:
            return RetryDecision(retry=False, at=None, dead_letter=True, hold=False,
                                 reason="gave up after %d attempts: %s" % (attempts_done, error))
        seconds = self.delay(max(1, attempts_done))
        return RetryDecision(retry=True, at=now + timedelta(seconds=seconds), dead_letter=False,
                             hold=False, reason="retry %d of %d in %.0f s: %s" % (
                                 attempts_done + 1, self.max_attempts, seconds, error))
