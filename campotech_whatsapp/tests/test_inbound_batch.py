"""Many webhook logs processed in one transaction give what one-by-one gives.

The cron processes its logs in batches (wa.webhook.log.PROCESS_BATCH per
transaction, their messages stored with one query per kind: see
wa.conversation.InboundBatch). Here one scenario, with everything that
depends on the order of the messages (a new customer writing several times,
a STOP in the middle, a reply quoting a message of the same batch, an older
message arriving late, a redelivery, statuses, one of them for an unknown
message), is processed as one batch in company A and log by log in company B,
and the two outcomes are compared, beside direct checks of the batch's.
"""

from datetime import datetime, timezone
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from ..cloud import webhook
from ..tools import cron_batch
from .common import SECRET_A, SECRET_B, WhatsAppCase

NEW = "5491133330001"       # writes for the first time in the batch
KNOWN = "5491155556666"     # a partner typed as 011 15 5555-6666
NOW = datetime(2026, 12, 1, 12, 0, 0)


@tagged("post_install", "-at_install")
class TestInboundBatch(WhatsAppCase):

    def scenario(self, account, secret, tag, now):
        """The logs of the scenario, stored and not processed."""
        juana = self.env["res.partner"].create({
            "name": "Juana %s" % tag, "mobile": "011 15 5555-6666",
            "country_id": self.env.ref("base.ar").id, "company_id": account.company_id.id})
        ours = self.outbound(account, "wamid.%s.OURS" % tag, to=KNOWN)
        ours.conversation_id.partner_id = juana

        def text(n, sender, body, at, **spec):
            spec.update({"from": sender, "type": "text", "text": body, "name": "Cliente Nuevo"})
            return self.inbound_payload(account, spec, "wamid.%s.%d" % (tag, n), at)

        payloads = [
            text(1, NEW, "Hola", now),
            text(2, KNOWN, "Primero", now + 10),
            text(3, NEW, "¿Vienen hoy?", now + 20),
            text(4, KNOWN, "Viejo", now - 100),  # older: not the preview
            text(5, NEW, "BAJA", now + 30),
            text(6, NEW, "Sigo acá", now + 40, reply_to="wamid.%s.1" % tag),
            text(1, NEW, "Hola", now),  # Meta delivers it again
            self.inbound_payload(account, {"from": KNOWN, "type": "reaction",
                                           "message_id": ours.wamid}, "wamid.%s.7" % tag, now + 50),
            self.status_payload(account, ours.wamid, "delivered"),
            self.status_payload(account, "wamid.%s.NEVER" % tag, "read"),
        ]
        logs = self.env["wa.webhook.log"]
        for payload in payloads:
            raw = self.encode(payload)
            receipt = logs.sudo()._receive(raw, webhook.sign(raw, secret))
            self.assertEqual(receipt.outcome, webhook.Outcome.STORED)
            logs |= receipt.log
        return logs, ours

    def outcome(self, account, logs, tag):
        """What the scenario left, with the company's tag taken out of the wamids."""
        self.env.flush_all()
        self.env.invalidate_all()
        conversations = self.conversations(account).sorted("customer_key")
        return {
            "logs": [(log.state, log.attempts, bool(log.next_attempt_at),
                      (log.error_message or "").replace(tag, "")) for log in logs],
            "conversations": [(
                c.customer_key, c.customer_name, (c.partner_id.name or "").replace(tag, ""),
                c.partner_id.wa_opt_out, c.status, c.unread_count,
                c.last_message_preview, c.last_message_at, c.last_inbound_at, c.window_expires_at,
                [(m.direction, m.message_type, m.body, m.state, (m.wamid or "").replace(tag, ""),
                  (m.reply_to_id.wamid or "").replace(tag, ""))
                 for m in c.message_ids.sorted("id")],
            ) for c in conversations],
            "partners": self.env["res.partner"].search_count([
                ("wa_id", "in", (NEW, KNOWN)), ("company_id", "=", account.company_id.id)]),
            "consent": [(entry.action, entry.body) for entry in self.env["wa.consent"].search(
                [("company_id", "=", account.company_id.id)], order="id")],
        }

    def test_a_batch_of_logs_gives_what_one_by_one_gives(self):
        # One clock for both runs: the STOP's answer stamps the conversation with the time it is queued.
        self.startPatcher(patch.object(fields.Datetime, "now", lambda *a, **k: NOW))
        now = int(NOW.replace(tzinfo=timezone.utc).timestamp()) - 600
        batch_logs, ours = self.scenario(self.account_a, SECRET_A, "A", now)
        self.env["wa.webhook.log"]._cron_process()
        single_logs, _ours = self.scenario(self.account_b, SECRET_B, "B", now)
        for log in single_logs:
            log._process_safely()
        batch = self.outcome(self.account_a, batch_logs, "A")
        self.assertEqual(batch, self.outcome(self.account_b, single_logs, "B"))

        self.assertEqual(batch["partners"], 2, "one partner per customer")
        self.assertEqual(ours.state, "delivered")
        new, known = (self.conversations(self.account_a).filtered(lambda c: c.wa_id == wa_id)
                      for wa_id in (NEW, KNOWN))
        self.assertEqual(len(new), 1)
        self.assertTrue(new.partner_id.wa_opt_out, "the STOP in the middle of the batch")
        inbound = new.message_ids.filtered(lambda m: m.direction == "inbound").sorted("id")
        self.assertEqual(inbound.mapped("body"), ["Hola", "¿Vienen hoy?", "BAJA", "Sigo acá"])
        self.assertEqual(inbound[-1].reply_to_id, inbound[0], "a reply to a message of the same batch")
        self.assertEqual(new.unread_count, 4)
        self.assertTrue(new.message_ids.filtered(lambda m: m.direction == "outbound"),
                        "the STOP is confirmed")
        self.assertEqual(known, ours.conversation_id)
        self.assertEqual(known.last_message_preview, "👍", "the latest message, a reaction")
        self.assertEqual(known.unread_count, 2, "the reaction is not one to answer")
        self.assertEqual(batch["logs"][-1][:3], ("error", 1, True),
                         "a status for an unknown message is tried again later")
        self.assertEqual({state for state, *_rest in batch["logs"][:-1]}, {"done"})

    def test_an_unreadable_log_in_a_batch_fails_alone(self):
        good = self.inbound_payload(self.account_a, {"type": "text", "text": "Hola"})
        logs = self.env["wa.webhook.log"]
        for raw in (self.encode(good), b'{"object":"whatsapp_business_account","entry":[{"id":'):
            logs |= logs.sudo()._receive(raw, webhook.sign(raw, SECRET_A)).log
        logs._process_safely()
        self.assertEqual(logs.mapped("state"), ["done", "error"])
        self.assertEqual(self.conversations(self.account_a).message_ids.mapped("body"), ["Hola"])

    def test_a_pass_starts_no_batch_once_its_time_is_spent(self):
        logs = self.env["wa.webhook.log"]
        for n in range(3):
            raw = self.encode(self.inbound_payload(self.account_a, {"type": "text", "text": "n%d" % n}))
            logs |= logs.sudo()._receive(raw, webhook.sign(raw, SECRET_A)).log
        # Odoo kills a cron worker past its time limit: a pass stops in time, the rest waits.
        done = cron_batch(self.env, lambda: logs, lambda log: log._process_safely(),
                          lambda: 2, budget_s=1e-9)
        self.assertEqual(done, logs[:1])
        self.assertEqual(logs.mapped("state"), ["done", "pending", "pending"])
