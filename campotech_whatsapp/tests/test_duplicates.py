"""Meta delivers at least once and in any order: duplicates and shuffles change nothing.

test_webhook_controller.py covers a webhook delivered three times and one
out-of-order status sequence; here the same webhook ten times, before and
after it was processed, and every order of a message's statuses.

The same brand-new customer writing from 8 concurrent requests cannot be
tested here: an HttpCase runs the server inside the test's one transaction,
so requests are serialised and nothing is committed. That case runs against
a real server in ``python -m bench --only odoo_inbound`` (its ``burst`` line
counts partners and conversations of one new customer after 8 concurrent
webhooks, and serialization failures in the server log).
"""

import itertools
import random

from odoo.tests import HttpCase, tagged

from ..cloud import webhook
from .common import SECRET_A, WhatsAppMixin

URL = "/whatsapp/webhook"


@tagged("post_install", "-at_install")
class TestDuplicates(WhatsAppMixin, HttpCase):

    def post(self, raw):
        response = self.url_open(URL, data=raw, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": webhook.sign(raw, SECRET_A)})
        self.assertEqual(response.status_code, 200)

    def process(self):
        self.env["wa.webhook.log"]._cron_process()

    def test_the_same_webhook_ten_times_is_one_message(self):
        raw = self.encode(self.inbound_payload(
            self.account_a, {"type": "text", "text": "Hola, ¿vienen hoy?", "from": "5491133334444"}))
        for _ in range(5):
            self.post(raw)
        self.process()
        for _ in range(5):  # redelivered after it was processed, too
            self.post(raw)
        self.process()
        logs = self.env["wa.webhook.log"].search([])
        self.assertEqual(len(logs), 10)
        self.assertEqual(set(logs.mapped("state")), {"done"})
        messages = self.env["wa.message"].search([("company_id", "=", self.company_a.id)])
        self.assertEqual(len(messages), 1)
        conversation = self.conversations(self.account_a)
        self.assertEqual(len(conversation), 1)
        self.assertEqual(conversation.unread_count, 1)
        self.assertEqual(self.env["res.partner"].search_count([("wa_id", "=", "5491133334444")]), 1)

    def test_every_order_of_the_statuses_ends_in_the_furthest_one(self):
        sequences = list(itertools.permutations(("sent", "delivered", "read")))
        # Duplicated statuses shuffled in, as Meta's retries deliver them.
        shuffler = random.Random(10)
        for _ in range(4):
            statuses = ["sent", "sent", "delivered", "delivered", "read", "read"]
            shuffler.shuffle(statuses)
            sequences.append(tuple(statuses))
        for n, sequence in enumerate(sequences):
            wamid = "wamid.SHUF%02d" % n
            message = self.outbound(self.account_a, wamid, state="sent", to="54911555%05d" % n)
            with self.subTest(sequence=sequence):
                for step, status in enumerate(sequence):
                    raw = self.encode(self.status_payload(self.account_a, wamid, status,
                                                          timestamp=1_800_000_000 + step))
                    self.post(raw)
                self.process()
                self.assertEqual(message.state, "read")

    def test_shuffled_statuses_in_one_payload_end_in_the_furthest_one(self):
        message = self.outbound(self.account_a, "wamid.ONEPAYLOAD", state="sent")
        payload = self.status_payload(self.account_a, "wamid.ONEPAYLOAD", "read")
        statuses = payload["entry"][0]["changes"][0]["value"]["statuses"]
        read = statuses[0]
        for status in ("delivered", "sent", "delivered"):
            statuses.append(dict(read, status=status))
        self.post(self.encode(payload))
        self.process()
        self.assertEqual(message.state, "read")

    def test_a_failure_in_any_order_is_kept_over_later_deliveries(self):
        for n, sequence in enumerate(itertools.permutations(("sent", "delivered", "failed"))):
            wamid = "wamid.FAILORDER%d" % n
            message = self.outbound(self.account_a, wamid, state="sent", to="54911666%05d" % n)
            with self.subTest(sequence=sequence):
                for status in sequence:
                    self.post(self.encode(self.status_payload(self.account_a, wamid, status)))
                self.process()
                self.assertEqual(message.state, "failed")
                self.assertTrue(message.error_code)
