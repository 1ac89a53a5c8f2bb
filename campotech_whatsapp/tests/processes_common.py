"""Real Odoo processes on the test database, for the crash and scale-out tests.

What these tests check (a process killed mid-batch, two servers on one
database) only exists with committed rows and separate processes: they
commit their own company and account, start ``odoo-bin`` (a server, or a
shell running cron code) on the test database, and remove what they
committed afterwards. Every process is started here and stopped here, by
its own pid.
"""

import configparser
import os
import shutil
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

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase
from odoo.tools import config

from ..cloud import webhook
from ..cloud.constants import SIGNATURE_HEADER
from ..cloud.simulator import payloads
from ..cloud.simulator.inbound import build_message
from ..cloud.simulator.server import Simulator
from .common import KEY, wait_for

TOKEN = "EAAG-token-processes-0123456789"
SECRET = "app-secret-processes"
# Its own ids: rows another test class commits never match this account.
PHONE_NUMBER_ID, WABA_ID = "1077", "2077"
DISPLAY_NUMBER = "5491140007777"
SHELL_PREAMBLE = """
import json, time
def result(value):
    print("RESULT " + json.dumps(value, default=str), flush=True)
"""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooProcess:
    """One odoo-bin process (server or shell) on the test database, in its own
    process group so that a kill reaches its threads and nothing else."""

    def __init__(self, command, stdin=None, logfile=None):
        self.logfile = logfile
        self.output = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(command, stdin=stdin, stdout=self.output,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.pid = self.proc.pid

    def kill(self):
        """SIGKILL, as the OOM killer or a power cut would: no cleanup runs."""
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self.proc.returncode

    def text(self):
        self.output.seek(0)
        text = self.output.read()
        if self.logfile and os.path.exists(self.logfile):
            text += Path(self.logfile).read_text(encoding="utf-8", errors="replace")
        return text

    def results(self):
        import json  # pylint: disable=import-outside-toplevel
        return [json.loads(line[len("RESULT "):]) for line in self.text().splitlines()
                if line.startswith("RESULT ")]


class OdooServer(OdooProcess):
    """odoo-bin serving the test database on a free loopback port."""

    def __init__(self, case, cron_threads=0, workers=0, rcfile=None, dbname=None):
        self.port = free_port()
        logfile = os.path.join(case.workdir, "odoo-%d.log" % self.port)
        dbname = dbname or case.dbname
        command = case.odoo_command(None, rcfile, dbname) + [
            "--http-interface=127.0.0.1", "--http-port=%d" % self.port,
            "--workers=%d" % workers, "--max-cron-threads=%d" % cron_threads,
            "--db-filter=^%s$" % dbname, "--logfile=%s" % logfile, "--log-level=warn",
            # Which server ran which cron batch: the scale-out test reports it.
            "--log-handler=odoo.addons.base.models.ir_cron:INFO"]
        if workers:
            command.append("--gevent-port=%d" % free_port())
        super().__init__(command, stdin=subprocess.DEVNULL, logfile=logfile)

    def cron_batches(self):
        """Lines "Job 'name' (id) processed n records, m records remaining" of this server."""
        return [line for line in self.text().splitlines() if " records remaining" in line]

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait_ready(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("odoo-bin exited with %s:\n%s" % (
                    self.proc.returncode, self.text()[-3000:]))
            try:
                with urllib.request.urlopen(self.url("/web/health"), timeout=5) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)  # not listening yet
                continue
            time.sleep(0.2)
        raise AssertionError("odoo-bin did not answer in %s s:\n%s" % (timeout, self.text()[-3000:]))


def post(url, raw, secret=SECRET, timeout=30):
    """A signed POST as Meta sends it; the HTTP status (0: no answer at all)."""
    request = urllib.request.Request(url, data=raw, method="POST", headers={
        "Content-Type": "application/json",
        SIGNATURE_HEADER: webhook.sign(raw, secret)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class ProcessCase(TransactionCase):
    """A committed company and account, a simulator, and odoo-bin processes on demand."""

    simulator_port = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = tempfile.mkdtemp(prefix="campotech-processes-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.dbname = cls.env.cr.dbname
        # The spawned processes must decrypt the token the test stores: the
        # test's key, in a copy of the running configuration.
        parser = configparser.ConfigParser(interpolation=None)
        if config.rcfile and os.path.exists(config.rcfile):
            parser.read(config.rcfile)
        if not parser.has_section("options"):
            parser.add_section("options")
        parser.set("options", "campotech_whatsapp_key", KEY)
        cls.rcfile = os.path.join(cls.workdir, "odoo.conf")
        with open(cls.rcfile, "w", encoding="utf-8") as handle:
            parser.write(handle)
        cls.startClassPatcher(_patch_key())
        cls.simulator = Simulator(port=cls.simulator_port, access_token=TOKEN, app_secret=SECRET,
                                  phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID,
                                  display_phone_number=DISPLAY_NUMBER,
                                  status_delays={"sent": None, "delivered": None, "read": None})
        cls.simulator.start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.reset()
        self.processes = []
        self.addCleanup(self._stop_processes)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].create({"name": "CampoTech Procesos %s" % time.time()})
            account = env["wa.account"].create({
                "name": "Procesos", "company_id": company.id, "phone_number_id": PHONE_NUMBER_ID,
                "waba_id": WABA_ID, "display_phone_number": DISPLAY_NUMBER,
                "graph_url": self.simulator.graph_url, "access_token": TOKEN,
                "app_secret": SECRET, "throughput_mps": 1000})
            cr.commit()  # pylint: disable=invalid-commit
            self.company_id, self.account_id = company.id, account.id
            cr.execute("SELECT COALESCE(max(id), 0) FROM ir_cron_trigger")
            self.trigger_floor = cr.fetchone()[0]
        self.addCleanup(self._remove_committed)

    def _stop_processes(self):
        for process in self.processes:
            process.kill()

    def _remove_committed(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["wa.account"].browse(self.account_id)
            logs = env["wa.webhook.log"].search([("account_id", "=", account.id)])
            conversations = env["wa.conversation"].search([("account_id", "=", account.id)])
            partners = conversations.partner_id
            env["wa.media.upload"].search([("account_id", "=", account.id)]).unlink()
            cr.execute("DELETE FROM wa_pacing WHERE key LIKE %s OR key LIKE %s",
                       ["%:" + PHONE_NUMBER_ID, "pair:%s:%%" % PHONE_NUMBER_ID])
            account.unlink()
            logs.unlink()
            partners.unlink()
            env["res.company"].browse(self.company_id).unlink()
            # The processes' webhooks left cron wake-ups behind that no cron
            # consumed: later tests count the triggers and would see them.
            cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", [self.trigger_floor])
            cr.commit()  # pylint: disable=invalid-commit

    # --- processes --------------------------------------------------------------

    def odoo_command(self, subcommand, rcfile=None, dbname=None):
        odoo_bin = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
        command = [sys.executable, odoo_bin] + ([subcommand] if subcommand else [])
        return command + ["-c", rcfile or self.rcfile, "-d", dbname or self.dbname,
                          "--addons-path", config["addons_path"]]

    def shell(self, code):
        """``odoo-bin shell`` running ``code`` (it sees env, result(value))."""
        script = tempfile.TemporaryFile("w+")
        script.write(SHELL_PREAMBLE + code)
        script.seek(0)
        process = OdooProcess(self.odoo_command("shell") + [
            "--no-http", "--log-level=warn", "--max-cron-threads=0"], stdin=script)
        self.processes.append(process)
        return process

    def run_shell(self, code, timeout=300):
        process = self.shell(code)
        self.assertEqual(process.wait(timeout), 0, process.text()[-3000:])
        return process

    def server(self, cron_threads=0, workers=0, **database):
        server = OdooServer(self, cron_threads=cron_threads, workers=workers, **database)
        self.processes.append(server)
        return server.wait_ready()

    # --- data -------------------------------------------------------------------

    def inbound(self, number, text, wamid=None, timestamp=None):
        """The bytes of a messages webhook carrying one text from ``number``."""
        message, contact = build_message({"from": number, "type": "text", "text": text},
                                         wamid or payloads.new_wamid(number),
                                         timestamp or time.time(), self.simulator.store.store_media)
        value = payloads.messages_value(PHONE_NUMBER_ID, DISPLAY_NUMBER, contacts=[contact],
                                        messages=[message])
        return payloads.encode(payloads.envelope(WABA_ID, "messages", value)), message["id"]

    def sql(self, query, params=()):
        with self.registry.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()

    def stored_wamids(self):
        """The wamids of this account's inbound messages, one entry per row."""
        return [row[0] for row in self.sql("""
            SELECT m.wamid FROM wa_message m JOIN wa_conversation c ON c.id = m.conversation_id
             WHERE c.account_id = %s AND m.direction = 'inbound'""", [self.account_id])]

    def log_states(self):
        return [row[0] for row in self.sql(
            "SELECT state FROM wa_webhook_log WHERE account_id = %s ORDER BY id", [self.account_id])]

    def create_conversations(self, numbers):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            conversations = env["wa.conversation"]
            for number in numbers:
                self.simulator.store.open_window(number)
                conversations |= env["wa.conversation"].create({
                    "account_id": self.account_id, "wa_id": number, "customer_phone": "+" + number,
                    "last_inbound_at": fields.Datetime.now()})
            cr.commit()  # pylint: disable=invalid-commit
            return conversations.ids

    def send(self, texts):
        """Queue texts [(conversation id, text)] in one committed transaction."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = [env["wa.conversation"].browse(cid).send_text(text) for cid, text in texts]
            cr.commit()  # pylint: disable=invalid-commit
        return ids

    wait_for = staticmethod(wait_for)


def _patch_key():
    from unittest.mock import patch  # pylint: disable=import-outside-toplevel
    return patch.dict(config.options, {"campotech_whatsapp_key": KEY})


def run_threads(count, target):
    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
