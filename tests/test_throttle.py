import math
import random
import threading

import pytest

from campotech_whatsapp.cloud import constants as C
from campotech_whatsapp.cloud.throttle import MemoryStore, PairPacer, TokenBucket

T80 = 1.0 / 80


class FakeClock:
    """A clock tests move by hand; safe to read and move from threads."""

    def __init__(self, start=1000.0):
        self._now = start
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self._now

    def advance(self, seconds):
        with self._lock:
            self._now += seconds

    def sleep(self, seconds):
        self.advance(seconds)


class DictStore:
    """The smallest BucketStore: what the Odoo row-lock store will look like."""

    def __init__(self):
        self.states = {}

    def update(self, key, fn):
        new_state, result = fn(self.states.get(key))
        if new_state is None:
            self.states.pop(key, None)
        else:
            self.states[key] = new_state
        return result


def test_default_rate_is_80_per_second_one_at_a_time():
    bucket = TokenBucket(clock=FakeClock())
    assert bucket.rate == C.DEFAULT_MPS == 80
    assert bucket.burst == 1


def test_80_mps_spaces_sends_by_one_eightieth_of_a_second():
    bucket = TokenBucket(80, clock=FakeClock())
    waits = [bucket.reserve("pn1") for _ in range(5)]
    assert waits == pytest.approx([0, T80, 2 * T80, 3 * T80, 4 * T80])


def test_a_send_at_its_slot_time_goes_at_once():
    clock = FakeClock()
    bucket = TokenBucket(80, clock=clock)
    assert bucket.reserve("pn1") == 0
    clock.advance(T80)
    assert bucket.reserve("pn1") == 0
    assert bucket.reserve("pn1") == pytest.approx(T80)


def test_burst_lets_that_many_go_at_once_then_paces():
    bucket = TokenBucket(80, burst=5, clock=FakeClock())
    waits = [bucket.reserve("pn1") for _ in range(7)]
    assert waits[:5] == [0, 0, 0, 0, 0]
    assert waits[5:] == pytest.approx([T80, 2 * T80])


def test_idle_time_refills_the_burst_but_never_beyond_it():
    clock = FakeClock()
    bucket = TokenBucket(10, burst=3, clock=clock)
    for _ in range(3):
        bucket.reserve("pn1")
    clock.advance(3600)
    waits = [bucket.reserve("pn1") for _ in range(4)]
    assert waits == pytest.approx([0, 0, 0, 0.1])


def test_keys_are_paced_independently():
    bucket = TokenBucket(1, clock=FakeClock())
    assert bucket.reserve("pn1") == 0
    assert bucket.reserve("pn2") == 0
    assert bucket.reserve("pn1") == pytest.approx(1.0)


def test_try_acquire_is_false_when_exhausted_and_takes_nothing():
    clock = FakeClock()
    bucket = TokenBucket(80, burst=2, clock=clock)
    assert bucket.try_acquire("pn1")
    assert bucket.try_acquire("pn1")
    assert not bucket.try_acquire("pn1")
    assert not bucket.try_acquire("pn1")
    # The refused attempts reserved nothing: one slot is free after 1/80 s.
    clock.advance(T80)
    assert bucket.try_acquire("pn1")
    assert not bucket.try_acquire("pn1")


def test_try_acquire_respects_slots_reserved_by_others():
    clock = FakeClock()
    bucket = TokenBucket(80, clock=clock)
    bucket.reserve("pn1")
    bucket.reserve("pn1")  # reserved for 1/80 s from now
    clock.advance(T80)
    assert not bucket.try_acquire("pn1")
    clock.advance(T80)
    assert bucket.try_acquire("pn1")


def test_delay_reports_the_wait_without_reserving():
    bucket = TokenBucket(2, clock=FakeClock())
    bucket.reserve("pn1")
    assert bucket.delay("pn1") == pytest.approx(0.5)
    assert bucket.delay("pn1") == pytest.approx(0.5)
    assert bucket.delay("other") == 0


def test_acquire_sleeps_until_the_reserved_slot():
    clock = FakeClock()
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock.advance(seconds)

    bucket = TokenBucket(4, clock=clock)
    start = clock()
    sent_at = []
    for _ in range(4):
        bucket.acquire("pn1", sleep=sleep)
        sent_at.append(clock() - start)
    assert sent_at == pytest.approx([0, 0.25, 0.5, 0.75])
    assert slept == pytest.approx([0.25, 0.25, 0.25])


def test_explicit_now_overrides_the_clock():
    def broken_clock():
        raise AssertionError("clock must not be read when now is given")

    bucket = TokenBucket(1, clock=broken_clock)
    assert bucket.reserve("pn1", now=10.0) == 0
    assert bucket.reserve("pn1", now=10.0) == pytest.approx(1.0)
    assert bucket.try_acquire("pn1", now=12.0)


def test_whole_state_is_one_number_per_key():
    store = DictStore()
    bucket = TokenBucket(80, burst=3, store=store, clock=FakeClock(50.0))
    bucket.reserve("pn1")
    bucket.reserve("pn2")
    assert set(store.states) == {"pn1", "pn2"}
    assert all(isinstance(v, float) for v in store.states.values())
    # The state is the theoretical arrival time: now + one interval.
    assert store.states["pn1"] == pytest.approx(50.0 + T80)


def test_two_workers_sharing_a_store_and_clock_get_successive_slots():
    store, clock = MemoryStore(), FakeClock()
    worker_a = TokenBucket(80, store=store, clock=clock)
    worker_b = TokenBucket(80, store=store, clock=clock)
    waits = [worker_a.reserve("pn1"), worker_b.reserve("pn1"),
             worker_a.reserve("pn1"), worker_b.reserve("pn1")]
    assert waits == pytest.approx([0, T80, 2 * T80, 3 * T80])


def test_memory_store_update_returns_result_and_none_removes_the_key():
    store = MemoryStore()
    assert store.update("k", lambda state: (5.0, ("was", state))) == ("was", None)
    assert store.get("k") == 5.0
    assert store.update("k", lambda state: (None, state)) == 5.0
    assert store.get("k") is None
    assert len(store) == 0


def test_memory_store_prune_forgets_only_full_buckets():
    clock = FakeClock(0.0)
    store = MemoryStore()
    bucket = TokenBucket(1, store=store, clock=clock)
    bucket.reserve("old")
    clock.advance(10)
    bucket.reserve("recent")
    assert store.prune(clock()) == 1
    assert store.get("old") is None and store.get("recent") is not None
    # Forgetting a full bucket changes nothing for the next send.
    assert bucket.reserve("old") == 0


def test_concurrent_reservations_get_distinct_successive_slots():
    bucket = TokenBucket(80, store=MemoryStore(), clock=FakeClock())
    waits, lock = [], threading.Lock()
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        mine = [bucket.reserve("pn1") for _ in range(50)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([k * T80 for k in range(400)])


def test_concurrent_senders_never_exceed_the_rate_in_any_window():
    rate, burst = 80, 4
    clock = FakeClock(0.0)
    bucket = TokenBucket(rate, burst=burst, store=MemoryStore(), clock=clock)
    send_times, lock = [], threading.Lock()
    barrier = threading.Barrier(8)

    def worker(seed):
        rng = random.Random(seed)
        barrier.wait()
        mine = []
        for _ in range(100):
            now = clock()
            mine.append(now + bucket.reserve("pn1", now=now))
            clock.advance(rng.uniform(0, 0.004))
        with lock:
            send_times.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    times = sorted(send_times)
    assert len(times) == 800
    # Count sends in every one-second window that starts at a send.
    j = 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + 1.0 - 1e-9:
            j += 1
        assert j - i <= rate + burst
    # Any burst+1 consecutive sends span at least one interval.
    for i in range(len(times) - burst):
        assert times[i + burst] - times[i] >= T80 - 1e-9
    # And the pacer does not waste capacity: 800 sends in about 10 s.
    assert times[-1] - times[0] <= (800 - burst) * T80 + 1e-6


@pytest.mark.parametrize("rate", [0, -1, C.MAX_MPS + 1, 1e9, math.nan, math.inf,
                                  "80", None, True])
def test_invalid_rates_are_rejected(rate):
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate)


@pytest.mark.parametrize("rate", [C.MAX_MPS, 0.5, 1 / 6, 20])
def test_valid_rates_up_to_the_maximum(rate):
    assert TokenBucket(rate, clock=FakeClock()).interval == pytest.approx(1 / rate)


@pytest.mark.parametrize("burst", [0, -3, 1.5, True, None, "2"])
def test_invalid_bursts_are_rejected(burst):
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(80, burst=burst)


def test_pair_pacer_allows_one_message_per_six_seconds_after_its_burst():
    pacer = PairPacer(clock=FakeClock(), burst=2)
    key = PairPacer.pair_key("pn1", "5491155556666")
    waits = [pacer.reserve(key) for _ in range(4)]
    assert waits == pytest.approx([0, 0, C.PAIR_RATE_SECONDS, 2 * C.PAIR_RATE_SECONDS])


def test_pair_pacer_default_is_the_pair_rate_with_a_small_burst():
    pacer = PairPacer(clock=FakeClock())
    assert pacer.rate == pytest.approx(1 / C.PAIR_RATE_SECONDS)
    assert pacer.burst == C.PAIR_BURST


def test_pair_key_maps_every_form_of_a_customer_to_one_bucket():
    assert PairPacer.pair_key("pn1", "5491155556666") == \
        PairPacer.pair_key("pn1", "+54 11 5555-6666")
    assert PairPacer.pair_key("pn1", "5491155556666") != \
        PairPacer.pair_key("pn2", "5491155556666")


def test_pair_key_keeps_unparseable_recipients_as_given():
    assert PairPacer.pair_key("pn1", "AR.1234") == "pn1:AR.1234"


def test_pair_pacer_and_throughput_share_a_store_without_collisions():
    store, clock = MemoryStore(), FakeClock()
    throughput = TokenBucket(1, store=store, clock=clock)
    pair = PairPacer(store=store, clock=clock, burst=1)
    assert throughput.reserve("x") == 0
    assert pair.reserve("x") == 0
    assert throughput.reserve("x") == pytest.approx(1.0)
    assert pair.reserve("x") == pytest.approx(C.PAIR_RATE_SECONDS)


@pytest.mark.parametrize("seconds", [0, -6, math.inf, "6"])
def test_pair_pacer_rejects_bad_periods(seconds):
    with pytest.raises(ValueError):
        PairPacer(seconds=seconds)


# --- batches: one store update for many sends (the Odoo queue's batches) --------------------

class CountingStore(MemoryStore):
    """A MemoryStore that counts its round trips, as the database store's statements."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def update(self, key, fn):
        self.calls += 1
        return super().update(key, fn)

    def update_many(self, keys, fn):
        self.calls += 1
        return super().update_many(keys, fn)


def test_reserve_many_gives_the_slots_of_as_many_reserves_in_one_update():
    store, clock = CountingStore(), FakeClock()
    bucket = TokenBucket(80, store=store, clock=clock)
    assert bucket.reserve_many("pn1", 4) == pytest.approx([0, T80, 2 * T80, 3 * T80])
    assert store.calls == 1
    # A second worker's next reservation follows the batch.
    assert TokenBucket(80, store=store, clock=clock).reserve("pn1") == pytest.approx(4 * T80)


def test_reserve_many_stops_before_a_slot_further_than_max_wait_and_keeps_it_free():
    bucket = TokenBucket(4, clock=FakeClock())
    assert bucket.reserve_many("pn1", 20, max_wait=1.0) == pytest.approx([0, .25, .5, .75, 1.0])
    assert bucket.reserve("pn1") == pytest.approx(1.25), "no slot taken beyond the last given"
    assert bucket.reserve_many("pn1", 0) == []


def test_try_acquire_each_is_try_acquire_per_key_in_one_update():
    store, clock = CountingStore(), FakeClock()
    pair = PairPacer(store=store, clock=clock)
    waits = pair.try_acquire_each(["549111", "549222"] + ["549111"] * 6)
    assert store.calls == 1
    assert waits[:6] == [0.0] * 6, "a new customer's burst, and another customer"
    assert waits[6] == pytest.approx(C.PAIR_RATE_SECONDS) and waits[7] == waits[6]
    # The refused ones took nothing: after the pair rate, exactly one more goes.
    clock.advance(C.PAIR_RATE_SECONDS)
    assert pair.try_acquire_each(["549111", "549111"]) == [0.0, pytest.approx(C.PAIR_RATE_SECONDS)]


def test_try_acquire_each_works_on_a_store_without_update_many():
    pair = PairPacer(store=DictStore(), clock=FakeClock())
    waits = pair.try_acquire_each(["549111"] * (C.PAIR_BURST + 1))
    assert waits[:-1] == [0.0] * C.PAIR_BURST and waits[-1] > 0
    assert pair.try_acquire_each([]) == []


def test_batch_plan_sizes_batches_by_half_a_second_of_the_cap_and_adds_senders_above_250():
    from campotech_whatsapp.cloud.throttle import batch_plan
    assert batch_plan(80) == (40, 1)
    assert batch_plan(1000) == (250, 4)
    assert batch_plan(300) == (150, 2)
    assert batch_plan(1) == (5, 1), "never fewer than MIN_BATCH items"
    assert batch_plan(None) == (5, 1)
    assert batch_plan(80, "3") == (40, 3), "the administrator's number of senders (a system parameter's text)"
    assert batch_plan(1000, 9) == (250, 4), "at most MAX_SENDERS"
