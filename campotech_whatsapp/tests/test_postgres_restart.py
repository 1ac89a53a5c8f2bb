"""PostgreSQL restarted (crash-like) under webhook load: nothing lost, Odoo recovers.

Not the kit's PostgreSQL (other runs use it): a throwaway cluster of its
own, created with the same PostgreSQL binaries, holding a copy of the test
database. A real odoo-bin serves it while webhooks are posted; the cluster
is restarted with ``pg_ctl restart -m immediate`` (every backend killed, WAL
recovery at start, as after a crash). Webhooks answered 200 must be stored
and processed; those refused meanwhile are posted again, as Meta does, and
stored once; the same Odoo process answers and processes again with no
restart of its own.
"""

import configparser
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time

import psycopg2

from odoo.tests import tagged
from odoo.tools import config

from .processes_common import ProcessCase, free_port, post

_logger = logging.getLogger(__name__)

LOAD_BEFORE, LOAD_AFTER = 2.0, 3.0  # seconds of load around the restart
CLIENTS = 4


TOOLS = ("initdb", "pg_ctl", "pg_dump", "pg_restore", "createdb", "vacuumdb")


def pg_bindir(major):
    """PostgreSQL's binaries of the running server's major version (Debian's
    layout first, as the kit installs them; then the PATH)."""
    candidates = ["/usr/lib/postgresql/%s/bin" % major]
    if shutil.which("pg_ctl"):
        candidates.append(os.path.dirname(shutil.which("pg_ctl")))
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, tool), os.X_OK) for tool in TOOLS):
            return bindir
    return None


class ThrowawayCluster:
    """initdb in a temporary directory, served on a free loopback port, removed after."""

    def __init__(self, bindir):
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="campotech-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = free_port()
        # PostgreSQL refuses to run as root: as the postgres user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres")

    def run(self, tool, *args, timeout=300, **kwargs):
        return subprocess.run(self.as_user + [os.path.join(self.bindir, tool)] + list(args),
                              capture_output=True, text=True, check=True, timeout=timeout,
                              cwd="/", **kwargs)

    def initdb(self):
        self.run("initdb", "-D", self.data, "-U", "odoo", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8")
        self.start()

    def pg_ctl(self, action, *args):
        # -l: the postmaster writes to its log file, never to our pipes (a
        # pipe it inherited would keep subprocess.run waiting for its end).
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"), "-w", "-t", "60",
                 "-o", "-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s "
                 # No fsync: a commit is still written to the OS at once, which a
                 # crash of PostgreSQL's processes (what this test does) cannot undo;
                 # only a crash of the machine could. The shared disk stays quiet.
                 "-c fsync=off" % (self.port, self.root), *args, action, timeout=120)

    def start(self):
        # Loopback only and trust: a cluster nobody else can reach, gone after the test.
        self.pg_ctl("start")

    def restart_crashed(self):
        """Every backend killed at once, no checkpoint: WAL recovery when it comes back."""
        self.pg_ctl("restart", "-m", "immediate")

    def destroy(self):
        try:
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            _logger.info("throwaway PostgreSQL already stopped: %s", error)
        shutil.rmtree(self.root, ignore_errors=True)

    def connect(self, dbname):
        return psycopg2.connect(host="127.0.0.1", port=self.port, user="odoo", dbname=dbname)


@tagged("post_install", "-at_install")
class TestPostgresRestart(ProcessCase):

    def copy_database(self, cluster, target):
        """The test database (with this test's committed account) into the cluster."""
        source = {"PGHOST": config["db_host"] or "", "PGPORT": str(config["db_port"] or ""),
                  "PGUSER": config["db_user"] or "", "PGPASSWORD": config["db_password"] or ""}
        env = dict(os.environ, **{k: v for k, v in source.items() if v})
        dump = os.path.join(cluster.root, "db.dump")
        subprocess.run([os.path.join(cluster.bindir, "pg_dump"), "-Fc", "-Z", "0", "-f", dump,
                        self.dbname], env=env, check=True, capture_output=True, timeout=300)
        os.chmod(dump, 0o644)
        cluster.run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "odoo", target)
        cluster.run("pg_restore", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "odoo",
                    "--no-owner", "-d", target, dump)
        # pg_restore leaves no planner statistics: without them every query of
        # the processing is planned blind and runs many times slower.
        cluster.run("vacuumdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "odoo",
                    "--analyze-only", target)

    def rcfile_for(self, cluster):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.rcfile)
        for key, value in (("db_host", "127.0.0.1"), ("db_port", str(cluster.port)),
                           ("db_user", "odoo"), ("db_password", "False")):
            parser.set("options", key, value)
        path = os.path.join(self.workdir, "odoo-pg2.conf")
        with open(path, "w", encoding="utf-8") as handle:
            parser.write(handle)
        return path

    def test_postgres_restarted_under_load_loses_nothing_and_odoo_recovers(self):
        self.env.cr.execute("SHOW server_version_num")
        bindir = pg_bindir(int(self.env.cr.fetchone()[0]) // 10000)
        self.assertTrue(bindir, "PostgreSQL's binaries (pg_ctl) are on this machine with the kit")
        cluster = ThrowawayCluster(bindir)
        self.addCleanup(cluster.destroy)
        target = self.dbname + "_pg2"
        self.addCleanup(shutil.rmtree, os.path.join(config["data_dir"], "filestore", target),
                        ignore_errors=True)
        started = time.monotonic()
        cluster.initdb()
        self.copy_database(cluster, target)
        copy_seconds = time.monotonic() - started
        # Prefork, as in production: a worker whose connection died is
        # replaced by the master. (With --workers=0 the cron threads die with
        # their LISTEN connection and never come back: see the README.)
        server = self.server(cron_threads=1, workers=2, rcfile=self.rcfile_for(cluster),
                             dbname=target)
        url = server.url("/whatsapp/webhook")

        sent = []  # (raw, wamid, status), in the order posted
        lock, stop = threading.Lock(), threading.Event()
        counter = iter(range(10 ** 6))

        def client(index):
            while not stop.is_set():
                with lock:
                    n = next(counter)
                raw, wamid = self.inbound("54911999%05d" % (n % 25), "carga %s" % n)
                status = post(url, raw, timeout=60)
                with lock:
                    sent.append((raw, wamid, status))
                time.sleep(0.5)  # a steady load, not a flood to process afterwards
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            time.sleep(LOAD_BEFORE)
            restart_started = time.monotonic()
            cluster.restart_crashed()
            restart_seconds = time.monotonic() - restart_started
            time.sleep(LOAD_AFTER)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        refused = [(raw, wamid) for raw, wamid, status in sent if status != 200]
        # As Meta does: what was not acknowledged comes again until it is.
        for raw, wamid in refused:
            self.assertTrue(self.wait_for(lambda raw=raw: post(url, raw) == 200, timeout=60,
                                          step=0.5), "Odoo answers again after the restart")
        self.assertEqual(self.sql_pg2(cluster, target, "SELECT 1"), [(1,)])
        wamids = {wamid for _raw, wamid, _status in sent}
        acknowledged = {wamid for _raw, wamid, status in sent if status == 200}

        def processed():
            return self.sql_pg2(cluster, target, """
                SELECT count(*) FROM wa_webhook_log WHERE account_id = %s AND NOT processed""",
                                [self.account_id]) == [(0,)]
        # A cron worker that lost its connection exits; the one the master
        # starts instead first sleeps up to Odoo's minute between polls.
        self.assertTrue(self.wait_for(processed, timeout=240, step=0.5),
                        "the server's cron worker processes again after the restart: %s" %
                        self.sql_pg2(cluster, target, """
                            SELECT processed, count(*) FROM wa_webhook_log WHERE account_id = %s
                             GROUP BY processed""", [self.account_id]))
        stored = [row[0] for row in self.sql_pg2(cluster, target, """
            SELECT m.wamid FROM wa_message m JOIN wa_conversation c ON c.id = m.conversation_id
             WHERE c.account_id = %s AND m.direction = 'inbound'""", [self.account_id])]
        self.assertEqual(len(stored), len(set(stored)), "no message stored twice")
        self.assertEqual(set(stored), wamids, "every webhook stored, acknowledged or re-posted")
        self.assertLessEqual(acknowledged, set(stored))
        self.assertIsNone(server.proc.poll(), "the same Odoo process, never restarted")
        _logger.info("PostgreSQL restart under load (measured, not asserted): cluster and copy "
                     "%.1f s, restart %.1f s, %d webhooks posted, %d refused and posted again, "
                     "%d stored once each", copy_seconds, restart_seconds, len(sent), len(refused),
                     len(stored))

    @staticmethod
    def sql_pg2(cluster, dbname, query, params=()):
        connection = cluster.connect(dbname)
        try:
            with connection, connection.cursor() as cr:
                cr.execute(query, params)
                return cr.fetchall()
        finally:
            connection.close()
