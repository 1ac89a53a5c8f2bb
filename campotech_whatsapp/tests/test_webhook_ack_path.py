"""The fast acknowledgement path: the per-worker account cache and one wake-up per burst.

The controller answers Meta from a cache of the accounts' routing values
(wa.account._webhook_routes) and wakes the processing cron only when no
wake-up it has yet to consume is pending (wa.webhook.log._wake_processor).
Both must follow every change that matters, or a webhook is refused that
should be kept, or a stored log waits for the cron's next interval.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..cloud import webhook
from .common import SECRET_A, WhatsAppMixin

URL = "/whatsapp/webhook"
CRON = "campotech_whatsapp.ir_cron_wa_webhook_process"


@tagged("post_install", "-at_install")
class TestWebhookAckPath(WhatsAppMixin, HttpCase):

    def post(self, secret, account=None, raw=None):
        raw = raw or self.encode(self.inbound_payload(account or self.account_a,
                                                      {"type": "text", "text": "Hola"}))
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": webhook.sign(raw, secret)}
        return self.url_open(URL, data=raw, headers=headers).status_code

    def triggers(self):
        return self.env["ir.cron.trigger"].search_count(
            [("cron_id", "=", self.env.ref(CRON).id)])

    def test_the_account_cache_follows_every_change_that_routes_a_webhook(self):
        self.assertEqual(self.post(SECRET_A), 200)  # fills the cache
        self.account_a.app_secret = "a-rotated-secret"
        self.assertEqual(self.post(SECRET_A), 403, "the old secret no longer verifies")
        self.assertEqual(self.post("a-rotated-secret"), 200)
        self.account_a.phone_number_id = "1009"
        self.assertEqual(self.post("a-rotated-secret"), 200)
        latest = self.env["wa.webhook.log"].search([], order="id desc", limit=1)
        self.assertEqual(latest.account_id, self.account_a)
        self.assertFalse(latest.error_message, "the account's new number is known at once")
        self.account_a.active = False
        self.assertEqual(self.post("a-rotated-secret"), 403, "an archived account signs nothing")
        company_c = self.env["res.company"].create({"name": "CampoTech Rosario"})
        account_c = self.env["wa.account"].create({
            "name": "Rosario", "company_id": company_c.id, "phone_number_id": "1003",
            "waba_id": "2003", "graph_url": self.simulator.graph_url,
            "access_token": "EAAG-token-c", "app_secret": "secret-c"})
        raw_c = self.encode(self.inbound_payload(account_c, {"type": "text", "text": "Hola"}))
        self.assertEqual(self.post("secret-c", raw=raw_c), 200, "a new account is known at once")
        self.env["wa.webhook.log"].search([("account_id", "=", account_c.id)]).unlink()
        account_c.unlink()
        self.assertEqual(self.post("secret-c", raw=raw_c), 403)

    def test_a_burst_leaves_one_pending_wake_up_and_a_cron_run_needs_a_new_one(self):
        before = self.triggers()
        for _ in range(4):
            self.assertEqual(self.post(SECRET_A), 200)
        self.assertEqual(self.triggers(), before + 1, "one wake-up serves the burst")
        # A run starting now deletes, when it ends, the triggers older than its
        # start: the next webhook must leave one of its own.
        self.env["ir.cron.progress"].create({"cron_id": self.env.ref(CRON).id})
        self.env.flush_all()
        self.env.cr.execute("UPDATE ir_cron_progress SET create_date = %s WHERE cron_id = %s",
                            [fields.Datetime.now() + timedelta(seconds=1), self.env.ref(CRON).id])
        self.assertEqual(self.post(SECRET_A), 200)
        self.assertEqual(self.triggers(), before + 2)
        self.env["wa.webhook.log"]._cron_process()
        self.assertEqual(self.env["wa.message"].search_count([]), 5, "every log was processed")

    def test_the_ack_path_runs_few_queries(self):
        raw = self.encode(self.inbound_payload(self.account_a, {"type": "text", "text": "Hola"}))
        log_model = self.env["wa.webhook.log"].sudo()
        log_model._receive(raw, webhook.sign(raw, SECRET_A))  # warm caches, a trigger pending
        self.env.flush_all()
        # The log's INSERT and the conditional trigger INSERT (the transaction's
        # now() for create_date is already known here; a request adds that one).
        with self.assertQueryCount(2):
            receipt = log_model._receive(raw, webhook.sign(raw, SECRET_A))
            self.env.flush_all()
        self.assertEqual(receipt.log.state, "pending")

    def test_a_wake_up_no_cron_took_rings_again_once_in_a_while(self):
        from ..models import wa_webhook_log
        cron = self.env.ref(CRON)
        log_model = self.env["wa.webhook.log"]

        def rings():
            return sum(1 for func in self.env.cr.postcommit._funcs
                       if getattr(func, "__name__", "") == "_notifydb")

        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        self.env["ir.cron.progress"].search([("cron_id", "=", cron.id)]).unlink()
        self.env.flush_all()
        wa_webhook_log._LAST_RING.clear()
        base = rings()
        log_model._wake_processor()
        self.assertEqual(rings(), base + 1, "a new wake-up rings the cron workers")
        log_model._wake_processor()
        self.assertEqual(rings(), base + 1, "a fresh pending wake-up serves the burst")
        # No cron worker took it for a minute (written before a restart, say).
        self.env.cr.execute("UPDATE ir_cron_trigger SET call_at = call_at - interval '60 seconds'"
                            " WHERE cron_id = %s", [cron.id])
        log_model._wake_processor()
        self.assertEqual(rings(), base + 2, "a stale wake-up rings again")
        log_model._wake_processor()
        self.assertEqual(rings(), base + 2, "at most once per interval and process")
        self.assertEqual(self.triggers(), 1, "ringing again adds no trigger row")
