"""Benchmark 3 of issue #10 (``odoo_drain``): drain the real Odoo queue into the simulator.

    python -m bench --only odoo_drain            # 10,000 notifications, caps 80 and 1000
    python -m bench.odoo_queue [--db DB] [--count N] [--caps 80,1000] [--workers 2]

DB is a database with campotech_whatsapp installed (default: a new one from
CAMPOTECH_ODOO_TEMPLATE_DB, dropped at the end); CAMPOTECH_ODOO_BIN,
CAMPOTECH_ODOO_PYTHON and CAMPOTECH_ODOO_CONFIG say which Odoo (as for
scripts/test). It commits a company, an account pointing at a simulator on
loopback (which enforces the cap with 130429), its trabajo_programado
template approved, and N jobs scheduled for N customers: N template
notifications (ledger row, variables from the task, chatter note, origin on
the message). For each cap it then starts ``--workers`` Odoo processes at
once, each running the queue cron's code (``_process_queue``, with its
sender threads) as the cron of one of several Odoo servers on one database
would, and prints: achieved rate vs cap, retried attempts (130429; goal 0),
queued = accepted by the simulator, duplicates and missing (goal 0), SQL
queries per send, the workers' CPU time and where their time goes. The next
cap drains the same notifications again, requeued. Everything it created is
removed at the end. Figures only: nothing is asserted.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter

from campotech_whatsapp.cloud.crypto import generate_key
from campotech_whatsapp.cloud.simulator import Simulator

from .common import fmt
from .odoo_server import OdooDatabase, odoo_settings

TOKEN = "EAAG-bench-token-0123456789"
NO_STATUSES = {"sent": None, "delivered": None, "read": None}
HEADER = """
import json, time, resource
from odoo.tools import config
config["campotech_whatsapp_key"] = %(key)r
"""
SETUP = HEADER + """
company = env["res.company"].create({"name": "Bench %(cap)s %(stamp)s", "wa_quiet_hours": False})
account = env["wa.account"].create({
    "name": "Bench", "company_id": company.id, "phone_number_id": %(phone_number_id)r,
    "waba_id": "9" + %(phone_number_id)r, "graph_url": %(graph_url)r, "access_token": %(token)r,
    "throughput_mps": %(cap)d})
template = account.template_ids.filtered(lambda t: t.name == "trabajo_programado")
template.action_submit()  # created at the simulator, which the bench then approves
if %(senders)d:
    env["ir.config_parameter"].set_param("campotech_whatsapp.queue_senders", %(senders)d)
env.cr.commit()
print("RESULT " + json.dumps({"company_id": company.id, "account_id": account.id,
                              "template": template.name, "language": template.language}))
"""
# Template notifications as a morning's dispatch queues them: a job scheduled for each of
# COUNT customers, each through wa.notification (ledger row, template variables from the
# task, the chatter note on the task, origin res_model/res_id on the message).
SEED = HEADER + """
account = env["wa.account"].browse(%(account_id)d)
company = account.company_id
account.template_ids.filtered(lambda t: t.name == "trabajo_programado").status = "approved"
env = env(context=dict(env.context, allowed_company_ids=[company.id],
                       mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True))
project = env["project.project"].create({"name": "Bench", "company_id": company.id})
numbers = %(numbers)r
partners = env["res.partner"].create([
    {"name": "Cliente %%d" %% i, "mobile": "+" + number, "company_id": company.id,
     "street": "Av. Corrientes %%d" %% i, "city": "CABA"} for i, number in enumerate(numbers)])
Task = env["project.task"].with_context(default_project_id=project.id)
deadline = "2026-12-15 17:30:00"
for chunk in range(0, len(numbers), 500):
    Task.create([{"name": "Instalación de split %%d" %% i, "project_id": project.id,
                  "partner_id": partner.id, "date_deadline": deadline}
                 for i, partner in enumerate(partners[chunk:chunk + 500], chunk)])
    env.cr.commit()
queued = env["wa.outbound.queue"].search_count([("account_id", "=", account.id),
                                                ("state", "=", "pending")])
ledger = env["wa.notification"].search_count([("company_id", "=", company.id),
                                              ("state", "=", "queued")])
env.cr.commit()
print("RESULT " + json.dumps({"queued": queued, "ledger": ledger}))
"""
WORKER = HEADER + """
import re
from odoo import sql_db
where = {}
calls = [0]
execute = sql_db.Cursor.execute
def timed(self, query, params=None, log_exceptions=True):
    started = time.perf_counter()
    calls[0] += 1  # every cursor of every sender thread
    try:
        return execute(self, query, params, log_exceptions)
    finally:
        text = re.sub(r"\\s+", " ", str(query)).strip()
        words = text.split(" ")
        label = "SQL " + " ".join(words[:4])[:48]
        where[label] = where.get(label, 0.0) + time.perf_counter() - started
sql_db.Cursor.execute = timed
commit = sql_db.Cursor.commit
def timed_commit(self):
    started = time.perf_counter()
    try:
        return commit(self)
    finally:
        where["COMMIT"] = where.get("COMMIT", 0.0) + time.perf_counter() - started
sql_db.Cursor.commit = timed_commit
cr = env.cr
# Odoo is loaded: say so, and start with the other workers when the bench says go.
import os
open(%(ready)r + str(os.getpid()), "w").close()
while not os.path.exists(%(go)r):
    time.sleep(0.01)
cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
profile = None
if %(profile)r:  # the calling thread only: run with --senders 1 to see all of it
    import cProfile, pstats, io
    profile = cProfile.Profile()
    profile.enable()
sent = env["wa.outbound.queue"]._process_queue(time_budget=3600)
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
if profile:
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(30)
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(60)
    open(%(profile)r, "a").write(text.getvalue())
print("RESULT " + json.dumps({"sent": sent, "queries": calls[0],
                              "cpu": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
                              "start": wall0, "end": time.time(), "where": where}), flush=True)
# Stay connected until the bench has read the CPU figures (the backends' included).
open(%(ready)r + "done-" + str(os.getpid()), "w").close()
while not os.path.exists(%(go)r + "-stop"):
    time.sleep(0.01)
"""
REPORT = HEADER + """
items = env["wa.outbound.queue"].search([("account_id", "=", %(account_id)d)])
messages = env["wa.message"].search([("account_id", "=", %(account_id)d)])
sent_ok = len(messages.filtered(lambda m: m.state == "sent" and m.wamid
                                and m.res_model == "project.task" and m.res_id))
states = {}
for item in items:
    states[item.state] = states.get(item.state, 0) + 1
attempts = sum(items.mapped("attempts"))
print("RESULT " + json.dumps({"states": states, "attempts": attempts, "sent_ok": sent_ok}))
"""
# The next cap drains the same notifications again: queue, messages and the customers'
# canonical wa_id back as the notifications left them (seeding 10,000 takes minutes).
REQUEUE = HEADER + """
cr = env.cr
cr.execute("UPDATE wa_account SET throughput_mps = %(cap)d WHERE id = %(account_id)d")
cr.execute(\"\"\"UPDATE wa_outbound_queue SET state = 'pending', attempts = 0, wamid = NULL,
              scheduled_at = now() AT TIME ZONE 'UTC', processing_since = NULL,
              last_attempt_at = NULL, error_code = 0, error_message = NULL
            WHERE account_id = %(account_id)d\"\"\")
cr.execute(\"\"\"UPDATE wa_message SET state = 'pending', wamid = NULL, state_date = NULL
            WHERE account_id = %(account_id)d AND direction = 'outbound'\"\"\")
cr.execute(\"\"\"UPDATE res_partner SET wa_id = NULL WHERE id IN (
              SELECT partner_id FROM wa_conversation WHERE account_id = %(account_id)d)\"\"\")
cr.execute("UPDATE wa_conversation SET wa_id = NULL WHERE account_id = %(account_id)d")
cr.execute("DELETE FROM wa_pacing WHERE key LIKE %%s", ["%%" + %(phone_number_id)r + "%%"])
cr.commit()
env.invalidate_all()
print("RESULT " + json.dumps({"queued": env["wa.outbound.queue"].search_count(
    [("account_id", "=", %(account_id)d), ("state", "=", "pending")])}))
"""
CLEANUP = HEADER + """
env["ir.config_parameter"].search([("key", "=", "campotech_whatsapp.queue_senders")]).unlink()
account = env["wa.account"].browse(%(account_id)d)
company = account.company_id
env["project.task"].search([("company_id", "=", company.id)]).unlink()
env["project.project"].search([("company_id", "=", company.id)]).unlink()
env["wa.notification"].search([("company_id", "=", company.id)]).unlink()
account.unlink()
company.unlink()
env.cr.commit()
print("RESULT " + json.dumps({}))
"""


def _shell(db, script):
    command = [os.environ.get("CAMPOTECH_ODOO_PYTHON", sys.executable),
               os.environ["CAMPOTECH_ODOO_BIN"], "shell", "--no-http", "--log-level=warn",
               "-d", db, "--addons-path", _addons_path()]
    if os.environ.get("CAMPOTECH_ODOO_CONFIG"):
        command[3:3] = ["-c", os.environ["CAMPOTECH_ODOO_CONFIG"]]
    with tempfile.TemporaryFile("w+") as stdin:
        stdin.write(script)
        stdin.seek(0)
        return subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)


def _result(proc, timeout=3600):
    output, _ = proc.communicate(timeout=timeout)
    for line in output.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError("Odoo shell failed:\n" + output[-3000:])


def _addons_path():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    odoo_addons = os.path.join(os.path.dirname(os.environ["CAMPOTECH_ODOO_BIN"]), "odoo", "addons")
    return ",".join(p for p in (odoo_addons, root) if os.path.isdir(p))


def run_caps(out, db, caps, count, workers, senders=0, profile=None):
    """Seed ``count`` template notifications once, then drain them at each cap."""
    key = generate_key()
    phone_number_id = "77%05d%03d" % (os.getpid() % 100000, int(time.time()) % 1000)
    sim = Simulator(host="127.0.0.1", port=0, mps=caps[0], access_token=TOKEN,
                    phone_number_id=phone_number_id, waba_id="9" + phone_number_id,
                    status_delays=NO_STATUSES).start()
    seeded = None
    try:
        numbers = ["54911%08d" % (30000000 + i) for i in range(count)]
        started = time.time()
        setup = _result(_shell(db, SETUP % {
            "key": key, "cap": caps[0], "stamp": time.time(), "phone_number_id": phone_number_id,
            "graph_url": sim.graph_url, "token": TOKEN, "senders": senders}))
        sim.set_template_status(setup["template"], "APPROVED", setup["language"])
        seeded = dict(setup, **_result(_shell(db, SEED % {
            "key": key, "account_id": setup["account_id"], "numbers": numbers})))
        out("odoo_drain: %d template notifications queued (%d ledger rows, each a task's "
            "chatter note) in %s s" % (seeded["queued"], seeded["ledger"],
                                       fmt(time.time() - started)))
        for index, cap in enumerate(caps):
            queued = seeded["queued"]
            if index:
                queued = _result(_shell(db, REQUEUE % {
                    "key": key, "cap": cap, "account_id": seeded["account_id"],
                    "phone_number_id": phone_number_id}))["queued"]
                sim.configure(mps=cap)
            _drain_at(out, db, sim, key, seeded["account_id"], cap, count, queued, workers, profile)
    finally:
        if seeded:
            _result(_shell(db, CLEANUP % {"key": key, "account_id": seeded["account_id"]}))
        sim.stop()


def _cpu_snapshot():
    """(machine busy and total seconds, PostgreSQL processes' seconds, this process's seconds):
    where the CPU goes during a drain. Linux /proc; zeros elsewhere."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = total = 0.0
    postgres = {}
    try:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        total, busy = sum(values[:8]) / tick, (sum(values[:8]) - idle) / tick
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as stat:
                    fields = stat.read().rsplit(")", 1)
                if fields[0].endswith("(postgres"):
                    parts = fields[1].split()
                    postgres[pid] = (int(parts[11]) + int(parts[12])) / tick
            except OSError:
                continue
    except OSError:
        pass
    own = os.times()
    return busy, total, postgres, own.user + own.system


def _drain_at(out, db, sim, key, account_id, cap, count, queued, workers, profile=None):
    before = len(sim.state()["messages"])
    sync = tempfile.mkdtemp(prefix="campotech-drain-")
    ready, go = os.path.join(sync, "ready-"), os.path.join(sync, "go")
    procs = [_shell(db, WORKER % {"key": key, "profile": profile, "ready": ready, "go": go})
             for _ in range(workers)]
    # All workers loaded, then one start: the CPU figures cover the drain only.
    deadline = time.time() + 600
    while len(os.listdir(sync)) < workers and time.time() < deadline \
            and all(proc.poll() is None for proc in procs):
        time.sleep(0.05)
    cpu_before = _cpu_snapshot()
    open(go, "w").close()
    deadline = time.time() + 3600
    while len([n for n in os.listdir(sync) if "done-" in n]) < workers \
            and all(proc.poll() is None for proc in procs) and time.time() < deadline:
        time.sleep(0.01)
    cpu_after = _cpu_snapshot()
    open(go + "-stop", "w").close()
    results = [_result(proc) for proc in procs]
    for name in os.listdir(sync):
        os.unlink(os.path.join(sync, name))
    os.rmdir(sync)
    report = _result(_shell(db, REPORT % {"key": key, "account_id": account_id}))
    sent_records = sim.state()["messages"][before:]
    per_message = Counter(m["to"] for m in sent_records)
    sent = sum(r["sent"] for r in results)
    queries = sum(r["queries"] for r in results)
    span = max(r["end"] for r in results) - min(r["start"] for r in results)
    throttled = report["attempts"] - sent if report["attempts"] > sent else 0
    # The rate Meta sees: accepted sends over the time from the first to the last
    # (the workers' start-up, a few seconds of Odoo loading, is not the drain's).
    ats = [m["at"] for m in sent_records]
    accept_span = max(ats) - min(ats) if len(ats) > 1 else 0.0
    rate = (len(ats) - 1) / accept_span if accept_span else 0.0
    duplicates = sum(n - 1 for n in per_message.values())
    out("odoo_drain cap=%d workers=%d: %d sent in %s s (workers' span %s s): %s msg/s = %.1f%% "
        "of cap (goal: within 5%%); 130429 or other retried attempts: %d (goal 0); queued %d, accepted by the "
        "simulator %d, duplicates %d, missing %d (goal: each exactly once); messages sent with "
        "wamid and origin %d; queue states %s; SQL queries per send %s; worker CPU %s s"
        % (cap, workers, sent, fmt(accept_span), fmt(span), fmt(rate), 100 * rate / cap,
           throttled, queued,
           len(sent_records), duplicates, count - len(per_message), report["sent_ok"],
           report["states"], fmt(queries / sent if sent else 0),
           fmt(sum(r["cpu"] for r in results))))
    busy, total, own = (cpu_after[i] - cpu_before[i] for i in (0, 1, 3))
    # PostgreSQL: its processes at the end (the workers' backends, still connected, among
    # them), less what each had used at the start.
    postgres = sum(cpu_after[2][pid] - cpu_before[2].get(pid, 0.0) for pid in cpu_after[2])
    workers_cpu = sum(r["cpu"] for r in results)
    if total:
        out("odoo_drain cap=%d CPU while the workers ran: machine %.0f%% busy (%s of %s "
            "core-seconds): Odoo workers %s s, PostgreSQL (all databases) %s s, simulator and "
            "bench %s s, the rest (other processes) %s s"
            % (cap, 100 * busy / total, fmt(busy), fmt(total), fmt(workers_cpu), fmt(postgres),
               fmt(own), fmt(max(0.0, busy - workers_cpu - postgres - own))))
    where = Counter()
    for r in results:
        where.update(r.get("where") or {})
    busy = sum(r["end"] - r["start"] for r in results) or 1.0
    out("odoo_drain cap=%d time: of %s s worker wall time (all threads' SQL counted), %s"
        % (cap, fmt(busy), ", ".join("%s %.0f%%" % (k, 100 * v / busy)
                                      for k, v in where.most_common(6))))


COUNT = {"full": 10_000, "quick": 200}
CAPS = (80, 1000)
WORKERS = 2  # two Odoo processes' queue crons on one database: the pacing must hold across them


def run(out, quick=False):
    """``python -m bench --only odoo_drain``: a database of its own, both caps."""
    settings = odoo_settings()
    if settings is None:
        out("[odoo_drain] skipped: no Odoo 18 configured (CAMPOTECH_ODOO_BIN)")
        return
    count = COUNT["quick" if quick else "full"]
    out("[odoo_drain] %d template notifications per cap, drained by %d Odoo processes running "
        "the queue cron's code into the simulator (cap enforced with 130429)" % (count, WORKERS))
    with OdooDatabase(settings, log=out) as database:
        run_caps(out, database.name, CAPS, count, WORKERS)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.odoo_queue",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a database with campotech_whatsapp installed "
                                     "(default: a new one, dropped at the end)")
    parser.add_argument("--count", type=int, default=COUNT["full"])
    parser.add_argument("--caps", default=",".join(map(str, CAPS)))
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--senders", type=int, default=0,
                        help="sender threads per worker (default: the queue's own choice)")
    parser.add_argument("--profile", metavar="FILE",
                        help="append each worker's cProfile (main sender thread) to FILE")
    args = parser.parse_args(argv)
    if not os.environ.get("CAMPOTECH_ODOO_BIN"):
        print("odoo_queue: skipped — no Odoo 18 configured (CAMPOTECH_ODOO_BIN)")
        return
    caps = [int(c) for c in args.caps.split(",")]
    options = {"senders": args.senders, "profile": args.profile}
    if args.db:
        run_caps(print, args.db, caps, args.count, args.workers, **options)
        return
    with OdooDatabase(odoo_settings(), log=print) as database:
        run_caps(print, database.name, caps, args.count, args.workers, **options)


if __name__ == "__main__":
    main()
