import base64
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import TOKEN_A
from .outbound_common import CUSTOMER, OutboundMixin

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@tagged("post_install", "-at_install")
class TestOutboundQueue(OutboundMixin, TransactionCase):

    def setUp(self):
        super().setUp()
        self.conversation = self.customer_writes()

    def attachment(self, raw=PNG, name="caldera.png", mimetype="image/png"):
        return self.env["ir.attachment"].create({"name": name, "raw": raw, "mimetype": mimetype})

    # --- the 24 h window -------------------------------------------------------

    def test_outside_the_window_a_message_is_held_then_released_in_order(self):
        old = time.time() - 25 * 3600
        conversation = self.customer_writes("5491177778888", timestamp=old)
        self.simulator.reset()  # Meta's window for this customer closed long ago
        first = self.env["wa.message"].browse(conversation.send_text("Primero"))
        second = self.env["wa.message"].browse(conversation.send_text("Segundo"))
        items = first.queue_item_ids | second.queue_item_ids
        self.assertEqual(items.mapped("state"), ["held", "held"])
        self.assertIn("24 h window is closed", first.error_message)
        self.drain()
        self.assertFalse(self.sent(), "a held message never reaches Meta")
        self.customer_writes("5491177778888", text="Acá estoy")
        self.assertEqual(items.mapped("state"), ["pending", "pending"])
        self.assertFalse(first.error_message)
        self.drain()
        self.assertEqual([m["body"]["text"]["body"] for m in self.sent()], ["Primero", "Segundo"])
        self.assertEqual(items.mapped("state"), ["done", "done"])

    def test_meta_saying_the_window_is_closed_holds_the_item(self):
        self.simulator.reset()  # Odoo believes the window open; Meta does not
        message = self.env["wa.message"].browse(self.conversation.send_text("Hola"))
        self.drain()
        item = message.queue_item_ids
        self.assertEqual((item.state, item.error_code, item.failure_type),
                         ("held", 131047, "window_closed"))
        self.assertEqual(message.state, "pending")
        item.action_release()
        self.simulator.store.open_window(CUSTOMER)
        self.drain()
        self.assertEqual(item.state, "done")

    def test_reopen_template_setting_is_offered(self):
        with self.assertRaisesRegex(UserError, "reopen template"):
            self.conversation.action_send_reopen_template()

    # --- Meta's errors ---------------------------------------------------------

    def test_retryable_errors_are_rescheduled_and_sent_once(self):
        faults = ({"code": 130429}, {"code": 131000}, {"http_status": 503},
                  {"code": 131056}, {"drop": True}, {"code": 80007}, {"code": 4})
        for index, fault in enumerate(faults):
            # One customer per case: the pair rate is not what is tested here.
            conversation = self.customer_writes("54911700000%02d" % index)
            self.simulator.reset()
            self.simulator.store.open_window(conversation.wa_id)
            self.simulator.fault(dict(fault, count=1))
            message = self.env["wa.message"].browse(conversation.send_text("Hola %s" % fault))
            item = message.queue_item_ids
            self.drain()
            self.assertEqual((item.state, item.attempts), ("pending", 1), fault)
            self.assertGreater(item.scheduled_at, fields.Datetime.now(), fault)
            self.assertFalse(self.sent(), fault)
            self.make_due(item)
            self.drain()
            self.assertEqual(item.state, "done", fault)
            self.assertEqual(len(self.sent()), 1, "sent exactly once: %s" % fault)
            self.assertEqual(message.state, "sent")

    def test_a_retried_message_holds_back_its_customers_later_ones_in_the_same_batch(self):
        # Meta fails the first send only: were the batch to go on with the same
        # customer's next messages, they would arrive before the first one.
        self.simulator.fault({"http_status": 503, "count": 1})
        items = self.env["wa.outbound.queue"]
        for n in range(3):
            items |= self.env["wa.message"].browse(
                self.conversation.send_text("mensaje %s" % n)).queue_item_ids
        self.drain()
        self.assertEqual(items.mapped("state"), ["pending"] * 3)
        self.assertFalse(self.sent(), "nothing goes while the customer's first message waits")
        # The pair rate spent its burst on the first batch: not what is tested here.
        self.env.cr.execute("DELETE FROM wa_pacing WHERE key LIKE 'pair:%%'")
        self.make_due(items)
        self.drain()
        self.assertEqual(items.mapped("state"), ["done"] * 3)
        self.assertEqual([m["body"]["text"]["body"] for m in self.sent()],
                         ["mensaje 0", "mensaje 1", "mensaje 2"])

    def test_retry_after_is_honoured(self):
        self.simulator.fault({"http_status": 429, "code": 130429, "retry_after": 900})
        item = self.env["wa.message"].browse(self.conversation.send_text("Hola")).queue_item_ids
        self.drain()
        self.assertGreaterEqual(item.scheduled_at,
                                fields.Datetime.now() + timedelta(seconds=890))

    def test_permanent_error_fails_item_and_message_with_meta_reason(self):
        self.simulator.fault({"code": 131026, "details": "Receiver is incapable"})
        message = self.env["wa.message"].browse(self.conversation.send_text("Hola"))
        item = message.queue_item_ids
        self.drain()
        self.assertEqual((item.state, item.failure_type, item.error_code),
                         ("failed", "undeliverable", 131026))
        self.assertEqual((message.state, message.error_code), ("failed", 131026))
        self.assertIn("Receiver is incapable", message.error_message)
        self.make_due(item)
        self.drain()
        self.assertEqual(item.attempts, 1, "a permanent error is not retried")
        self.assertFalse(self.sent())
        # A person retries it (the message form's Retry button).
        message.action_retry_send()
        self.assertEqual((item.state, message.state), ("pending", "pending"))
        self.drain()
        self.assertEqual((item.state, message.state), ("done", "sent"))
        self.assertEqual(len(self.sent()), 1)

    def test_failed_filter_and_failure_types(self):
        self.simulator.fault({"code": 132001, "count": 1})
        item = self.env["wa.message"].browse(self.conversation.send_text("Hola")).queue_item_ids
        self.drain()
        self.assertEqual(item.failure_type, "template")
        failed = self.env["wa.outbound.queue"].search([("state", "=", "failed")])
        self.assertEqual(failed, item)

    def test_expired_token_pauses_the_queue_and_a_new_token_resumes_it(self):
        manager = self.env["res.users"].create({
            "name": "Gerente", "login": "gerente-wa", "company_id": self.company_a.id,
            "company_ids": [(6, 0, self.company_a.ids)],
            "groups_id": [(4, self.env.ref("campotech_whatsapp.group_wa_manager").id)]})
        self.simulator.fault({"code": 190, "count": 1})
        message = self.env["wa.message"].browse(self.conversation.send_text("Hola"))
        other = self.env["wa.message"].browse(self.conversation.send_text("Chau"))
        self.drain()
        item = message.queue_item_ids
        self.assertTrue(self.account_a.queue_paused)
        self.assertIn("190", self.account_a.queue_paused_reason)
        self.assertEqual(item.state, "pending", "the message waits for the token")
        self.assertEqual(other.queue_item_ids.state, "pending")
        activities = self.account_a.activity_ids
        self.assertIn(manager, activities.user_id)
        self.assertIn("paused", activities[0].summary)
        self.drain()
        self.assertFalse(self.sent(), "nothing is sent while paused")
        self.account_a.access_token = TOKEN_A  # a manager saves a (new) token
        self.assertFalse(self.account_a.queue_paused)
        self.drain()
        self.assertEqual([m["body"]["text"]["body"] for m in self.sent()], ["Hola", "Chau"])
        self.assertFalse(self.account_a.activity_ids, "the warning is done")

    def test_daily_token_check_warns_before_a_send_fails(self):
        self.simulator.fault({"code": 190, "count": 1, "match": {"method": "GET"}})
        self.env["wa.account"]._cron_check_tokens()
        self.assertTrue(self.account_a.queue_paused)
        self.assertTrue(self.account_a.activity_ids)
        result = self.account_a.action_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertFalse(self.account_a.queue_paused, "a working Test Connection resumes")
        self.account_a.token_expires_on = fields.Date.today() + timedelta(days=3)
        self.env["wa.account"]._cron_check_tokens()
        self.assertIn("expires soon", " ".join(self.account_a.activity_ids.mapped("summary")))
        self.assertTrue(self.account_a.token_checked_at)

    # --- pacing ------------------------------------------------------------------

    def test_a_low_cap_paces_the_sends(self):
        self.account_a.throughput_mps = 4
        self.simulator.configure(mps=4)
        self.addCleanup(self.simulator.configure, mps=80)
        customers = ["54911600000%02d" % i for i in range(8)]
        for number in customers:
            self.customer_writes(number).send_text("Turno confirmado")
        started = time.monotonic()
        self.drain()
        elapsed = time.monotonic() - started
        sent = self.sent()
        self.assertEqual(len(sent), 8, "no 130429: every send accepted at the first try")
        self.assertFalse(self.queue_items().filtered("error_code"))
        self.assertGreaterEqual(elapsed, 7 / 4 - 0.1, "4 per second at most")
        gaps = [b["at"] - a["at"] for a, b in zip(sent, sent[1:])]
        self.assertGreaterEqual(min(gaps), 0.2)

    def test_one_customer_is_spaced_while_the_others_flow(self):
        other = self.customer_writes("5491199990000")
        for i in range(7):
            self.conversation.send_text("Foto %s" % i)
        other.send_text("Para el otro cliente")
        self.drain()
        to_first = [m for m in self.sent() if m["to"] == CUSTOMER]
        self.assertEqual(len(to_first), 5, "the pair burst, then the pair rate")
        self.assertIn("5491199990000", [m["to"] for m in self.sent()],
                      "another customer's message is not stuck behind them")
        waiting = self.queue_items(self.conversation).filtered(lambda i: i.state == "pending")
        self.assertEqual(len(waiting), 2)
        self.assertTrue(all(i.scheduled_at > fields.Datetime.now() for i in waiting))
        self.assertFalse(waiting.filtered("attempts"), "rescheduled, not tried")

    # --- media -------------------------------------------------------------------

    def test_media_is_uploaded_once_and_reused(self):
        photo = self.attachment()
        first = self.env["wa.message"].browse(self.conversation.send_media(photo.id, "Así quedó"))
        self.conversation.send_media(photo.id)
        copy = self.attachment(name="copia.png")
        self.conversation.send_media(copy.id)
        pdf = self.attachment(b"%PDF-1.4 presupuesto", "presupuesto.pdf", "application/pdf")
        self.conversation.send_media(pdf.id, "Presupuesto")
        self.drain()
        sent = self.sent()
        self.assertEqual([m["type"] for m in sent], ["image", "image", "image", "document"])
        image_ids = {m["body"]["image"]["id"] for m in sent[:3]}
        self.assertEqual(len(image_ids), 1, "one upload for one file")
        self.assertEqual(len(self.simulator.state()["media"]), 2)
        self.assertEqual(sent[0]["body"]["image"]["caption"], "Así quedó")
        self.assertEqual(sent[3]["body"]["document"]["filename"], "presupuesto.pdf")
        self.assertEqual((first.message_type, first.attachment_id), ("image", photo))

    def test_a_bad_attachment_is_refused_with_the_limit(self):
        big = self.attachment(raw=b"\x89PNG" + b"0" * (6 * 1024 * 1024), name="enorme.png")
        with self.assertRaisesRegex(UserError, "image file is 6.0 MB; WhatsApp accepts image "
                                               "files up to 5.0 MB"):
            self.conversation.send_media(big.id)
        sticker = self.attachment(raw=b"RIFF" + b"0" * (600 * 1024), name="s.webp",
                                  mimetype="image/webp")
        with self.assertRaisesRegex(UserError, "up to 500 KB"):
            self.conversation.send_media(sticker.id)
        self.assertFalse(self.queue_items().filtered(lambda i: i.message_type != "text"))

    def test_an_attachment_gone_before_sending_fails_clearly(self):
        photo = self.attachment()
        message = self.env["wa.message"].browse(self.conversation.send_media(photo.id))
        photo.unlink()
        self.drain()
        self.assertEqual(message.state, "failed")
        self.assertIn("no longer exists", message.error_message)

    # --- recovery and housekeeping ------------------------------------------------

    def test_an_item_processing_past_its_lease_is_sent_again(self):
        item = self.env["wa.message"].browse(self.conversation.send_text("Hola")).queue_item_ids
        item.write({"state": "processing", "attempts": 1,
                    "processing_since": fields.Datetime.now() - timedelta(minutes=1)})
        self.drain()
        self.assertEqual(item.state, "processing", "still within its lease: left alone")
        item.processing_since = fields.Datetime.now() - timedelta(minutes=10)
        self.drain()
        self.assertEqual((item.state, item.attempts), ("done", 2))

    def test_old_done_items_are_vacuumed(self):
        item = self.env["wa.message"].browse(self.conversation.send_text("Hola")).queue_item_ids
        self.drain()
        self.env["wa.outbound.queue"]._gc_done()
        self.assertTrue(item.exists(), "recent: kept")
        self.env.cr.execute("UPDATE wa_outbound_queue SET write_date = now() - interval '30 days' "
                            "WHERE id = %s", [item.id])
        item.invalidate_recordset()
        self.env["wa.outbound.queue"]._gc_done()
        self.assertFalse(item.exists())
