import os
from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..cloud import constants as C
from ..cloud.simulator import payloads
from .common import WhatsAppMixin

SEED_NAMES = {"trabajo_programado", "tecnico_asignado", "trabajo_completado", "factura_lista",
              "pago_recibido"}
WKHTMLTOPDF = os.path.exists("/usr/bin/wkhtmltopdf")


class TemplateMixin(WhatsAppMixin):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({
            "name": "Juana Pérez", "mobile": "+54 9 11 5555-6666",
            "street": "Av. Corrientes 1234", "city": "CABA",
            "tz": "America/Argentina/Buenos_Aires"})
        cls.tech = cls.env["res.users"].create({"name": "Martín Gómez", "login": "martin"})
        cls.task = cls.env["project.task"].create({
            "name": "Instalación de split", "partner_id": cls.customer.id,
            "user_ids": [(6, 0, cls.tech.ids)],
            # 17:30 UTC is 14:30 in Buenos Aires.
            "date_deadline": datetime(2026, 12, 15, 17, 30)})


    @classmethod
    def posted_invoice(cls):
        """A posted customer invoice of $ 12.345,67 due 15/12/2026, without taxes."""
        invoice = cls.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": cls.customer.id,
            "invoice_date": "2026-12-01", "invoice_date_due": "2026-12-15",
            "invoice_line_ids": [(0, 0, {"name": "Instalación", "quantity": 1,
                                         "price_unit": 12345.67, "tax_ids": [(6, 0, [])]})]})
        invoice.action_post()
        return invoice
    def seed(self, name, account=None):
        return (account or self.account_a).template_ids.filtered(lambda t: t.name == name)

    def approve(self, template):
        """Submit the draft and let Meta's review approve it over the webhook."""
        template.action_submit()
        self.simulator.store.find_template(template.name, "es_AR")["status"] = "APPROVED"
        self.receive(self.status_update(template.name, "APPROVED"))
        self.assertEqual(template.status, "approved")
        return template

    def status_update(self, name, event, reason=None):
        sim_template = self.simulator.store.find_template(name, "es_AR")
        value = payloads.template_status_value(sim_template, event, reason)
        return payloads.envelope(self.account_a.waba_id, C.FIELD_TEMPLATE_STATUS, value)


@tagged("post_install", "-at_install")
class TestTemplates(TemplateMixin, TransactionCase):

    def test_new_account_gets_the_five_seed_templates_as_drafts(self):
        company = self.env["res.company"].create({"name": "CampoTech Rosario"})
        account = self.env["wa.account"].create({"name": "Rosario", "company_id": company.id})
        self.assertEqual(set(account.template_ids.mapped("name")), SEED_NAMES)
        self.assertEqual(set(account.template_ids.mapped("status")), {"draft"})
        self.assertEqual(set(account.template_ids.mapped("language")), {"es_AR"})
        self.assertEqual(set(account.template_ids.mapped("category")), {"utility"})
        job = self.seed("trabajo_programado", account)
        self.assertEqual(job.model, "project.task")
        self.assertEqual(job.button_ids.mapped("text"), ["Confirmar", "Reprogramar", "Cancelar"])
        paths = {v.name: v.field_path for v in job.variable_ids}
        self.assertEqual(paths["customer_name"], "partner_id.name")
        self.assertEqual(paths["date"], "date_deadline")
        invoice = self.seed("factura_lista", account)
        header = invoice.variable_ids.filtered(lambda v: v.component == "header")
        self.assertEqual((header.kind, header.source), ("document", "report"))
        self.assertEqual(header.report_id, self.env.ref("account.account_invoices"))
        button = invoice.variable_ids.filtered(lambda v: v.component == "button")
        self.assertEqual(button.source, "portal_url")
        self.assertEqual(invoice.button_ids.text, "Pagar online")
        self.assertEqual(len(self.env["wa.template"]._seed_accounts(account)), 0,
                         "seeding again adds nothing")

    def test_sync_reads_every_page(self):
        for i in range(130):  # the client asks 100 a page
            self.simulator.add_template("aviso_%03d" % i, "es_AR", "utility", "Hola {{1}}, listo.")
        self.account_a.action_sync_templates()
        names = set(self.account_a.template_ids.mapped("name"))
        self.assertTrue({"aviso_000", "aviso_099", "aviso_100", "aviso_129"} <= names)
        self.assertIn("turno_confirmado", names)

    def test_sync_marks_a_seed_approved_at_meta_approved_and_keeps_its_mappings(self):
        self.simulator.add_template(
            "pago_recibido", "es_AR", "utility",
            "Hola {{customer_name}}, recibimos tu pago de {{amount}}. ¡Muchas gracias!")
        self.simulator.store.find_template("pago_recibido")["parameter_format"] = "NAMED"
        template = self.seed("pago_recibido")
        self.env["wa.account"]._cron_sync_templates()
        self.assertEqual(template.status, "approved")
        self.assertTrue(template.meta_template_id)
        self.assertEqual(template.variable_ids.filtered(lambda v: v.name == "amount").field_path,
                         "amount_total")

    def test_paused_template_shows_metas_reason(self):
        self.approve(self.seed("trabajo_completado"))
        self.receive(self.status_update("trabajo_completado", "PAUSED", "LOW_QUALITY"))
        template = self.seed("trabajo_completado")
        self.assertEqual((template.status, template.rejection_reason), ("paused", "LOW_QUALITY"))
        with self.assertRaisesRegex(UserError, "Paused"):
            template._prepare_send(self.task)

    def test_template_written_in_odoo_is_submitted_and_rejected_over_the_webhook(self):
        template = self.env["wa.template"].create({
            "account_id": self.account_a.id, "name": "visita_confirmada",
            "model_id": self.env["ir.model"]._get_id("project.task"),
            "header_format": "text", "header_text": "Visita {{1}}",
            "body_text": "Hola {{1}}, te visitamos el {{2}}.", "footer_text": "CampoTech",
            "button_ids": [(0, 0, {"button_type": "quick_reply", "text": "Listo"}),
                           (0, 0, {"button_type": "url", "text": "Ver",
                                   "url": "https://campotech.example.com/{{1}}"})]})
        self.assertEqual(template.variable_ids.mapped("key"), ["header.1", "1", "2", "button.1"])
        with self.assertRaisesRegex(UserError, "example"):
            template.action_submit()
        self.assertEqual(template.status, "draft")
        self.assertIsNone(self.simulator.store.find_template("visita_confirmada"),
                          "nothing reached Meta")
        for var, sample in zip(template.variable_ids, ["confirmada", "Ana", "lunes 3", "t/9"]):
            var.sample_value = sample
        template.action_submit()
        self.assertEqual(template.status, "pending")
        at_meta = self.simulator.store.find_template("visita_confirmada")
        self.assertEqual(at_meta["id"], template.meta_template_id)
        body = next(c for c in at_meta["components"] if c["type"] == "BODY")
        self.assertEqual(body["example"], {"body_text": [["Ana", "lunes 3"]]})
        buttons = next(c for c in at_meta["components"] if c["type"] == "BUTTONS")["buttons"]
        self.assertEqual(buttons[1]["example"], ["https://campotech.example.com/t/9"])
        with self.assertRaises(UserError):
            template.body_text = "Otro texto"
        self.receive(self.status_update("visita_confirmada", "REJECTED", "INVALID_FORMAT"))
        self.assertEqual((template.status, template.rejection_reason),
                         ("rejected", "INVALID_FORMAT"))

    def test_prepare_send_fills_a_job_template_from_the_task(self):
        template = self.approve(self.seed("trabajo_programado"))
        sent = template._prepare_send(self.task)
        self.assertEqual((sent["name"], sent["language"]), ("trabajo_programado", "es_AR"))
        body = sent["components"][0]
        self.assertEqual(body["type"], "body")
        params = {p["parameter_name"]: p["text"] for p in body["parameters"]}
        self.assertEqual(params["customer_name"], "Juana Pérez")
        self.assertEqual(params["job_title"], "Instalación de split")
        self.assertEqual(params["date"], "15/12/2026 14:30")
        self.assertNotIn("\n", params["address"])
        self.assertIn("Av. Corrientes 1234", params["address"])
        self.assertIn("15/12/2026 14:30", sent["body"])
        self.assertIn("[Reprogramar]", sent["body"])
        self.assertEqual(sent["params"]["date"], "15/12/2026 14:30")

    def test_quick_reply_payloads_name_the_record(self):
        template = self.approve(self.seed("tecnico_asignado"))
        sent = template._prepare_send(self.task, {"button.1": "reschedule:%d" % self.task.id})
        buttons = [c for c in sent["components"] if c["type"] == "button"]
        self.assertEqual(buttons, [{"type": "button", "sub_type": "quick_reply", "index": "1",
                                    "parameters": [{"type": "payload",
                                                    "payload": "reschedule:%d" % self.task.id}]}])
        self.assertEqual(sent["params"]["button.1"], "reschedule:%d" % self.task.id)

    def test_dates_follow_the_customers_time_zone_else_the_companys(self):
        template = self.approve(self.seed("tecnico_asignado"))
        self.customer.tz = "Europe/Madrid"
        sent = template._prepare_send(self.task)
        self.assertEqual(sent["params"]["date"], "15/12/2026 18:30")
        self.assertEqual(sent["params"]["tech_name"], "Martín Gómez")
        self.customer.tz = False
        self.assertFalse(self.task.company_id, "a job without a project: the sender's company")
        self.account_a.company_id.partner_id.tz = "America/Mexico_City"
        self.assertEqual(template._prepare_send(self.task)["params"]["date"], "15/12/2026 11:30")

    def test_values_override_and_missing_values_are_refused(self):
        template = self.approve(self.seed("trabajo_completado"))
        sent = template._prepare_send(self.task, {"customer_name": "Juani"})
        self.assertEqual(sent["params"]["customer_name"], "Juani")
        self.assertIn("Hola Juani", sent["body"])
        self.assertEqual(sent["params"]["company_name"], self.account_a.company_id.name)
        bare = self.env["project.task"].create({"name": "Sin cliente"})
        with self.assertRaisesRegex(UserError, "customer_name"):
            template._prepare_send(bare)
        with self.assertRaisesRegex(UserError, "newline"):
            template._prepare_send(self.task, {"job_title": "uno\ndos"})

    def test_draft_is_not_sendable(self):
        with self.assertRaisesRegex(UserError, "approved"):
            self.seed("trabajo_programado")._prepare_send(self.task)

    def test_preview_renders_for_a_chosen_record_and_samples_otherwise(self):
        template = self.seed("trabajo_programado")
        self.assertIn("Hola Juana Pérez, agendamos", template.preview_text,
                      "without a record the samples show")
        template.preview_ref = "project.task,%d" % self.task.id
        self.assertIn("\"Instalación de split\" para el 15/12/2026 14:30", template.preview_text)
        self.assertIn("[Confirmar]", template.preview_text)

    def test_media_header_without_a_meta_app_id_names_the_setting(self):
        template = self.seed("factura_lista")
        self.account_a.app_id = False
        with self.assertRaisesRegex(UserError, "Meta App ID"):
            template.action_submit()
        self.assertEqual(template.status, "draft")
        self.assertFalse(template.header_handle)
        self.assertIsNone(self.simulator.store.find_template("factura_lista"), "nothing reached Meta")


@tagged("post_install", "-at_install")
class TestTemplateDocuments(TemplateMixin, TransactionCase):
    """Document headers: the record's report rendered into an attachment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "America/Argentina/Buenos_Aires"
        cls.invoice = cls.posted_invoice()

    def render_context(self):
        # wkhtmltopdf is there: render a real PDF; else Odoo's test mode gives HTML.
        return {"force_report_rendering": True} if WKHTMLTOPDF else {}

    def assert_document(self, attachment_id, filename):
        attachment = self.env["ir.attachment"].browse(attachment_id)
        self.assertEqual(attachment.name, filename)
        if WKHTMLTOPDF:
            self.assertEqual(attachment.mimetype, "application/pdf")
            self.assertTrue(attachment.raw.startswith(b"%PDF"))
        else:
            self.assertEqual(attachment.mimetype, "text/html")
            self.assertTrue(attachment.raw)
        return attachment

    def test_invoice_template_sends_the_invoice_pdf_amount_and_portal_link(self):
        template = self.seed("factura_lista")
        template.header_handle = "4::c2FtcGxl"
        self.approve(template)
        sent = template.with_context(**self.render_context())._prepare_send(self.invoice)
        header, body, button = sent["components"]
        document = header["parameters"][0]["document"]
        filename = self.invoice.name.replace("/", "-") + ".pdf"
        self.assertEqual(document["filename"], filename)
        self.assertNotIn("id", document)
        attachment = self.assert_document(document["attachment_id"], filename)
        self.assertEqual((attachment.res_model, attachment.res_id), ("account.move", self.invoice.id))
        params = {p["parameter_name"]: p["text"] for p in body["parameters"]}
        symbol = self.invoice.currency_id.symbol
        self.assertEqual(params["total"], "%s 12.345,67" % symbol
                         if self.invoice.currency_id.position == "before" else "12.345,67 " + symbol)
        self.assertEqual(params["invoice_number"], self.invoice.name)
        suffix = button["parameters"][0]["text"]
        self.assertEqual(button["sub_type"], "url")
        self.assertTrue(suffix.startswith("my/invoices/%d?access_token=" % self.invoice.id))
        self.assertEqual(self.invoice.get_base_url() + "/" + suffix,
                         self.invoice.get_base_url() + self.invoice.get_portal_url())
        self.assertEqual(sent["params"]["header"]["attachment_id"], attachment.id)

    def test_payment_template_formats_the_amount(self):
        template = self.approve(self.seed("pago_recibido"))
        sent = template._prepare_send(self.invoice)
        self.assertIn("12.345,67", sent["params"]["amount"])
        self.assertIn(self.invoice.currency_id.symbol, sent["params"]["amount"])

    def test_task_template_with_a_report_header(self):
        view = self.env["ir.ui.view"].create({
            "name": "campotech_test_job_sheet", "type": "qweb", "key": "campotech_whatsapp.job_sheet",
            "arch": '<t t-name="campotech_whatsapp.job_sheet"><t t-call="web.html_container">'
                    '<t t-foreach="docs" t-as="o"><div class="page"><h2 t-out="o.name"/></div>'
                    '</t></t></t>'})
        report = self.env["ir.actions.report"].create({
            "name": "Job sheet", "model": "project.task", "report_type": "qweb-pdf",
            "report_name": view.key})
        template = self.env["wa.template"].create({
            "account_id": self.account_a.id, "name": "hoja_de_trabajo", "parameter_format": "named",
            "model_id": self.env["ir.model"]._get_id("project.task"),
            "header_format": "document", "header_handle": "4::c2FtcGxl",
            "body_text": "Hola {{customer_name}}, te mandamos la hoja del trabajo."})
        header = template.variable_ids.filtered(lambda v: v.key == "header")
        header.write({"source": "report", "report_id": report.id})
        template.variable_ids.filtered(lambda v: v.key == "customer_name").write(
            {"field_path": "partner_id.name", "sample_value": "Juana"})
        self.approve(template)
        sent = template.with_context(**self.render_context())._prepare_send(self.task)
        document = sent["components"][0]["parameters"][0]["document"]
        self.assert_document(document["attachment_id"], "Instalación-de-split.pdf")
        self.assertIn("[document: Instalación-de-split.pdf]", sent["body"])

    def test_seed_invoice_template_submits_with_one_call_uploading_a_sample(self):
        self.account_a.app_id = self.simulator.config["app_id"]
        template = self.seed("factura_lista")
        self.assertFalse(template.header_handle)
        template.with_context(**self.render_context()).action_submit()
        self.assertEqual(template.status, "pending")
        handle = template.header_handle
        self.assertIn(handle, self.simulator.store.handles, "the handle came from the upload")
        at_meta = self.simulator.store.find_template("factura_lista", "es_AR")
        self.assertEqual(at_meta["status"], "PENDING")
        header = next(c for c in at_meta["components"] if c["type"] == "HEADER")
        self.assertEqual((header["format"], header["example"]["header_handle"]),
                         ("DOCUMENT", [handle]))
        sample = self.simulator.store.handles[handle]
        self.assertEqual(sample["file_type"], "application/pdf")
        self.assertTrue(sample["content"].startswith(b"%PDF"))
        if WKHTMLTOPDF:  # the newest invoice, printed
            self.assertEqual(sample["file_name"], self.invoice.display_name.replace("/", "-") + ".pdf")
        else:  # Odoo's test mode prints HTML: the shipped sample goes instead
            self.assertEqual(sample["file_name"], "muestra.pdf")
