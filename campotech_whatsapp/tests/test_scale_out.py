"""Two Odoo servers on one database: one processor of the stored logs and
one queue, whichever server runs them, and nothing done twice.

Each server is a real ``odoo-bin`` with its own HTTP port and cron threads,
as a company running several servers behind a load balancer has (README,
"Running several servers"). The figures it logs (acks per second, messages
processed per second, one server then two) are measurements, never asserted.
"""

import logging
import os
import re
import threading
import time

from odoo.tests import tagged

from .processes_common import ProcessCase, post, run_threads

_logger = logging.getLogger(__name__)

CLIENTS = 8
CUSTOMERS = 40
# Messages per customer and round: 3 in CI; more to measure (README).
PER_CUSTOMER = int(os.environ.get("CAMPOTECH_SCALE_OUT_PER_CUSTOMER") or 3)


@tagged("post_install", "-at_install")
class TestScaleOut(ProcessCase):

    def post_all(self, servers, webhooks):
        """POST each webhook (8 client threads, servers in turn); statuses and acks per second."""
        statuses = [None] * len(webhooks)
        lock = threading.Lock()
        cursor = iter(range(len(webhooks)))

        def client(_index):
            while True:
                with lock:
                    position = next(cursor, None)
                if position is None:
                    return
                server = servers[position % len(servers)]
                statuses[position] = post(server.url("/whatsapp/webhook"), webhooks[position])
        started = time.monotonic()
        run_threads(CLIENTS, client)
        return statuses, len(webhooks) / (time.monotonic() - started), started

    def wait_processed(self, count, started, new):
        """Until ``count`` logs of the account are done; ``new`` logs per second since ``started``."""
        def done():
            return self.sql("SELECT count(*) FROM wa_webhook_log WHERE account_id = %s AND processed",
                            [self.account_id])[0][0] >= count
        self.assertTrue(self.wait_for(done, timeout=300, step=0.2), self.log_states())
        return new / (time.monotonic() - started)

    def webhooks(self, round_, per_customer):
        raws, wamids = [], []
        for n in range(per_customer):
            for c in range(CUSTOMERS):
                raw, wamid = self.inbound("54911777%05d" % c, "ronda %s mensaje %s" % (round_, n))
                raws.append(raw)
                wamids.append(wamid)
        return raws, wamids

    def test_two_servers_share_the_logs_and_the_queue_and_do_nothing_twice(self):
        figures = {}
        first = self.server(cron_threads=2)
        # One server.
        raws, wamids = self.webhooks(1, PER_CUSTOMER)
        statuses, figures["one server: acks/s"], started = self.post_all([first], raws)
        self.assertEqual(set(statuses), {200})
        figures["one server: messages processed/s"] = self.wait_processed(len(raws), started, len(raws))

        # Two servers: new webhooks, some of the first ones again (Meta's
        # redeliveries) to either server, and a queue to drain.
        second = self.server(cron_threads=2)
        numbers = ["54911888%05d" % i for i in range(10)]
        conversations = self.create_conversations(numbers)
        texts = [(conversations[c], "aviso %s-%s" % (c, n)) for n in range(3) for c in range(10)]
        new_raws, new_wamids = self.webhooks(2, PER_CUSTOMER)
        redelivered = raws[:40]
        both = [second, first]
        statuses, figures["two servers: acks/s"], started = self.post_all(
            both, new_raws + redelivered)
        self.assertEqual(set(statuses), {200})
        self.send(texts)  # the queue cron is woken on both servers
        total = len(raws) + len(new_raws) + len(redelivered)
        figures["two servers: messages processed/s"] = self.wait_processed(total, started, total - len(raws))

        def queue_done():
            return self.sql("""SELECT count(*) FROM wa_outbound_queue
                                WHERE account_id = %s AND state != 'done'""", [self.account_id]
                            ) == [(0,)]
        self.assertTrue(self.wait_for(queue_done, timeout=300, step=0.5), self.sql(
            "SELECT state, attempts, error_message FROM wa_outbound_queue WHERE account_id = %s",
            [self.account_id]))
        for server in (first, second):
            self.assertIsNone(server.proc.poll(), "both servers kept running")

        self.assertEqual(set(self.log_states()), {"done"})
        stored = self.stored_wamids()
        self.assertEqual(len(stored), len(set(stored)), "no message stored twice")
        self.assertEqual(set(stored), set(wamids + new_wamids), "every message stored")
        self.assertEqual(self.sql("""SELECT count(*), count(DISTINCT customer_key) FROM wa_conversation
                                      WHERE account_id = %s""", [self.account_id])[0],
                         (CUSTOMERS + 10, CUSTOMERS + 10), "one conversation per customer")
        attempts = self.sql("SELECT attempts FROM wa_outbound_queue WHERE account_id = %s",
                            [self.account_id])
        self.assertEqual([row[0] for row in attempts], [1] * len(texts), "each item sent once")
        bodies = [m["body"]["text"]["body"] for m in self.simulator.state()["messages"]]
        self.assertEqual(sorted(bodies), sorted(text for _c, text in texts),
                         "Meta received each queued message exactly once")
        for name, server in (("first", first), ("second", second)):
            batches = server.cron_batches()
            figures["%s server: webhook batches" % name] = sum("webhook" in b.lower() for b in batches)
            figures["%s server: queue batches" % name] = sum("queue" in b.lower() for b in batches)
            figures["%s server: logs processed" % name] = sum(
                int(m.group(1)) for b in batches if "webhook" in b.lower()
                for m in [re.search(r"processed (\d+) records", b)] if m)
        _logger.info("scale-out figures (%d client threads, measured, not asserted): %s", CLIENTS,
                     ", ".join("%s %.1f" % item for item in figures.items()))
