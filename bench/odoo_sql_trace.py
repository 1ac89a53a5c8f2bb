"""Print the SQL statements one webhook request runs: ``python -m bench.odoo_sql_trace``.

A separate short run (Odoo's ``--log-level=debug_sql`` slows every query):
a fresh database as the benches make it, ``--workers=0``, no cron thread,
a few sequential signed 1-message webhooks and ``/web/health``; for the
last request of each, the statements logged since the request before it.
Needs the CAMPOTECH_ODOO_* variables, like the Odoo benches.
"""

import argparse
import re
import sys

from . import odoo_bench as B
from . import odoo_load as L
from .odoo_server import OdooDatabase

# 2026-12-01 23:26:01,726 22608 DEBUG db odoo.sql_db: [0.812 ms] query: SELECT ...
SQL_LINE = re.compile(r" DEBUG \S+ odoo\.sql_db: (?:\[[\d.]+ ms\] )?query: (?P<sql>.*)$")


def statements_per_request(lines):
    """[(request line, [SQL statements])] for each request logged, in order.

    Only for sequential requests on a server with nothing else running:
    statements logged after one request line belong to the next one.
    """
    requests, pending = [], []
    for line in lines:
        sql = SQL_LINE.search(line)
        if sql:
            pending.append(sql["sql"])
        elif L.REQUEST_LINE.search(line):
            requests.append((line, pending))
            pending = []
        elif pending and not re.match(r"\d{4}-\d\d-\d\d ", line):
            pending[-1] += " " + line.strip()  # a multi-line statement
    return requests


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_sql_trace", description=__doc__)
    parser.add_argument("--requests", type=int, default=3, help="webhooks to send (default 3)")
    args = parser.parse_args(argv)
    settings, reason = B._skip_reason()  # pylint: disable=protected-access
    if reason:
        print("odoo_sql_trace: skipped: %s" % reason)
        return 0
    with OdooDatabase(settings, log=print) as database:
        sim = B._simulator(database)  # pylint: disable=protected-access
        try:
            with database.server(workers=0, cron_threads=0,
                                 extra=["--log-level=debug_sql"]) as server:
                requests = B._health_requests(args.requests) + B._webhook_requests(  # pylint: disable=protected-access
                    args.requests, 1, 1, "trace")
                L.run_load(server.url(), requests, threads=1)
            traced = statements_per_request(server.log_lines())
        finally:
            sim.stop()
    for target in (B.FLOOR, B.WEBHOOK + "?bench=trace"):
        mine = [(line, sql) for line, sql in traced if '"%s ' % target in line.split(" ", 6)[-1]
                or (" %s " % target) in line]
        if not mine:
            print("%s: no request found in the log" % target)
            continue
        line, statements = mine[-1]
        print("\n%s: %d statements in its last request (%s)" % (target, len(statements), line[-40:]))
        for n, sql in enumerate(statements, 1):
            print("  %2d. %s" % (n, sql[:300]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
