"""Benchmark 3: sends through CloudClient to the local Meta simulator.

The simulator enforces a throughput cap the way Meta does (error 130429,
with a burst of one second's worth of messages). Sends paced by
``throttle.TokenBucket`` at the cap should all be accepted, from one thread
or several sharing the bucket; an unpaced burst shows what the cap does to
a sender that does not pace. Status webhooks are off (no webhook URL, no
status delays), so only the send path is measured.
"""

import threading
import time

from campotech_whatsapp.cloud import builders
from campotech_whatsapp.cloud import constants as C
from campotech_whatsapp.cloud.client import CloudClient
from campotech_whatsapp.cloud.errors import CloudApiError
from campotech_whatsapp.cloud.simulator import Simulator
from campotech_whatsapp.cloud.throttle import TokenBucket

from .common import fmt, percentile

CAPS = (80, 200)
THREADS = (1, 4)
BURST_THREADS = 4
# Paced sends last about this long per run; the burst sends this many
# seconds' worth of the cap (more than the simulator's one-second burst).
PACED_SECONDS = {"full": 1.5, "quick": 0.1}
BURST_SECONDS = {"full": 3.0, "quick": 1.5}
RECIPIENTS = tuple("54911%08d" % (55550000 + i) for i in range(8))
BODY = "Hola, el técnico llega en 20 minutos. Cualquier cosa escribinos por acá."
NO_STATUSES = {"sent": None, "delivered": None, "read": None}
# Answers slower than this mean a stuck simulator, not a slow one.
TIMEOUT_S = 10


def _client(sim):
    cfg = sim.config
    client = CloudClient(cfg["access_token"], cfg["phone_number_id"], cfg["waba_id"],
                         base_url=sim.graph_url, timeout=TIMEOUT_S)
    client.get_phone_number()  # opens the keep-alive connection outside the timing
    return client


def _open_windows(sim):
    """A fresh account (full throughput bucket), every recipient inside its 24 h window."""
    sim.reset()
    for number in RECIPIENTS:
        sim.inbound(from_=number, text="Hola, necesito un técnico")


def _send_all(sim, count, threads, bucket):
    """Send count texts from threads clients; return [(start_ns, end_ns, outcome)]."""
    key = sim.config["phone_number_id"]
    clients = [_client(sim) for _ in range(threads)]
    payloads = [builders.text(RECIPIENTS[i % len(RECIPIENTS)], BODY) for i in range(count)]
    barrier = threading.Barrier(threads)
    results = []

    def work(client, mine):
        barrier.wait()
        for payload in mine:
            if bucket is not None:
                bucket.acquire(key)
            start = time.perf_counter_ns()
            try:
                client.send(payload)
                outcome = "ok"
            except CloudApiError as exc:
                outcome = exc.code if exc.code is not None else type(exc).__name__
            results.append((start, time.perf_counter_ns(), outcome))

    workers = [threading.Thread(target=work, args=(client, payloads[i::threads]),
                                name="bench-send-%d" % i, daemon=True)
               for i, client in enumerate(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for client in clients:
        client.close()
    return results


def _figures(results):
    starts = sorted(r[0] for r in results)
    span_s = (starts[-1] - starts[0]) / 1e9 if len(starts) > 1 else 0.0
    latencies = [r[1] - r[0] for r in results]
    outcomes = [r[2] for r in results]
    throttled = outcomes.count(C.ERR_THROUGHPUT)
    others = sorted({str(o) for o in outcomes if o not in ("ok", C.ERR_THROUGHPUT)})
    return {
        "span_s": span_s,
        # Send starts per second: n sends open n - 1 intervals.
        "rate": (len(starts) - 1) / span_s if span_s > 0 else float("inf"),
        "accepted": outcomes.count("ok"),
        "throttled": throttled,
        "other": len(outcomes) - outcomes.count("ok") - throttled,
        "other_kinds": others,
        "p50_ms": percentile(latencies, 50) / 1e6,
        "p95_ms": percentile(latencies, 95) / 1e6,
    }


def _other(fig):
    if not fig["other"]:
        return "other errors: 0"
    return "other errors: %d (%s)" % (fig["other"], ", ".join(fig["other_kinds"]))


def _paced(out, sim, cap, threads, count):
    _open_windows(sim)
    fig = _figures(_send_all(sim, count, threads, TokenBucket(cap, burst=1)))
    out("roundtrip.paced cap=%d threads=%d: %d sends, %s sends/s (%.0f%% of cap), "
        "130429 errors: %d, %s, latency p50 %s ms, p95 %s ms"
        % (cap, threads, count, fmt(fig["rate"]), 100 * fig["rate"] / cap, fig["throttled"],
           _other(fig), fmt(fig["p50_ms"]), fmt(fig["p95_ms"])))


def _burst(out, sim, cap, count):
    _open_windows(sim)
    fig = _figures(_send_all(sim, count, BURST_THREADS, None))
    # GCRA with a burst of one second's worth: what the simulator could accept.
    allowed = min(count, int(cap + cap * fig["span_s"]))
    out("roundtrip.burst cap=%d threads=%d: %d unpaced sends in %.2f s (%s sends/s), "
        "130429 errors: %d, accepted: %d (a burst of %d + %d/s allows ~%d), %s, "
        "latency p50 %s ms, p95 %s ms"
        % (cap, BURST_THREADS, count, fig["span_s"], fmt(fig["rate"]), fig["throttled"],
           fig["accepted"], cap, cap, allowed, _other(fig), fmt(fig["p50_ms"]),
           fmt(fig["p95_ms"])))


def run(out, quick=False):
    mode = "quick" if quick else "full"
    out("[roundtrip] CloudClient.send(builders.text) -> simulator on 127.0.0.1, "
        "statuses off; paced by TokenBucket(cap, burst=1) shared by the threads")
    for cap in CAPS:
        sim = Simulator(host="127.0.0.1", port=0, mps=cap, status_delays=NO_STATUSES).start()
        try:
            for threads in THREADS:
                count = max(2 * threads, int(cap * PACED_SECONDS[mode]))
                _paced(out, sim, cap, threads, count)
            _burst(out, sim, cap, int(cap * BURST_SECONDS[mode]))
        finally:
            sim.stop()
