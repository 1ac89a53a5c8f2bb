"""The queue with committed data, real cursors and a real worker process.

These tests cannot live in the test transaction: another cursor, or
another process, only sees committed rows. They commit their own company,
account and messages, and remove them afterwards.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from ..cloud.simulator.server import Simulator
from .common import KEY, wait_for

TOKEN = "EAAG-token-concurrency-0123456789"
FIRST, SECOND = "5491155550001", "5491155550002"
WORKER_SCRIPT = """
from odoo.tools import config
config["campotech_whatsapp_key"] = %(key)r
env["wa.outbound.queue"]._process_queue()
env.cr.commit()
"""


@tagged("post_install", "-at_install")
class TestOutboundConcurrency(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key_patch = dict(config.options)
        config.options["campotech_whatsapp_key"] = KEY
        cls.addClassCleanup(config.options.update, {"campotech_whatsapp_key":
                                                    cls.key_patch.get("campotech_whatsapp_key")})
        cls.simulator = Simulator(access_token=TOKEN, app_secret="concurrency-secret",
                                  phone_number_id="1009", waba_id="2009",
                                  status_delays={"sent": None, "delivered": None, "read": None})
        cls.simulator.start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.reset()
        for number in (FIRST, SECOND):
            self.simulator.store.open_window(number)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].create({"name": "CampoTech Concurrencia %s" % time.time()})
            account = env["wa.account"].create({
                "name": "Concurrencia", "company_id": company.id, "phone_number_id": "1009",
                "waba_id": "2009", "graph_url": self.simulator.graph_url, "access_token": TOKEN,
                "throughput_mps": 1000})
            conversations = env["wa.conversation"]
            for number in (FIRST, SECOND):
                conversations |= env["wa.conversation"].create({
                    "account_id": account.id, "wa_id": number, "customer_phone": "+" + number,
                    "last_inbound_at": fields.Datetime.now()})
            cr.commit()  # pylint: disable=invalid-commit
            self.company_id, self.account_id = company.id, account.id
            self.conversation_ids = conversations.ids
        self.addCleanup(self._remove_committed)

    def _remove_committed(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["wa.account"].browse(self.account_id)
            env["wa.media.upload"].search([("account_id", "=", account.id)]).unlink()
            cr.execute("DELETE FROM wa_pacing WHERE key LIKE %s OR key LIKE %s",
                       ["%:1009", "pair:1009:%"])
            account.unlink()
            env["res.company"].browse(self.company_id).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def send(self, texts):
        """Queue texts (conversation index, text) in one committed transaction."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            conversations = env["wa.conversation"].browse(self.conversation_ids)
            ids = [conversations[index].send_text(text) for index, text in texts]
            cr.commit()  # pylint: disable=invalid-commit
        return ids

    def items(self, cr, message_ids):
        env = api.Environment(cr, SUPERUSER_ID, {})
        return env["wa.outbound.queue"].search([("message_id", "in", message_ids)], order="id")

    def test_two_cursors_never_claim_the_same_item(self):
        message_ids = self.send([(0, "uno"), (0, "dos"), (1, "tres")])
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2, \
                self.registry.cursor() as cr3, self.registry.cursor() as cr4:
            queues = [api.Environment(cr, SUPERUSER_ID, {})["wa.outbound.queue"]
                      for cr in (cr1, cr2, cr3, cr4)]
            claimed = [queue._claim_next() for queue in queues]
            self.assertIsNone(claimed[3], "every due item is locked by another cursor")
            ids = [item.id for item in claimed[:3]]
            self.assertEqual(len(set(ids)), 3, "no item claimed twice")
            expected = self.items(cr4, message_ids).ids
            self.assertEqual(ids, expected, "priority then age order")
            cr1.rollback()  # the first worker gives up: its item is free again
            self.assertEqual(queues[3]._claim_next().id, expected[0])

    def test_a_claimed_batch_stays_with_its_worker_until_its_backend_is_gone(self):
        message_ids = self.send([(0, "uno"), (1, "dos")])
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = api.Environment(cr1, SUPERUSER_ID, {})["wa.outbound.queue"]
            second = api.Environment(cr2, SUPERUSER_ID, {})["wa.outbound.queue"]
            claimed = first._claim_batch(10)
            cr1.commit()  # pylint: disable=invalid-commit
            self.assertEqual([row["id"] for row in claimed], self.items(cr2, message_ids).ids)
            self.assertEqual(set(self.items(cr2, message_ids).mapped("state")), {"pending"},
                             "claimed items stay pending until their own attempt")
            self.assertFalse(second._claim_batch(10), "the first worker's backend is alive")
            self.assertIsNone(second._claim_next())
            # That backend gone (its pid now no backend's), the items are due again at once.
            cr1.execute("UPDATE wa_outbound_queue SET claimed_pid = 2147483647 WHERE id IN %s",
                        [tuple(row["id"] for row in claimed)])
            cr1.commit()  # pylint: disable=invalid-commit
            cr2.rollback()  # a fresh snapshot for the second worker
            self.assertEqual(len(second._claim_batch(10)), 2)
            cr2.rollback()

    def test_two_processes_draining_one_queue_send_each_item_once(self):
        message_ids = self.send([(i % 2, "mensaje %s" % i) for i in range(10)])  # within the pair burst
        workers = [self._worker() for _ in range(2)]
        for worker in workers:
            output, _ = worker.communicate(timeout=180)
            self.assertEqual(worker.returncode, 0, output[-3000:])
        with self.registry.cursor() as cr:
            items = self.items(cr, message_ids)
            self.assertEqual(set(items.mapped("state")), {"done"})
        bodies = [m["body"]["text"]["body"] for m in self.simulator.state()["messages"]]
        self.assertEqual(sorted(bodies), sorted("mensaje %s" % i for i in range(10)))

    def test_a_worker_killed_mid_batch_loses_nothing_and_resends_one_at_most(self):
        # The third send hangs at "Meta" until the worker is killed.
        message_ids = self.send([(0, "uno"), (0, "dos"), (1, "tres"), (0, "cuatro")])
        self.simulator.fault({"delay": 6, "match": {"to": SECOND}})
        worker = self._worker()
        try:
            def third_in_flight():
                with self.registry.cursor() as cr:
                    return self.items(cr, message_ids).mapped("state") == [
                        "done", "done", "processing", "pending"]
            self.assertTrue(self.wait_for(third_in_flight, timeout=120),
                            "the worker reached the third item")
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        self.assertEqual(worker.returncode, -signal.SIGKILL)
        with self.registry.cursor() as cr:
            items = self.items(cr, message_ids)
            self.assertEqual(items.mapped("state"), ["done", "done", "processing", "pending"],
                             "what was committed before the kill stays")
            # After the lease, a restarted worker takes the in-flight item again.
            items[2].processing_since = fields.Datetime.now() - timedelta(hours=1)
            cr.commit()  # pylint: disable=invalid-commit
        self.simulator.wait_idle(1)
        worker = self._worker()
        output, _ = worker.communicate(timeout=180)
        self.assertEqual(worker.returncode, 0, output[-3000:])
        with self.registry.cursor() as cr:
            items = self.items(cr, message_ids)
            self.assertEqual(items.mapped("state"), ["done"] * 4)
            self.assertEqual(items.mapped("attempts"), [1, 1, 2, 1])
        time.sleep(6)  # let the hung request of the killed worker finish at "Meta"
        bodies = [m["body"]["text"]["body"] for m in self.simulator.state()["messages"]]
        self.assertEqual([b for b in bodies if b != "tres"], ["uno", "dos", "cuatro"],
                         "nothing but the in-flight item is ever sent twice")
        self.assertIn(bodies.count("tres"), (1, 2), "the in-flight item: once, at most twice")

    def _worker(self):
        """A real Odoo process running the queue cron code on this database."""
        odoo_bin = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
        command = [sys.executable, odoo_bin, "shell", "--no-http", "--log-level=warn",
                   "-d", self.env.cr.dbname, "--addons-path", config["addons_path"]]
        if config.rcfile and os.path.exists(config.rcfile):
            command[3:3] = ["-c", config.rcfile]
        with tempfile.TemporaryFile("w+") as script:
            script.write(WORKER_SCRIPT % {"key": KEY})
            script.seek(0)
            return subprocess.Popen(command, stdin=script, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)

    wait_for = staticmethod(wait_for)
