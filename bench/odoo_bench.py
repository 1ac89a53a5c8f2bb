"""Benchmarks against a real Odoo 18 server, run only when an Odoo is configured.

``odoo_ack``: how fast ``/whatsapp/webhook`` answers Meta, beside Odoo's own
``/web/health`` on the same server (the floor: an answer that does no work).
Sequential and with 8 concurrent clients, 1-message and 50-message signed
payloads, ``--workers=0`` with the processing cron off, so only the
acknowledgement is timed; SQL queries per request from the ``odoo.sql_db``
counter Odoo prints on each request log line.

``odoo_inbound``: signed webhooks from 8 clients into ``--workers=2`` (and
Odoo's default 2 cron workers) until every log is processed: messages per
second end to end, then the count check (sent = stored, no duplicate
message, conversation or partner) and a redelivery of already-stored
webhooks, which must store nothing again.

Both share one database (copied from ``CAMPOTECH_ODOO_TEMPLATE_DB``, the
addon installed, an account pointing at the local simulator), dropped when
the process exits, also on Ctrl+C or an error. Figures are printed beside
the goals of issue #10, never asserted.
"""

import atexit
import platform
import time

from campotech_whatsapp.cloud.simulator import Simulator

from . import odoo_load as L
from .common import fmt
from .odoo_server import OdooDatabase, OdooError, odoo_config_key, odoo_settings

ACCOUNT = {"phone_number_id": "301234567890123", "waba_id": "209876543210987",
           "display_phone_number": "5491152630000"}
APP_SECRET = "bench-app-secret-5f0c1d"
ACCESS_TOKEN = "EAAG-bench-access-token-0123456789"
WEBHOOK = "/whatsapp/webhook"
FLOOR = "/web/health"
CLIENTS = 8

GOAL_P50_RATIO = 1.5
GOAL_THROUGHPUT_SHARE = 0.80
GOAL_QUERIES = 6
GOAL_INBOUND_MPS = 300

# Requests per series: sequential, per concurrent run; seconds a series may take at most.
ACK_SIZES = {"full": {"sequential": 300, "concurrent": 480, "budget": 45},
             "quick": {"sequential": 20, "concurrent": 40, "budget": 10}}
# Webhooks of MESSAGES_PER_WEBHOOK messages from a pool of customers; redelivered webhooks.
INBOUND_SIZES = {"full": {"webhooks": 100, "customers": 200, "redeliver": 20, "deadline": 600},
                 "quick": {"webhooks": 20, "customers": 20, "redeliver": 5, "deadline": 180}}
MESSAGES_PER_WEBHOOK = 10
BURST_CUSTOMER = ("5491177770000", "Cliente Nuevo Ráfaga")
# Processed before the timed run, from customers of their own (see run_inbound).
WARMUP_WEBHOOKS = 5
WARMUP_CUSTOMERS = [L.customer(9000 + i) for i in range(MESSAGES_PER_WEBHOOK)]

_SHARED = {}

_SETUP_ACCOUNT = """
account = env["wa.account"].create({
    "name": "Bench", "company_id": env.company.id,
    "phone_number_id": %(phone_number_id)r, "waba_id": %(waba_id)r,
    "display_phone_number": %(display_phone_number)r, "graph_url": %(graph_url)r,
    "access_token": %(access_token)r, "app_secret": %(app_secret)r,
})
env.cr.commit()
result(account.id)
"""


def _skip_reason():
    try:
        settings = odoo_settings()
    except OdooError as error:
        return None, str(error)
    if settings is None:
        return None, "no Odoo configured (set the CAMPOTECH_ODOO_* variables, see README)"
    if not odoo_config_key(settings):
        return None, "the Odoo configuration has no campotech_whatsapp_key"
    return settings, None


def _database(out):
    """The run's database, created on first use and dropped when the process exits."""
    if "db" not in _SHARED:
        settings, _reason = _skip_reason()
        database = OdooDatabase(settings, log=out)
        database.__enter__()
        atexit.register(database.__exit__, None, None, None)
        _SHARED["db"] = database
        _SHARED["account_id"] = None
    return _SHARED["db"]


def _simulator(database):
    """A running simulator and the database's account pointing at it."""
    sim = Simulator(access_token=ACCESS_TOKEN, app_secret=APP_SECRET,
                    status_delays={"sent": None, "delivered": None, "read": None}, **ACCOUNT)
    sim.start()
    try:
        if _SHARED.get("account_id"):
            database.sql("UPDATE wa_account SET graph_url = '%s' RETURNING id" % sim.graph_url)
        else:
            _SHARED["account_id"] = database.shell(_SETUP_ACCOUNT % dict(
                ACCOUNT, graph_url=sim.graph_url, access_token=ACCESS_TOKEN,
                app_secret=APP_SECRET))
    except BaseException:
        sim.stop()
        raise
    return sim


def _header(out, name, server):
    out("[%s] Odoo 18 %s, --workers=%d --max-cron-threads=%d, database %s; machine %s %s"
        % (name, server.url(), server.workers, server.cron_threads, server.database.name,
           platform.machine(), platform.node()))


def _skipped(out, name):
    _settings, reason = _skip_reason()
    if reason:
        out("[%s] skipped: %s" % (name, reason))
        return True
    return False


# --- odoo_ack ---------------------------------------------------------------------------------

def _webhook_requests(count, per_payload, seq_start, tag):
    """count signed webhook POSTs of per_payload messages each, every wamid new."""
    requests = []
    for n in range(count):
        seq = seq_start + n
        senders = [L.customer((seq * per_payload + i) % 500) for i in range(per_payload)]
        payload, _wamids = L.inbound_payload(ACCOUNT, senders, seq)
        raw, headers = L.signed(payload, APP_SECRET)
        requests.append(("POST", "%s?bench=%s" % (WEBHOOK, tag), raw, headers))
    return requests


def _health_requests(count):
    return [("GET", FLOOR, None, None)] * count


def run_ack(out, quick=False):
    name = "odoo_ack"
    if _skipped(out, name):
        return
    sizes = ACK_SIZES["quick" if quick else "full"]
    database = _database(out)
    sim = _simulator(database)
    seq = [1_000_000]

    def webhooks(count, per_payload):
        seq[0] += count
        return _webhook_requests(count, per_payload, seq[0], str(per_payload))

    try:
        with database.server(workers=0, cron_threads=0) as server:
            _header(out, name, server)
            out("odoo_ack: processing cron off (only the acknowledgement is timed); "
                "%d signed payloads per sequential series, %d per %d-client series"
                % (sizes["sequential"], sizes["concurrent"], CLIENTS))
            base = server.url()
            # Warm-up: registry, routing map and the code paths of both routes.
            L.run_load(base, _health_requests(20) + webhooks(10, 1) + webhooks(5, 50), threads=2)
            floors = {}
            for clients, count in ((1, sizes["sequential"]), (CLIENTS, sizes["concurrent"])):
                label = "sequential" if clients == 1 else "%d_clients" % clients
                floor = L.run_load(base, _health_requests(count), clients, sizes["budget"])
                floors[clients] = floor
                out("odoo_ack.floor.%s: %s %s, %s req/s, non-200: %d"
                    % (label, FLOOR, L.latency_text(floor.latencies_ns), fmt(floor.rate),
                       floor.errors))
                for per_payload in (1, 50):
                    result = L.run_load(base, webhooks(count, per_payload), clients,
                                        sizes["budget"])
                    line = "odoo_ack.webhook_%d.%s: %s, %s acks/s, non-200: %d, " % (
                        per_payload, label, L.latency_text(result.latencies_ns),
                        fmt(result.rate), result.errors)
                    if clients == 1:
                        line += "p50 " + L.ratio_text(result.p50_ms, floor.p50_ms, GOAL_P50_RATIO)
                    else:
                        line += "throughput " + L.ratio_text(
                            result.rate, floor.rate, GOAL_THROUGHPUT_SHARE, higher_is_better=True)
                    out(line)
        lines = server.log_lines()
        counts = {"health": L.query_counts(lines, FLOOR)}
        for per_payload in (1, 50):
            counts[per_payload] = L.query_counts(lines, "%s?bench=%d" % (WEBHOOK, per_payload))
        out("odoo_ack.sql_queries: median per request %s %s, webhook 1 message %s, "
            "50 messages %s (max %s) (goal ≤ %d on the ack path; odoo.sql_db's per-request "
            "counter from Odoo's request log)" % (
                FLOOR, _median(counts["health"]), _median(counts[1]), _median(counts[50]),
                max(counts[1] + counts[50] or [0]), GOAL_QUERIES))
    finally:
        sim.stop()
        # The next bench starts from an empty log table.
        database.sql("DELETE FROM wa_webhook_log RETURNING 1")


def _median(values):
    if not values:
        return "-"
    ordered = sorted(values)
    return "%g" % ordered[len(ordered) // 2]


# --- odoo_inbound -----------------------------------------------------------------------------

_LOG_PROGRESS = ("SELECT count(*) FILTER (WHERE processed), "
                 "count(*) FILTER (WHERE NOT processed AND error_message IS NOT NULL), count(*) "
                 "FROM wa_webhook_log")


def _wait_processed(database, expected, deadline_s, poll_s=0.25):
    """Poll until expected logs are processed or failed; returns (done, failed, total, waited).

    One connection for all the polls (see odoo_server.SqlSession).
    """
    started = time.monotonic()
    sql = database.sql_session()
    try:
        while True:
            done, failed, total = sql(_LOG_PROGRESS)[0]
            if done + failed >= expected or time.monotonic() - started > deadline_s:
                return done, failed, total, time.monotonic() - started
            time.sleep(poll_s)
    finally:
        sql.close()


def _store_counts(database, prefix):
    rows = database.sql(
        "SELECT (SELECT count(*) FROM wa_message WHERE direction = 'inbound' AND wamid LIKE '%(p)s%%'),"
        " (SELECT count(DISTINCT wamid) FROM wa_message WHERE direction = 'inbound'"
        "   AND wamid LIKE '%(p)s%%'),"
        " (SELECT count(*) FROM wa_conversation), (SELECT count(DISTINCT wa_id) FROM wa_conversation),"
        " (SELECT count(DISTINCT partner_id) FROM wa_conversation),"
        " (SELECT count(*) FROM res_partner WHERE wa_id IN (SELECT wa_id FROM wa_conversation)),"
        " (SELECT count(*) FROM bus_bus WHERE channel LIKE '%%campotech_whatsapp%%'"
        "   OR message LIKE '%%campotech_whatsapp/new_message%%')" % {"p": prefix})
    keys = ("stored", "distinct", "conversations", "customers", "partners", "partner_rows", "bus")
    return dict(zip(keys, rows[0]))


def _counts_since(database, before):
    """_store_counts of the timed run: its wamids (seq 2,000,000 on), the rest minus the warm-up's."""
    now = _store_counts(database, "wamid.bench02")
    return {key: now[key] - (before[key] if key not in ("stored", "distinct") else 0)
            for key in now}


def _burst(database, base, logs_before, deadline_s):
    """The same new customer writes 8 messages that arrive in 8 concurrent requests."""
    requests = []
    for n in range(CLIENTS):
        payload, _wamids = L.inbound_payload(ACCOUNT, [BURST_CUSTOMER], 3_000_000 + n)
        raw, headers = L.signed(payload, APP_SECRET)
        requests.append(("POST", WEBHOOK, raw, headers))
    result = L.run_load(base, requests, CLIENTS, budget_s=deadline_s)
    _wait_processed(database, logs_before + len(requests), deadline_s)
    wa_id = BURST_CUSTOMER[0]
    row = database.sql(
        "SELECT (SELECT count(*) FROM wa_message m JOIN wa_conversation c ON c.id = m.conversation_id"
        "        WHERE c.wa_id = '%(w)s'),"
        " (SELECT count(*) FROM wa_conversation WHERE wa_id = '%(w)s'),"
        " (SELECT count(*) FROM res_partner WHERE wa_id = '%(w)s')" % {"w": wa_id})[0]
    return {"errors": result.errors, "messages": row[0], "conversations": row[1],
            "partners": row[2]}


def run_inbound(out, quick=False):
    name = "odoo_inbound"
    if _skipped(out, name):
        return
    sizes = INBOUND_SIZES["quick" if quick else "full"]
    database = _database(out)
    sim = _simulator(database)
    try:
        database.sql("DELETE FROM wa_webhook_log RETURNING 1")
        pool = [L.customer(1000 + i) for i in range(sizes["customers"])]
        requests, sent = [], []
        for n in range(sizes["webhooks"]):
            senders = [pool[(n * MESSAGES_PER_WEBHOOK + i) % len(pool)]
                       for i in range(MESSAGES_PER_WEBHOOK)]
            payload, wamids = L.inbound_payload(ACCOUNT, senders, 2_000_000 + n)
            raw, headers = L.signed(payload, APP_SECRET)
            requests.append(("POST", WEBHOOK, raw, headers))
            sent.extend(wamids)
        with database.server(workers=2, cron_threads=2) as server:
            _header(out, name, server)
            base = server.url()
            L.run_load(base, _health_requests(8), threads=2)  # both workers up and warm
            # The first pass of a fresh cron worker runs every cron once and fills cold
            # caches (Odoo's and its new PostgreSQL backend's): seconds that measure the
            # start of a server, not its processing. Warm it with other customers first.
            warm = [L.signed(L.inbound_payload(ACCOUNT, WARMUP_CUSTOMERS, 1_000_000 + n)[0],
                             APP_SECRET) for n in range(WARMUP_WEBHOOKS)]
            L.run_load(base, [("POST", WEBHOOK, raw, headers) for raw, headers in warm], CLIENTS)
            _wait_processed(database, len(warm), sizes["deadline"])
            database.sql("DELETE FROM wa_webhook_log RETURNING 1")
            before = _store_counts(database, "wamid.bench02")
            started = time.monotonic()
            acks = L.run_load(base, requests, CLIENTS, budget_s=sizes["deadline"])
            acked = time.monotonic()
            out("odoo_inbound.ack: %d webhooks (%d messages, %d customers) from %d clients in "
                "%.1f s: %s acks/s, %s, non-200: %d" % (
                    len(acks.statuses), len(sent), len(pool), CLIENTS, acks.wall_s,
                    fmt(acks.rate), L.latency_text(acks.latencies_ns), acks.errors))
            done, failed, total, _waited = _wait_processed(database, len(requests),
                                                           sizes["deadline"])
            finished = time.monotonic()
            elapsed = finished - started
            counts = _counts_since(database, before)
            out("odoo_inbound.processed: %d of %d logs processed, %d failed, %.1f s after the "
                "first request (%.1f s after the last ack): %s msg/s end to end (goal ≥ %d msg/s)"
                % (done, total, failed, elapsed, finished - acked,
                   fmt(counts["stored"] / elapsed if elapsed else 0), GOAL_INBOUND_MPS))
            # Meta redelivers what it thinks we missed: nothing may be stored twice.
            again = L.run_load(base, requests[:sizes["redeliver"]], CLIENTS,
                               budget_s=sizes["deadline"])
            _wait_processed(database, len(requests) + len(again.statuses), sizes["deadline"])
            after = _counts_since(database, before)
            burst = _burst(database, base, len(requests) + len(again.statuses), sizes["deadline"])
        problems = [line for line in server.log_lines()
                    if " ERROR " in line or " CRITICAL " in line or "serializ" in line.lower()]
        complete = done + failed >= len(requests)
        consistent = (counts["stored"] == len(sent) == counts["distinct"]
                      and after["stored"] == counts["stored"]
                      and counts["conversations"] == counts["customers"] == len(pool)
                      and counts["partners"] == counts["partner_rows"] == len(pool))
        verdict = "ok" if consistent else "MISMATCH" if complete else "INCOMPLETE (deadline)"
        out("odoo_inbound.count: %s: sent %d, stored %d (distinct wamids %d), conversations %d "
            "for %d customers, partners %d (res.partner rows with their wa_id: %d), redelivered "
            "%d webhooks (non-200: %d): stored again %d; bus notifications %d" % (
                verdict, len(sent), counts["stored"], counts["distinct"],
                counts["conversations"], len(pool), counts["partners"], counts["partner_rows"],
                len(again.statuses), again.errors, after["stored"] - counts["stored"],
                counts["bus"]))
        out("odoo_inbound.burst: one brand-new customer in %d concurrent webhooks: non-200 %d, "
            "messages stored %d of %d, conversations %d, partners %d (goal 1 and 1); server log: "
            "%d ERROR/CRITICAL or serialization lines" % (
                CLIENTS, burst["errors"], burst["messages"], CLIENTS, burst["conversations"],
                burst["partners"], len(problems)))
        for line in problems[:5]:
            out("odoo_inbound.burst:   " + line[:200])
    finally:
        sim.stop()
