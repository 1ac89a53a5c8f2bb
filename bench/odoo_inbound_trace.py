"""SQL statements and a Python profile of the inbound processing, per message.

``python -m bench.odoo_inbound_trace [--webhooks N] [--profile]``: stores N signed 10-message
webhooks (the ``odoo_inbound`` bench's payloads from ``--customers`` customers, new on their first
message) with
``wa.webhook.log._receive`` in a fresh copy of the template database, then runs the processing
cron's method until nothing is due, in an ``odoo-bin shell``, counting the statements on its
cursor (Odoo's own ``sql_log_count``). Prints statements per message, messages per second of
that one process, and with ``--profile`` the 25 costliest functions (cProfile, cumulative).
The figures of the ``odoo_inbound`` bench come from a real server; these explain them.
"""

import argparse
import json
import sys

from . import odoo_load as L
from .odoo_bench import ACCOUNT, APP_SECRET, MESSAGES_PER_WEBHOOK
from .odoo_server import OdooDatabase, odoo_settings

_CODE = """
import cProfile, io, pstats, time
account = env["wa.account"].create({
    "name": "Trace", "company_id": env.company.id,
    "phone_number_id": %(phone_number_id)r, "waba_id": %(waba_id)r,
    "display_phone_number": %(display_phone_number)r, "graph_url": "http://127.0.0.1:9/",
    "access_token": "trace-token", "app_secret": %(app_secret)r,
})
env.cr.commit()
Log = env["wa.webhook.log"]
for raw, signature in %(requests)r:
    Log._receive(raw.encode("utf-8"), signature)
env.cr.commit()
profiler = cProfile.Profile() if %(profile)r else None
cr = env.cr
queries = cr.sql_log_count
started = time.perf_counter()
if profiler:
    profiler.enable()
passes = 0
while Log.search_count(Log._due_domain()) and passes < 1000:
    Log._cron_process()
    passes += 1
if profiler:
    profiler.disable()
elapsed = time.perf_counter() - started
queries = cr.sql_log_count - queries
env.invalidate_all()
stored = env["wa.message"].search_count([("direction", "=", "inbound")])
top = ""
if profiler:
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    top = text.getvalue()
result({"queries": queries, "elapsed": elapsed, "stored": stored, "passes": passes,
        "conversations": env["wa.conversation"].search_count([]), "profile": top})
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=20)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    settings = odoo_settings()
    if settings is None:
        print("no Odoo configured (set the CAMPOTECH_ODOO_* variables, see README)")
        return 1
    pool = [L.customer(5000 + i) for i in range(args.customers)]
    requests = []
    for n in range(args.webhooks):
        senders = [pool[(n * MESSAGES_PER_WEBHOOK + i) % len(pool)] for i in range(MESSAGES_PER_WEBHOOK)]
        payload, _wamids = L.inbound_payload(ACCOUNT, senders, 4_000_000 + n)
        raw, headers = L.signed(payload, APP_SECRET)
        requests.append((raw.decode("utf-8"), headers[L.SIGNATURE_HEADER]))
    with OdooDatabase(settings, log=print) as database:
        found = database.shell(_CODE % dict(ACCOUNT, app_secret=APP_SECRET, requests=requests,
                                            profile=args.profile), timeout=900)
    messages = args.webhooks * MESSAGES_PER_WEBHOOK
    print("inbound processing: %d webhooks, %d messages (stored %d, %d conversations) in %d "
          "cron passes: %d SQL statements, %.1f per message; %.2f s, %.0f msg/s in one process"
          % (args.webhooks, messages, found["stored"], found["conversations"], found["passes"],
             found["queries"], found["queries"] / messages, found["elapsed"],
             messages / found["elapsed"] if found["elapsed"] else 0))
    if found["profile"]:
        print(found["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
