"""Pacing sends: a token bucket per key, kept as one number.

The algorithm is GCRA (generic cell rate algorithm), equivalent to a token
bucket of ``burst`` tokens refilled at ``rate`` per second. Its whole state
per key is the theoretical arrival time (TAT): when the bucket would be full
again. One float is easy to share between workers through a store that
updates it atomically: :class:`MemoryStore` within a process, a database row
locked with ``SELECT … FOR UPDATE`` across Odoo workers.

Clocks: a state is a time on the clock that wrote it, so every worker that
shares a store must share the clock. ``time.monotonic`` (the default) is
right for a :class:`MemoryStore` in one process; a shared database store
needs wall time on all workers (``time.time``, or the database's ``now()``).
Tests inject a fake clock.

Two limits apply to WhatsApp sends:

* throughput per business number (``DEFAULT_MPS``, up to ``MAX_MPS``):
  ``TokenBucket(rate)`` keyed by phone_number_id;
* the pair rate, one message per ``PAIR_RATE_SECONDS`` to one customer from
  one business number: :class:`PairPacer`, keyed by :meth:`PairPacer.pair_key`.
"""

import math
import threading
import time
from typing import Callable, Optional, Protocol, Tuple, TypeVar

from . import constants as C
from .phone import PhoneError, canonical_key

R = TypeVar("R")

# Slack for float rounding: a send due 1e-12 s from now goes now.
_EPSILON = 1e-9


class BucketStore(Protocol):
    """Where bucket states live; one float (or None) per key."""

    def update(self, key: str,
               fn: Callable[[Optional[float]], Tuple[Optional[float], R]]) -> R:
        """Atomically read key's state, call fn(state) -> (new_state, result),
        write new_state (None removes it) and return result."""

    def update_many(self, keys, fn):
        """As update, for several keys at once: fn({key: state}) -> ({key: new_state}, result).

        Optional: a store without it is updated key by key (see _update_many)."""


class MemoryStore:
    """A BucketStore in process memory, safe to share between threads."""

    def __init__(self):
        self._states = {}
        self._lock = threading.Lock()

    def update(self, key, fn):
        with self._lock:
            new_state, result = fn(self._states.get(key))
            if new_state is None:
                self._states.pop(key, None)
            else:
                self._states[key] = new_state
            return result

    def update_many(self, keys, fn):
        with self._lock:
            new_states, result = fn({key: self._states.get(key) for key in keys})
            for key, state in new_states.items():
                if state is None:
                    self._states.pop(key, None)
                else:
                    self._states[key] = state
            return result

    def get(self, key):
        with self._lock:
            return self._states.get(key)

    def prune(self, now):
        """Forget keys whose bucket is full again at ``now`` (same clock)."""
        with self._lock:
            stale = [key for key, tat in self._states.items() if tat <= now]
            for key in stale:
                del self._states[key]
            return len(stale)

    def __len__(self):
        return len(self._states)


class TokenBucket:
    """At most ``burst`` sends at once, then ``rate`` sends per second, per key."""

    def __init__(self, rate=C.DEFAULT_MPS, burst=1, store=None, clock=time.monotonic,
                 *, prefix=""):
        self.rate = _check_rate(rate)
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError("burst must be a whole number of sends, at least 1; got %r" % (burst,))
        self.burst = burst
        self.interval = 1.0 / self.rate
        # How far ahead of now the TAT may run before a send must wait.
        self._horizon = self.burst * self.interval
        self.store = store if store is not None else MemoryStore()
        self.clock = clock
        self.prefix = prefix

    def __repr__(self):
        return "%s(rate=%r, burst=%r)" % (type(self).__name__, self.rate, self.burst)

    def reserve(self, key, now=None):
        """Take the next slot for key; return the seconds to wait before using it.

        Always reserves, so concurrent callers get successive slots; a caller
        that then does not send leaves its slot unused (the rate only drops).
        """
        now = self._now(now)
        return self.store.update(self._key(key), lambda tat: self._advance(tat, now))

    def reserve_many(self, key, count, now=None, max_wait=None):
        """Take up to ``count`` successive slots for key in one store update; return
        the seconds to wait before using each (as ``count`` calls of reserve would),
        stopping before a slot more than ``max_wait`` seconds away.

        A batch of sends paces itself with one round trip to a shared store
        instead of one per send.
        """
        now = self._now(now)

        def step(tat):
            waits = []
            for _ in range(count):
                new_tat, wait = self._advance(tat, now)
                if max_wait is not None and wait > max_wait:
                    break
                tat = new_tat
                waits.append(wait)
            return tat, waits

        return self.store.update(self._key(key), step) if count > 0 else []

    def try_acquire_each(self, keys, now=None):
        """try_acquire for each key of a list (a key may repeat), in order, in one
        store update when the store has ``update_many``. Returns one number per
        key: 0.0 when its slot was taken, else the seconds until one is free
        (what delay would say); nothing is reserved for those.
        """
        now = self._now(now)
        store_keys = [self._key(key) for key in keys]

        def step(states):
            states, waits = dict(states), []
            for key in store_keys:
                new_tat, wait = self._advance(states[key], now)
                waits.append(wait)
                if wait <= 0:
                    states[key] = new_tat
            return states, waits

        unique = sorted(set(store_keys))  # one lock order for every worker: no deadlock
        if not unique:
            return []
        if hasattr(self.store, "update_many"):
            return self.store.update_many(unique, step)
        return [0.0 if self.try_acquire(key, now) else self.delay(key, now) for key in keys]

    def try_acquire(self, key, now=None):
        """Take a slot only if one is free now; True if taken."""
        now = self._now(now)

        def step(tat):
            new_tat, wait = self._advance(tat, now)
            if wait > 0:
                return tat, False
            return new_tat, True

        return self.store.update(self._key(key), step)

    def acquire(self, key, sleep=time.sleep):
        """Reserve a slot, sleep until it comes, return the seconds slept."""
        wait = self.reserve(key)
        if wait > 0:
            sleep(wait)
        return wait

    def delay(self, key, now=None):
        """Seconds until try_acquire would succeed; reserves nothing."""
        now = self._now(now)

        def step(tat):
            return tat, self._advance(tat, now)[1]

        return self.store.update(self._key(key), step)

    def _advance(self, tat, now):
        new_tat = max(tat if tat is not None else now, now) + self.interval
        wait = new_tat - self._horizon - now
        return new_tat, (wait if wait > _EPSILON else 0.0)

    def _now(self, now):
        return self.clock() if now is None else now

    def _key(self, key):
        return self.prefix + str(key)


class PairPacer(TokenBucket):
    """Meta's pair rate: one message per ``PAIR_RATE_SECONDS`` to one customer.

    Key it with :meth:`pair_key` so every form of the customer's number (``549…``
    and ``54…``) shares one bucket. ``burst`` lets a short exchange (a few
    photos of a job) go at once; the burst is then paid back at the pair rate.
    """

    def __init__(self, store=None, clock=time.monotonic, *,
                 seconds=C.PAIR_RATE_SECONDS, burst=C.PAIR_BURST):
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
                or not math.isfinite(seconds) or seconds <= 0:
            raise ValueError("seconds must be a positive number; got %r" % (seconds,))
        super().__init__(1.0 / seconds, burst=burst, store=store, clock=clock, prefix="pair:")

    @staticmethod
    def pair_key(phone_number_id, recipient):
        """The bucket key of one business number and one customer."""
        try:
            recipient = canonical_key(recipient)
        except PhoneError:
            recipient = str(recipient)
        return "%s:%s" % (phone_number_id, recipient)


def _check_rate(rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) \
            or not math.isfinite(rate) or not 0 < rate <= C.MAX_MPS:
        raise ValueError("rate must be a number of messages per second, above 0 and at "
                         "most %s; got %r" % (C.MAX_MPS, rate))
    return float(rate)


# How the outbound queue splits its work (wa.outbound.queue): a batch is about
# BATCH_SECONDS of the cap in sends, between MIN_BATCH and MAX_BATCH items, so
# its pacing costs a few statements instead of several per send and its slots
# end within a couple of seconds even when two workers reserve one after the
# other. One sender (one thread and database connection) keeps up with about
# SENDER_RATE msg/s on a small server (bench.odoo_queue); a higher cap gets
# more senders, at most MAX_SENDERS.
BATCH_SECONDS = 0.5
MIN_BATCH, MAX_BATCH = 5, 250
SENDER_RATE = 250
MAX_SENDERS = 4


def batch_plan(rate, senders=0):
    """(items per batch, senders) for draining at ``rate`` msg/s; ``senders``
    > 0 is an administrator's choice, kept within 1..MAX_SENDERS."""
    rate = max(float(rate or 0), 1.0)
    senders = int(senders or 0) or math.ceil(rate / SENDER_RATE)
    return (max(MIN_BATCH, min(MAX_BATCH, int(rate * BATCH_SECONDS))),
            max(1, min(MAX_SENDERS, senders)))
