"""Load against a real Odoo: signed webhook payloads, keep-alive HTTP clients, the log's counters.

Pure parts (payloads, percentiles, reading the server log) are tested in
tests/test_bench_odoo.py; the HTTP parts only talk to 127.0.0.1.
"""

import http.client
import re
import statistics
import threading
import time
from urllib.parse import urlsplit

from campotech_whatsapp.cloud import webhook
from campotech_whatsapp.cloud.constants import SIGNATURE_HEADER
from campotech_whatsapp.cloud.simulator import payloads as P

from .common import fmt, percentile

# Odoo's request log line ends with the odoo.sql_db counters of the thread that served it
# (odoo.netsvc.PerfFilter): queries, seconds in SQL, seconds elsewhere.
#   ... "POST /whatsapp/webhook HTTP/1.1" 200 - 14 0.012 0.034
REQUEST_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>[^ "]+) [^"]*" (?P<status>\d{3}) \S+ '
                          r'(?P<queries>\d+) (?P<sql_s>[\d.]+) (?P<other_s>[\d.]+)')
TIMEOUT_S = 30


def customer(n):
    """(wa_id, profile name) of the bench's n-th customer: Argentine mobiles as Meta sends them."""
    return "54911%08d" % (60000000 + n), "Cliente %d" % n


def inbound_payload(account, senders, seq, text="Hola, necesito un técnico para mañana"):
    """A messages webhook carrying one text message per sender; returns (payload, wamids).

    ``account`` holds phone_number_id, waba_id, display_phone_number; ``seq``
    makes every wamid unique across the run.
    """
    messages, contacts, wamids = [], [], []
    now = int(time.time())
    for i, (wa_id, name) in enumerate(senders):
        wamid = "wamid.bench%08d%04d%s" % (seq, i, wa_id)
        wamids.append(wamid)
        messages.append({"from": wa_id, "id": wamid, "timestamp": str(now),
                         "type": "text", "text": {"body": "%s (%d)" % (text, i)}})
        if wa_id not in {c["wa_id"] for c in contacts}:
            contacts.append({"profile": {"name": name}, "wa_id": wa_id})
    value = P.messages_value(account["phone_number_id"], account["display_phone_number"],
                             contacts=contacts, messages=messages)
    return P.envelope(account["waba_id"], "messages", value), wamids


def signed(payload, secret):
    """(raw bytes, headers) exactly as Meta would POST the payload."""
    raw = P.encode(payload)
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: webhook.sign(raw, secret)}


def query_counts(lines, path):
    """SQL queries per request to path (query string included), from the server's request log lines, in log order."""
    counts = []
    for line in lines:
        match = REQUEST_LINE.search(line)
        if match and match["path"] == path:
            counts.append(int(match["queries"]))
    return counts


def summary_ms(samples_ns):
    """(p50, p95, p99) in milliseconds."""
    return tuple(percentile(samples_ns, pct) / 1e6 for pct in (50, 95, 99))


def latency_text(samples_ns):
    p50, p95, p99 = summary_ms(samples_ns)
    return "p50 %s ms, p95 %s ms, p99 %s ms (n=%d)" % (fmt(p50), fmt(p95), fmt(p99), len(samples_ns))


def ratio_text(value, floor, goal, higher_is_better=False):
    """``1.92× floor (goal ≤ 1.5×)`` or ``37 % of floor (goal ≥ 80 %)``: a figure beside its goal."""
    if higher_is_better:
        share = 100.0 * value / floor if floor else float("nan")
        return "%.0f %% of floor (goal ≥ %.0f %%)" % (share, goal * 100)
    return "%.2f× floor (goal ≤ %s×)" % (value / floor if floor else float("nan"), goal)


class Client:
    """One keep-alive HTTP/1.1 connection to the server; reconnects when the server closes it."""

    def __init__(self, base_url):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """Send one request; returns (status, elapsed ns, body bytes)."""
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
            start = time.perf_counter_ns()
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: one fresh try.
                self.close()
                if attempt == 2:
                    raise
                continue
            elapsed = time.perf_counter_ns() - start
            if response.will_close:
                self.close()
            return response.status, elapsed, data
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class LoadResult:
    """Latencies and statuses of one load run, and its wall time."""

    def __init__(self, latencies_ns, statuses, wall_s):
        self.latencies_ns = latencies_ns
        self.statuses = statuses
        self.wall_s = wall_s

    @property
    def rate(self):
        return len(self.latencies_ns) / self.wall_s if self.wall_s else float("inf")

    @property
    def errors(self):
        return sum(1 for status in self.statuses if status != 200)

    @property
    def p50_ms(self):
        return statistics.median(self.latencies_ns) / 1e6


def run_load(base_url, requests, threads=1, budget_s=60.0):
    """POST/GET every (method, path, body, headers) of requests from threads clients.

    Requests are dealt round-robin to the clients; each client stops early once
    budget_s has passed (the result says how many ran). Returns a LoadResult.
    """
    shares = [requests[i::threads] for i in range(threads)]
    latencies, statuses = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)
    failures = []

    def work(mine):
        client = Client(base_url)
        # The connection is opened outside the timing, as Meta's are kept alive.
        try:
            client.request("GET", "/web/health")
        except OSError as error:
            failures.append(error)
        barrier.wait()
        deadline = time.monotonic() + budget_s
        mine_lat, mine_status = [], []
        try:
            for method, path, body, headers in mine:
                status, elapsed, _data = client.request(method, path, body, headers)
                mine_lat.append(elapsed)
                mine_status.append(status)
                if time.monotonic() > deadline:
                    break
        except OSError as error:
            failures.append(error)
        finally:
            client.close()
            with lock:
                latencies.extend(mine_lat)
                statuses.extend(mine_status)

    workers = [threading.Thread(target=work, args=(share,), daemon=True) for share in shares]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join(budget_s + 2 * TIMEOUT_S)
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError("load on %s failed: %s" % (base_url, failures[0]))
    return LoadResult(latencies, statuses, wall)
