"""A real Odoo 18 for the benchmarks: a fresh database, a server on loopback, all removed after.

    settings = odoo_settings()             # None when no Odoo is configured
    with OdooDatabase(settings) as db:     # template copied, campotech_whatsapp installed
        db.shell("env['wa.account'].create({...}); env.cr.commit()")
        with db.server(workers=0) as server:
            server.url("/web/health")      # http://127.0.0.1:<free port>/web/health
        db.sql("SELECT count(*) FROM wa_message")
    # the server is stopped and the database dropped, also on Ctrl+C, SIGTERM or an error

Configured like tools/odoo_tests.py, through the environment: ``CAMPOTECH_ODOO_BIN``,
``CAMPOTECH_ODOO_PYTHON``, ``CAMPOTECH_ODOO_CONFIG`` (the database connection and
``campotech_whatsapp_key``), ``CAMPOTECH_ODOO_TEMPLATE_DB`` (optional: copied with
``odoo-bin db duplicate`` instead of installing the dependencies from scratch) and
``CAMPOTECH_ODOO_ADDONS_PATH``. Only this module's standard library is needed here: SQL
runs in Odoo's own Python (which has psycopg2), so the bench's virtualenv needs no driver.
"""

import configparser
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULE = "campotech_whatsapp"
RESULT_MARK = "BENCH_RESULT "

# Runs in Odoo's Python: argv = config path, database; the SQL on stdin; JSON rows out.
_SQL_SCRIPT = r"""
import configparser, json, sys
import psycopg2
options = {}
if sys.argv[1]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(sys.argv[1])
    if parser.has_section("options"):
        options = dict(parser.items("options"))
def opt(name):
    value = options.get(name)
    return None if value in (None, "", "False", "false") else value
conn = psycopg2.connect(dbname=sys.argv[2], host=opt("db_host"), port=opt("db_port"),
                        user=opt("db_user"), password=opt("db_password"))
conn.autocommit = True
with conn.cursor() as cr:
    cr.execute(sys.stdin.read())
    rows = cr.fetchall() if cr.description else []
conn.close()
print(json.dumps(rows, default=str))
"""


# The same, one connection for many statements: one JSON-encoded statement per stdin line,
# one JSON line of rows back (a poll must not start a Python process each time: on a
# two-core machine that steals the CPU of the server it measures).
_SQL_SESSION_SCRIPT = _SQL_SCRIPT.replace(
    """with conn.cursor() as cr:
    cr.execute(sys.stdin.read())
    rows = cr.fetchall() if cr.description else []
conn.close()
print(json.dumps(rows, default=str))
""", """for line in sys.stdin:
    with conn.cursor() as cr:
        cr.execute(json.loads(line))
        rows = cr.fetchall() if cr.description else []
    print(json.dumps(rows, default=str), flush=True)
conn.close()
""")


class SqlSession:
    """One autocommit connection to a database, in Odoo's Python, for repeated statements."""

    def __init__(self, settings, name):
        self.proc = subprocess.Popen(
            [settings["python"], "-c", _SQL_SESSION_SCRIPT, settings["config"], name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __call__(self, query):
        self.proc.stdin.write(json.dumps(query) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise OdooError("SQL session ended (exit %s) on: %s" % (self.proc.wait(), query))
        return json.loads(line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class OdooError(RuntimeError):
    """Odoo could not be set up, started or queried; the message says which command."""


def odoo_settings(env=None):
    """The configured Odoo as a dict, or None when CAMPOTECH_ODOO_BIN is unset."""
    env = os.environ if env is None else env
    if not env.get("CAMPOTECH_ODOO_BIN"):
        return None
    odoo_bin = Path(env["CAMPOTECH_ODOO_BIN"]).expanduser()
    if not odoo_bin.is_file():
        raise OdooError("CAMPOTECH_ODOO_BIN=%s is not a file" % odoo_bin)
    src = odoo_bin.resolve().parent
    addons = [str(p) for p in (src / "addons", src / "odoo" / "addons") if p.is_dir()]
    addons += [p.strip() for p in env.get("CAMPOTECH_ODOO_ADDONS_PATH", "").split(",") if p.strip()]
    addons.append(str(REPO_ROOT))
    return {
        "bin": str(odoo_bin),
        "python": str(Path(env.get("CAMPOTECH_ODOO_PYTHON") or sys.executable).expanduser()),
        "config": str(Path(env["CAMPOTECH_ODOO_CONFIG"]).expanduser())
        if env.get("CAMPOTECH_ODOO_CONFIG") else "",
        "template": env.get("CAMPOTECH_ODOO_TEMPLATE_DB", "").strip(),
        "addons": ",".join(addons),
    }


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(settings, db, port, workers=0, cron_threads=0, logfile=None, gevent_port=None,
                   extra=()):
    """The odoo-bin command line of a loopback server on one database."""
    cmd = [settings["python"], settings["bin"]]
    if settings["config"]:
        cmd += ["-c", settings["config"]]
    cmd += ["--addons-path=" + settings["addons"], "-d", db, "--db-filter=^%s$" % db,
            "--http-interface=127.0.0.1", "--http-port=%d" % port,
            "--workers=%d" % workers, "--max-cron-threads=%d" % cron_threads,
            "--logfile=%s" % (logfile or ""), "--log-level=info"]
    if workers:
        # Prefork also opens the long-polling port: never the default 8072 someone else uses.
        cmd.append("--gevent-port=%d" % (gevent_port or free_port()))
    return cmd + list(extra)


def _tail(path_or_text, lines=20):
    text = path_or_text
    if isinstance(path_or_text, Path):
        try:
            text = path_or_text.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    return "\n".join(text.strip().splitlines()[-lines:])


class _TerminateAsInterrupt:
    """While inside, SIGTERM unwinds like Ctrl+C does, so every cleanup still runs."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    def __exit__(self, *exc_info):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


class OdooDatabase:
    """A database of its own: copied from the template, the addon installed, dropped at exit."""

    def __init__(self, settings, name=None, log=None):
        self.settings = settings
        self.name = name or "campotech_bench_%s_%d" % (time.strftime("%Y%m%d_%H%M%S"), os.getpid())
        self.log = log or (lambda line: None)
        self.workdir = Path(tempfile.mkdtemp(prefix="campotech-bench-"))
        self._signals = _TerminateAsInterrupt()
        self._created = False

    # --- commands -----------------------------------------------------------

    def _odoo(self, subcommand, *args):
        """odoo-bin [subcommand] -c <config> --addons-path=... args."""
        cmd = [self.settings["python"], self.settings["bin"]] + ([subcommand] if subcommand else [])
        if self.settings["config"]:
            cmd += ["-c", self.settings["config"]]
        return cmd + ["--addons-path=" + self.settings["addons"]] + list(args)

    def _run(self, cmd, what, stdin=None, timeout=900):
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired as error:
            raise OdooError("%s: no answer in %d s: %s" % (what, timeout, shlex.join(cmd))) from error
        if proc.returncode != 0:
            raise OdooError("%s failed (exit %d): %s\n%s" % (
                what, proc.returncode, shlex.join(cmd), _tail(proc.stdout + proc.stderr)))
        self.log("odoo: %s (%.0f s)" % (what, time.monotonic() - started))
        return proc.stdout

    def create(self):
        self._created = True  # from here on the database may exist: always drop it
        if self.settings["template"]:
            self._run(self._odoo("db", "duplicate", self.settings["template"], self.name),
                      "copied %s to %s" % (self.settings["template"], self.name))
        self._run(self._odoo(None, "-d", self.name, "-i", MODULE, "--stop-after-init",
                             "--no-http", "--log-level=warn", "--max-cron-threads=0"),
                  "installed %s in %s" % (MODULE, self.name))

    def drop(self):
        if not self._created:
            return
        self._created = False
        try:
            self._run(self._odoo("db", "drop", self.name), "dropped %s" % self.name, timeout=300)
        except OdooError as error:
            self.log("odoo: warning: could not drop %s: %s" % (self.name, error))

    def shell(self, code, timeout=300):
        """Run Python in ``odoo-bin shell`` on this database; returns what it passed to result().

        The code sees ``env`` and ``result(value)``; it must commit what it wants kept.
        """
        script = ("import json as _json\n"
                  "def result(value):\n"
                  "    print(%r + _json.dumps(value, default=str), flush=True)\n" % RESULT_MARK
                  + code)
        cmd = self._odoo("shell", "-d", self.name, "--no-http", "--log-level=warn",
                         "--max-cron-threads=0")
        out = self._run(cmd, "odoo-bin shell on %s" % self.name, stdin=script, timeout=timeout)
        found = [line[len(RESULT_MARK):] for line in out.splitlines() if line.startswith(RESULT_MARK)]
        return json.loads(found[-1]) if found else None

    def sql(self, query, timeout=120):
        """Rows of one SQL statement on this database (autocommit), through Odoo's psycopg2."""
        cmd = [self.settings["python"], "-c", _SQL_SCRIPT, self.settings["config"], self.name]
        proc = subprocess.run(cmd, input=query, capture_output=True, text=True, timeout=timeout,
                              check=False)
        if proc.returncode != 0:
            raise OdooError("SQL on %s failed: %s\n%s" % (self.name, query, _tail(proc.stderr)))
        return json.loads(proc.stdout)

    def sql_session(self):
        """A SqlSession on this database (close() it): for polling."""
        return SqlSession(self.settings, self.name)

    def server(self, workers=0, cron_threads=0, extra=()):
        return OdooServer(self, workers=workers, cron_threads=cron_threads, extra=extra)

    # --- context ------------------------------------------------------------

    def __enter__(self):
        self._signals.__enter__()
        try:
            self.create()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            self.drop()
        finally:
            self._signals.__exit__(*exc_info)


class OdooServer:
    """odoo-bin serving one database on a free loopback port, in its own process group."""

    START_TIMEOUT = 180

    def __init__(self, database, workers=0, cron_threads=0, extra=()):
        self.database = database
        self.workers = workers
        self.cron_threads = cron_threads
        self.port = free_port()
        self.logfile = database.workdir / ("odoo-%d-workers-%d.log" % (workers, self.port))
        self.cmd = server_command(database.settings, database.name, self.port, workers,
                                  cron_threads, self.logfile, extra=extra)
        self.proc = None

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def start(self):
        self.database.log("odoo: starting %s" % shlex.join(self.cmd))
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OdooError("odoo-bin exited with %s before answering; log %s:\n%s" % (
                    self.proc.returncode, self.logfile, _tail(self.logfile)))
            try:
                with urllib.request.urlopen(self.url("/web/health"), timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise OdooError("odoo-bin did not answer /web/health in %d s; log %s" % (
            self.START_TIMEOUT, self.logfile))

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)  # the prefork workers too
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Prefork workers may outlive their master by a moment.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def log_lines(self):
        try:
            return self.logfile.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info):
        self.stop()


def odoo_config_key(settings):
    """Whether the configuration holds the deployment key the addon's secrets need."""
    if os.environ.get("CAMPOTECH_WHATSAPP_KEY"):
        return True
    if not settings["config"]:
        return False
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(settings["config"])
    return bool(parser.has_section("options") and parser.get("options", "campotech_whatsapp_key",
                                                              fallback=""))
