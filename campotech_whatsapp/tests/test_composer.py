from odoo.exceptions import UserError
from odoo.tests import Form, TransactionCase, tagged

from .outbound_common import OutboundMixin
from .test_templates import WKHTMLTOPDF, TemplateMixin


@tagged("post_install", "-at_install")
class TestComposer(TemplateMixin, OutboundMixin, TransactionCase):

    def composer(self, record=None, **values):
        context = {"active_model": record._name, "active_id": record.id} if record else {}
        form = Form(self.env["wa.composer"].with_context(**context))
        for name, value in values.items():
            setattr(form, name, value)
        return form

    def test_composer_on_a_task_sends_the_filled_template_through_the_queue(self):
        template = self.approve(self.seed("trabajo_programado"))
        form = self.composer(self.task, template_id=template)
        self.assertEqual(form.partner_id, self.customer)
        self.assertIn("15/12/2026 14:30", form.preview)
        with form.variable_ids.edit(1) as line:  # job_title
            self.assertEqual(line.mapped_value, "Instalación de split")
            self.assertIn("{{job_title}}", line.excerpt,
                          "the row shows the words around its placeholder")
            self.assertTrue(line.excerpt.replace("{{job_title}}", "").strip())
            line.value = "Service del split"
        self.assertIn("\"Service del split\"", form.preview)
        composer = form.save()
        composer.action_send()
        message = self.env["wa.message"].search([("template_id", "=", template.id)])
        self.assertEqual((message.res_model, message.res_id), ("project.task", self.task.id))
        self.assertEqual(message.message_type, "template")
        self.assertIn("Service del split", message.body)
        self.assertEqual(message.conversation_id.partner_id, self.customer)
        self.assertEqual(self.drain(), 1)
        sent = self.sent()
        self.assertEqual(len(sent), 1, "a template goes out even with the window closed")
        body = sent[0]["body"]["template"]
        self.assertEqual(body["name"], "trabajo_programado")
        params = {p["parameter_name"]: p["text"] for p in body["components"][0]["parameters"]}
        self.assertEqual(params["job_title"], "Service del split")
        self.assertEqual(params["date"], "15/12/2026 14:30")

    def test_composer_on_an_invoice_uploads_the_pdf_header(self):
        self.env.company.partner_id.tz = "America/Argentina/Buenos_Aires"
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_line_ids": [(0, 0, {"name": "Service", "quantity": 1, "price_unit": 1500,
                                         "tax_ids": [(6, 0, [])]})]})
        invoice.action_post()
        template = self.seed("factura_lista")
        template.header_handle = "4::c2FtcGxl"
        self.approve(template)
        composer = self.composer(invoice, template_id=template).save()
        composer.with_context(force_report_rendering=WKHTMLTOPDF).action_send()
        self.assertEqual(self.drain(), 1)
        body = self.sent()[0]["body"]["template"]
        document = body["components"][0]["parameters"][0]["document"]
        self.assertIn(document["id"], self.simulator.store.media, "uploaded before the send")
        self.assertNotIn("attachment_id", document)
        self.assertEqual(document["filename"], invoice.name.replace("/", "-") + ".pdf")
        button = body["components"][2]
        self.assertTrue(button["parameters"][0]["text"].startswith("my/invoices/%d" % invoice.id))

    def test_opted_out_customer_needs_a_confirmation(self):
        template = self.approve(self.seed("trabajo_completado"))
        self.customer.wa_opt_out = True
        form = self.composer(self.task, template_id=template)
        self.assertTrue(form.opt_out)
        composer = form.save()
        with self.assertRaisesRegex(UserError, "Send anyway"):
            composer.action_send()
        self.assertFalse(self.env["wa.message"].search([("template_id", "=", template.id)]))
        composer.opt_out_confirmed = True
        composer.action_send()
        self.assertTrue(self.env["wa.message"].search([("template_id", "=", template.id)]))

    def test_typed_number_starts_a_conversation_with_typed_values(self):
        template = self.approve(self.seed("trabajo_completado"))
        form = self.composer(phone="+54 9 11 4444-3333", template_id=template)
        self.assertFalse(form.partner_id)
        composer = form.save()
        with self.assertRaisesRegex(UserError, "customer_name"):
            composer.action_send()
        for line, value in zip(composer.variable_ids, ["Ana", "Poda", "CampoTech"]):
            line.value = value
        message = self.env["wa.message"].browse(composer.action_send() and self.env[
            "wa.message"].search([("template_id", "=", template.id)]).id)
        self.assertFalse(message.conversation_id.partner_id)
        self.assertEqual(self.drain(), 1)
        self.assertEqual(self.sent()[0]["to"], "5491144443333")
        params = self.sent()[0]["body"]["template"]["components"][0]["parameters"]
        self.assertEqual([p["text"] for p in params], ["Ana", "Poda", "CampoTech"])
