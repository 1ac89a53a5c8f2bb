import time

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .outbound_common import CUSTOMER, OutboundMixin
from .test_templates import WKHTMLTOPDF, TemplateMixin


@tagged("post_install", "-at_install")
class TestOutboundTemplates(OutboundMixin, TemplateMixin, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.posted_invoice()

    def approve(self, template):
        template = super().approve(template)
        # Meta's review approves it at the simulator too, so it can be sent.
        self.simulator.set_template_status(template.name, "APPROVED", template.language)
        return template

    def test_a_job_template_starts_a_conversation_outside_the_window(self):
        template = self.approve(self.seed("trabajo_programado"))
        conversation = self.env["wa.conversation"]._for_recipient(partner=self.customer)
        self.assertFalse(conversation.window_open)
        message = self.env["wa.message"].browse(conversation.send_template(
            template.id, res_model="project.task", res_id=self.task.id))
        self.assertEqual(message.queue_item_ids.state, "pending", "a template is never held")
        self.assertEqual((message.res_model, message.res_id), ("project.task", self.task.id))
        self.assertEqual(message.template_id, template)
        self.assertIn("15/12/2026 14:30", message.body)
        self.assertEqual(message.template_params["customer_name"], "Juana Pérez")
        self.drain()
        sent = self.sent()
        self.assertEqual(len(sent), 1)
        body = sent[0]["body"]["template"]
        self.assertEqual((body["name"], body["language"]["code"]), ("trabajo_programado", "es_AR"))
        params = {p["parameter_name"]: p["text"] for p in body["components"][0]["parameters"]}
        self.assertEqual(params["job_title"], "Instalación de split")
        self.assertEqual(message.state, "sent")

    def test_invoice_template_uploads_the_pdf_header_once(self):
        template = self.seed("factura_lista")
        template.header_handle = "4::c2FtcGxl"
        self.approve(template)
        conversation = self.env["wa.conversation"]._for_recipient(partner=self.customer)
        if WKHTMLTOPDF:  # a real PDF; else Odoo's test mode renders the report as HTML
            conversation = conversation.with_context(force_report_rendering=True)
        first = self.env["wa.message"].browse(conversation.send_template(
            template.id, "account.move", self.invoice.id))
        self.drain()
        second = self.env["wa.message"].browse(conversation.send_template(
            template.id, "account.move", self.invoice.id))
        self.drain()
        sent = self.sent()
        self.assertEqual(len(sent), 2, [m.error_message for m in first | second])
        documents = [m["body"]["template"]["components"][0]["parameters"][0]["document"]
                     for m in sent]
        self.assertEqual(documents[0]["filename"].rsplit(".", 1)[0],
                         self.invoice.name.replace("/", "-"))
        self.assertTrue(documents[0]["id"])
        self.assertNotIn("attachment_id", documents[0])
        media = self.simulator.state()["media"]
        self.assertIn(documents[0]["id"], [m["id"] for m in media])
        if documents[0]["id"] == documents[1]["id"]:
            self.assertEqual(len(media), 1, "the same PDF is uploaded once")
        self.assertEqual((first.state, second.state), ("sent", "sent"))

    def test_a_template_that_is_not_approved_is_refused_at_once(self):
        conversation = self.env["wa.conversation"]._for_recipient(partner=self.customer)
        with self.assertRaisesRegex(UserError, "only approved templates"):
            conversation.send_template(self.seed("trabajo_programado").id,
                                       "project.task", self.task.id)
        self.assertFalse(self.queue_items())

    def test_the_reopen_template_goes_automatically_and_held_messages_follow(self):
        self.account_a.action_sync_templates()
        hello = self.account_a.template_ids.filtered(lambda t: t.name == "hello_world")
        self.assertEqual(hello.status, "approved")
        self.company_a.write({"wa_reopen_template_id": hello.id, "wa_reopen_auto": True})
        conversation = self.customer_writes(timestamp=time.time() - 30 * 3600)
        self.simulator.reset()
        first = self.env["wa.message"].browse(conversation.send_text("¿Seguimos mañana?"))
        second = self.env["wa.message"].browse(conversation.send_text("Avisame"))
        items = self.queue_items(conversation)
        self.assertEqual(items.mapped("message_type"), ["text", "template", "text"],
                         "one reopen template for the closed window, not one per message")
        self.drain()
        self.assertEqual([m["type"] for m in self.sent()], ["template"])
        self.assertEqual((first.state, second.state), ("pending", "pending"))
        self.customer_writes(CUSTOMER, text="Sí, dale")
        self.drain()
        self.assertEqual([m["type"] for m in self.sent()], ["template", "text", "text"])
        self.assertEqual([m["body"].get("text", {}).get("body") for m in self.sent()[1:]],
                         ["¿Seguimos mañana?", "Avisame"])

    def test_opted_out_customers_get_no_automated_template(self):
        template = self.approve(self.seed("trabajo_programado"))
        self.customer.wa_opt_out = True
        conversation = self.env["wa.conversation"]._for_recipient(partner=self.customer)
        with self.assertRaisesRegex(UserError, "nothing automated"):
            conversation.with_context(wa_automated=True).send_template(
                template.id, "project.task", self.task.id)
