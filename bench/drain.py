"""Benchmark 4: drain a queue of messages through the engine's send path.

What the Odoo queue does per item, without the database: the pair pacer
(per customer), the throughput bucket shared by every worker (GCRA,
``burst=1``), one ``CloudClient.send`` to the local simulator, and a
reschedule on a retryable answer. Two worker threads share the buckets, as
two cron workers share the ``wa_pacing`` row. The simulator enforces the
cap the way Meta does (130429), so "130429: 0" shows the pacing holds, and
"sends per message" counts what the simulator recorded for each message
(goal: exactly 1).

The simulator runs in this process: at 1000 msg/s on a small machine both
sides compete for the CPU; the phase split says where the time goes.
"""

import collections
import os
import threading
import time

from campotech_whatsapp.cloud import builders
from campotech_whatsapp.cloud import constants as C
from campotech_whatsapp.cloud.client import CloudClient
from campotech_whatsapp.cloud.errors import CloudApiError
from campotech_whatsapp.cloud.simulator import Simulator
from campotech_whatsapp.cloud.throttle import MemoryStore, PairPacer, TokenBucket

from .common import fmt

CAPS = (80, 1000)
# Two workers, as two cron workers; at 1000 msg/s a worker spends most of its
# time waiting for an answer, so more threads show the CPU ceiling instead.
WORKERS = {80: 2, 1000: 8}
COUNT = {"full": 10_000, "quick": 120}
BODY = "Hola, el técnico llega mañana entre las 9 y las 12."
NO_STATUSES = {"sent": None, "delivered": None, "read": None}
TIMEOUT_S = 10


class Queue:
    """Items in age order; a rescheduled item goes back with its due time."""

    def __init__(self, items):
        self._items = collections.deque((0.0, item) for item in items)
        self._lock = threading.Lock()

    def claim(self):
        with self._lock:
            for _ in range(len(self._items)):
                due, item = self._items.popleft()
                if due <= time.time():
                    return item
                self._items.append((due, item))
            return None if not self._items else False

    def reschedule(self, item, due):
        with self._lock:
            self._items.append((due, item))


def _worker(sim, queue, bucket, pair, phases, outcomes):
    cfg = sim.config
    client = CloudClient(cfg["access_token"], cfg["phone_number_id"], base_url=sim.graph_url,
                         timeout=TIMEOUT_S)
    client.get_phone_number()  # the keep-alive connection, outside the figures
    key = cfg["phone_number_id"]
    local = collections.Counter()
    clock = time.perf_counter
    while True:
        item = queue.claim()
        if item is None:
            break
        if item is False:  # only items not due yet: wait a little
            time.sleep(0.01)
            continue
        t0 = clock()
        pair_key = PairPacer.pair_key(key, item["to"])
        due_in = pair.delay(pair_key)
        if due_in > 0:
            queue.reschedule(item, time.time() + due_in)
            local["pacing"] += clock() - t0
            continue
        pair.reserve(pair_key)
        wait = bucket.reserve(key)
        t1 = clock()
        if wait > 0:
            time.sleep(wait)
        t2 = clock()
        try:
            client.send(item["payload"])
            outcome = "ok"
        except CloudApiError as exc:
            outcome = exc.code if exc.code is not None else type(exc).__name__
        t3 = clock()
        if outcome != "ok" and isinstance(outcome, int) and outcome in (
                C.ERR_THROUGHPUT, C.ERR_PAIR_RATE):
            queue.reschedule(item, time.time() + 1.0)
        local.update({"pacing": t1 - t0, "slot wait": t2 - t1, "http + simulator": t3 - t2})
        with phases["lock"]:
            outcomes[outcome] += 1
        local["bookkeeping"] += clock() - t3
    client.close()
    with phases["lock"]:
        phases["time"].update(local)


def drain(cap, count):
    sim = Simulator(host="127.0.0.1", port=0, mps=cap, status_delays=NO_STATUSES).start()
    try:
        recipients = ["54911%08d" % (40000000 + i) for i in range(count)]
        for number in recipients:
            sim.store.open_window(number)
        items = [{"to": to, "payload": builders.text(to, "%s (%d)" % (BODY, i))}
                 for i, to in enumerate(recipients)]
        store = MemoryStore()
        bucket = TokenBucket(cap, burst=1, store=store, clock=time.time)
        pair = PairPacer(store=store, clock=time.time)
        queue = Queue(items)
        phases = {"lock": threading.Lock(), "time": collections.Counter()}
        outcomes = collections.Counter()
        cpu0, wall0 = os.times(), time.perf_counter()
        threads = [threading.Thread(target=_worker, args=(sim, queue, bucket, pair, phases,
                                                           outcomes), daemon=True)
                   for _ in range(WORKERS[cap])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - wall0
        cpu1 = os.times()
        sent = sim.state()["messages"]
        per_message = collections.Counter(m["body"]["text"]["body"] for m in sent)
        return {
            "wall": wall, "rate": len(sent) / wall if wall else 0.0,
            "throttled": outcomes.get(C.ERR_THROUGHPUT, 0),
            "other": sum(v for k, v in outcomes.items() if k not in ("ok", C.ERR_THROUGHPUT)),
            "per_message": len(sent) / count,
            "max_per_message": max(per_message.values()) if per_message else 0,
            "missing": count - len(per_message),
            "cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            "phases": phases["time"],
        }
    finally:
        sim.stop()


def run(out, quick=False):
    count = COUNT["quick" if quick else "full"]
    out("[drain] %d queued texts, workers sharing TokenBucket(cap, burst=1) + PairPacer, "
        "CloudClient.send -> simulator (cap enforced, 130429)" % count)
    for cap in CAPS:
        fig = drain(cap, count)
        out("drain cap=%d workers=%d: %d messages in %s s, %s msg/s (%.0f%% of cap), 130429 errors: %d, "
            "other errors: %d, sends per message: %.3f (max %d, missing %d)"
            % (cap, WORKERS[cap], count, fmt(fig["wall"]), fmt(fig["rate"]), 100 * fig["rate"] / cap,
               fig["throttled"], fig["other"], fig["per_message"], fig["max_per_message"],
               fig["missing"]))
        total = sum(fig["phases"].values()) or 1.0
        split = ", ".join("%s %.0f%%" % (name, 100 * seconds / total)
                          for name, seconds in fig["phases"].most_common())
        out("drain cap=%d time: process CPU %s s for %s s wall (%.0f%% of one core; the "
            "simulator shares it), worker time: %s"
            % (cap, fmt(fig["cpu"]), fmt(fig["wall"]), 100 * fig["cpu"] / fig["wall"], split))
