from datetime import datetime
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, TransactionCase, tagged

from ..cloud.simulator import payloads
from ..cloud import constants as C
from .outbound_common import OutboundMixin

SEEDS = ("trabajo_programado", "tecnico_asignado", "trabajo_completado", "factura_lista",
         "pago_recibido")
# 18:00 UTC is 15:00 in Buenos Aires: outside the default quiet hours.
DAYTIME = datetime(2026, 12, 14, 18, 0)


class NotificationMixin(OutboundMixin):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({
            "name": "Juana Pérez", "mobile": "+54 9 11 5555-6666", "street": "Av. Corrientes 1234",
            "city": "CABA", "tz": "America/Argentina/Buenos_Aires", "company_id": cls.company_a.id})
        cls.phoneless = cls.env["res.partner"].create({"name": "Sin Teléfono", "company_id": cls.company_a.id})
        cls.tech = cls.env["res.users"].create({"name": "Martín Gómez", "login": "martin_notif"})
        cls.tech_2 = cls.env["res.users"].create({"name": "Lucía Díaz", "login": "lucia_notif"})
        cls.project = cls.env["project.project"].create({"name": "Service", "company_id": cls.company_a.id})

    def setUp(self):
        super().setUp()
        self.templates = self.account_a.template_ids.filtered(lambda t: t.name in SEEDS)
        self.assertEqual(len(self.templates), 5)
        # Meta wants a sample document for the invoice PDF header.
        self.template("factura_lista").header_handle = "4::c2FtcGxl"
        self.templates.action_submit()
        for template in self.templates:
            # Meta's review approves it, and its webhook tells Odoo.
            self.simulator.set_template_status(template.name, "APPROVED", "es_AR")
            self.receive(self.status_update(template.name, "APPROVED"))
        self.assertEqual(set(self.templates.mapped("status")), {"approved"})
        clock = patch.object(fields.Datetime, "now", lambda *a, **k: self.now)
        self.now = DAYTIME
        clock.start()
        self.addCleanup(clock.stop)

    def status_update(self, name, event):
        value = payloads.template_status_value(self.simulator.store.find_template(name, "es_AR"), event)
        return payloads.envelope(self.account_a.waba_id, C.FIELD_TEMPLATE_STATUS, value)

    def template(self, name):
        return self.templates.filtered(lambda t: t.name == name)

    def task(self, partner=None, **values):
        # Created from the project, as dispatchers do (no self-assignment).
        return self.env["project.task"].with_context(default_project_id=self.project.id).create(dict({
            "name": "Instalación de split", "project_id": self.project.id,
            "partner_id": (partner or self.customer).id}, **values))

    def sent_for(self, record, template_name=None):
        domain = [("res_model", "=", record._name), ("res_id", "=", record.id),
                  ("direction", "=", "outbound")]
        if template_name:
            domain.append(("template_id.name", "=", template_name))
        return self.env["wa.message"].search(domain, order="id")

    def ledger(self, record, event=None):
        domain = [("res_model", "=", record._name), ("res_id", "=", record.id)]
        if event:
            domain.append(("event", "=", event))
        return self.env["wa.notification"].search(domain, order="id")

    def notes(self, record):
        return " ".join(record.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("mail.mt_note")).mapped("body"))


@tagged("post_install", "-at_install")
class TestJobNotifications(NotificationMixin, TransactionCase):

    def test_job_scheduled_queues_one_template_with_argentine_date(self):
        # 17:30 UTC is 14:30 in Buenos Aires.
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        messages = self.sent_for(task)
        self.assertEqual(len(messages), 1, [(m.template_id.name, m.body) for m in messages]
                         + [(e.event, e.state, e.reason) for e in self.ledger(task)])
        self.assertEqual(messages.template_id, self.template("trabajo_programado"))
        self.assertEqual(messages.template_params["customer_name"], "Juana Pérez")
        self.assertEqual(messages.template_params["job_title"], "Instalación de split")
        self.assertEqual(messages.template_params["date"], "15/12/2026 14:30")
        self.assertEqual(messages.queue_item_ids.state, "pending")
        entry = self.ledger(task, "job_scheduled")
        self.assertEqual((entry.state, entry.message_id, entry.partner_id), ("queued", messages, self.customer))
        # Saving again, or calling the entry point again, sends nothing new.
        task.write({"name": "Instalación de split 3000 frigorías"})
        task.date_deadline = datetime(2026, 12, 15, 17, 30)
        task.on_job_scheduled()
        self.assertEqual(len(self.sent_for(task)), 1)
        # A new date is a new notice.
        task.date_deadline = datetime(2026, 12, 16, 12, 0)
        messages = self.sent_for(task)
        self.assertEqual(len(messages), 2)
        self.assertEqual(messages[-1].template_params["date"], "16/12/2026 09:00")

    def test_switched_off_event_sends_nothing(self):
        self.company_a.wa_notify_job_scheduled = False
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        self.assertFalse(self.sent_for(task))
        self.assertFalse(self.ledger(task))

    def test_the_template_chosen_in_settings_is_used(self):
        self.company_a.wa_template_job_scheduled_id = self.template("tecnico_asignado")
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30), user_ids=[(6, 0, self.tech.ids)])
        self.assertEqual([m.template_id.name for m in self.sent_for(task)], ["tecnico_asignado"] * 2)

    def test_opted_out_customer_gets_nothing_and_the_skip_is_noted(self):
        self.customer.wa_opt_out = True
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        self.assertFalse(self.sent_for(task))
        entry = self.ledger(task, "job_scheduled")
        self.assertEqual(entry.state, "skipped")
        self.assertIn("opted out", entry.reason)
        self.assertIn("opted out", self.notes(task))

    def test_stop_on_whatsapp_keeps_automated_notices_off_after_an_ordinary_message(self):
        self.customer_writes(text="BAJA")
        self.customer_writes(text="Hola, una consulta por la factura")
        self.assertTrue(self.customer.wa_opt_out)
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        self.assertFalse(self.sent_for(task))
        self.assertEqual(self.ledger(task, "job_scheduled").state, "skipped")
        # Only the confirmation of the STOP went out, once.
        texts = self.env["wa.message"].search([
            ("partner_id", "=", self.customer.id), ("direction", "=", "outbound")])
        self.assertEqual(len(texts), 1)
        self.assertIn("ALTA", texts.body)

    def test_phoneless_customer_gets_nothing_and_the_save_succeeds(self):
        task = self.task(partner=self.phoneless, date_deadline=datetime(2026, 12, 15, 17, 30))
        self.assertEqual(task.date_deadline, datetime(2026, 12, 15, 17, 30))
        self.assertFalse(self.sent_for(task))
        entry = self.ledger(task, "job_scheduled")
        self.assertEqual(entry.state, "skipped")
        self.assertIn("no number WhatsApp can use", entry.reason)
        self.assertIn("no number WhatsApp can use", self.notes(task))
        # Saving again with the same date does not note it twice.
        task.write({"date_deadline": datetime(2026, 12, 15, 17, 30), "name": "Otro nombre"})
        self.assertEqual(self.notes(task).count("no number WhatsApp can use"), 1)

    def test_unapproved_template_is_noted_and_the_save_succeeds(self):
        self.template("trabajo_programado").status = "paused"
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        self.assertEqual(task.date_deadline, datetime(2026, 12, 15, 17, 30))
        self.assertIn("not approved", self.ledger(task, "job_scheduled").reason)
        self.assertIn("trabajo_programado", self.notes(task))

    def test_a_failing_send_does_not_roll_back_the_users_change(self):
        # The engine refuses the send: Meta forbids tabs in template parameters
        # (a job title pasted from a spreadsheet).
        task = self.task()
        with Form(task) as form:
            form.name = "Instalación\tde split"
            form.date_deadline = datetime(2026, 12, 15, 17, 30)
        task.invalidate_recordset()
        self.assertEqual(task.date_deadline, datetime(2026, 12, 15, 17, 30))
        self.assertEqual(task.name, "Instalación\tde split")
        entry = self.ledger(task, "job_scheduled")
        self.assertIn(entry.state, ("skipped", "failed"))
        self.assertTrue(entry.reason)
        self.assertFalse(self.sent_for(task))

    def test_meta_refusing_the_template_is_noted_on_the_job(self):
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        self.simulator.fault(code=132001, count=1)
        self.drain()
        message = self.sent_for(task)
        self.assertEqual(message.state, "failed")
        entry = self.ledger(task, "job_scheduled")
        self.assertEqual(entry.state, "failed")
        self.assertIn("132001", entry.reason)
        self.assertIn("failed at Meta", self.notes(task))

    def test_quiet_hours_hold_then_release(self):
        # 23:30 in Buenos Aires: held until 08:00 (11:00 UTC) the next day.
        self.now = datetime(2026, 12, 15, 2, 30)
        task = self.task(date_deadline=datetime(2026, 12, 16, 17, 30))
        entry = self.ledger(task, "job_scheduled")
        self.assertEqual(entry.scheduled_at, datetime(2026, 12, 15, 11, 0))
        item = self.sent_for(task).queue_item_ids
        self.assertEqual(item.scheduled_at, datetime(2026, 12, 15, 11, 0))
        self.drain()
        self.assertEqual(item.state, "pending", "not sent during quiet hours")
        self.assertFalse(self.sent())
        self.now = datetime(2026, 12, 15, 11, 0, 1)
        self.drain()
        self.assertEqual(item.state, "done")
        self.assertEqual(self.sent()[0]["body"]["template"]["name"], "trabajo_programado")

    def test_quiet_hours_follow_the_customers_time_zone(self):
        self.customer.tz = "Europe/Madrid"
        self.now = datetime(2026, 12, 15, 2, 30)  # 03:30 in Madrid
        task = self.task(date_deadline=datetime(2026, 12, 16, 17, 30))
        self.assertEqual(self.ledger(task, "job_scheduled").scheduled_at, datetime(2026, 12, 15, 7, 0))

    def test_manual_messages_are_not_held_by_quiet_hours(self):
        self.now = datetime(2026, 12, 15, 2, 30)
        conversation = self.env["wa.conversation"]._for_recipient(partner=self.customer)
        message = self.env["wa.message"].browse(conversation.send_template(
            self.template("trabajo_completado").id, res_model="project.task",
            res_id=self.task().id))
        self.assertEqual(message.queue_item_ids.scheduled_at, self.now)

    def test_technician_assigned_names_the_user_added(self):
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30), user_ids=[(6, 0, self.tech.ids)])
        sent = self.sent_for(task, "tecnico_asignado")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.template_params["tech_name"], "Martín Gómez")
        self.assertEqual(sent.template_params["date"], "15/12/2026 14:30")
        task.write({"user_ids": [(4, self.tech_2.id)]})
        sent = self.sent_for(task, "tecnico_asignado")
        self.assertEqual(len(sent), 2)
        self.assertEqual(sent[-1].template_params["tech_name"], "Lucía Díaz")
        task.write({"user_ids": [(6, 0, (self.tech | self.tech_2).ids)]})
        task.on_technician_assigned(self.tech)
        self.assertEqual(len(self.sent_for(task, "tecnico_asignado")), 2)

    def test_job_completed_sends_once_and_asks_for_a_rating(self):
        task = self.task()
        task.state = "1_done"
        sent = self.sent_for(task, "trabajo_completado")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.template_params["company_name"], self.company_a.name)
        question = self.ledger(task, "rating_request")
        self.assertEqual(question.state, "queued")
        self.assertEqual(question.message_id.message_type, "interactive")
        task.state = "01_in_progress"
        task.state = "1_done"
        task.on_job_completed()
        self.assertEqual(len(self.sent_for(task, "trabajo_completado")), 1)
        self.assertEqual(len(self.ledger(task, "rating_request")), 1)

    def test_a_new_customer_on_the_job_is_told_the_date(self):
        task = self.task(partner=self.phoneless, date_deadline=datetime(2026, 12, 15, 17, 30))
        task.partner_id = self.customer
        self.assertEqual(len(self.sent_for(task, "trabajo_programado")), 1)

    def test_two_workers_claiming_one_event_send_it_once(self):
        task = self.task()
        Notification = self.env["wa.notification"]
        key_args = ("job_scheduled", task, self.customer, self.company_a)
        first = Notification._claim("test-key", *key_args)
        second = Notification._claim("test-key", *key_args)
        self.assertTrue(first)
        self.assertFalse(second)

    def test_notifications_list_is_for_managers(self):
        action = self.env.ref("campotech_whatsapp.wa_notification_action")
        self.assertEqual(action.res_model, "wa.notification")
        menu = self.env.ref("campotech_whatsapp.menu_wa_notifications")
        self.assertEqual(menu.groups_id, self.env.ref("campotech_whatsapp.group_wa_manager"))


@tagged("post_install", "-at_install")
class TestInvoiceNotifications(NotificationMixin, TransactionCase):

    def invoice(self, amount=12345.67):
        return self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.customer.id,
            "invoice_date": "2026-12-14",
            "invoice_line_ids": [(0, 0, {"name": "Instalación", "quantity": 1, "price_unit": amount,
                                         "tax_ids": [(6, 0, [])]})]})

    def pay(self, invoice):
        return self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create({})._create_payments()

    def test_posted_invoice_queues_factura_lista_once(self):
        invoice = self.invoice()
        self.assertFalse(self.sent_for(invoice))
        invoice.action_post()
        sent = self.sent_for(invoice, "factura_lista")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.template_params["invoice_number"], invoice.name)
        self.assertIn("12.345,67", sent.template_params["total"])
        self.assertTrue(sent.template_params["header"]["attachment_id"])
        self.assertIn("my/invoices/%s" % invoice.id, sent.template_params["button.0"])
        invoice.button_draft()
        invoice.action_post()
        invoice.on_invoice_created()
        self.assertEqual(len(self.sent_for(invoice, "factura_lista")), 1)

    def test_paid_invoice_thanks_once_with_the_amount(self):
        invoice = self.invoice()
        invoice.action_post()
        self.pay(invoice)
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        sent = self.sent_for(invoice, "pago_recibido")
        self.assertEqual(len(sent), 1)
        self.assertIn("12.345,67", sent.template_params["amount"])
        invoice.on_payment_received()
        self.assertEqual(len(self.sent_for(invoice, "pago_recibido")), 1)

    def test_in_payment_then_paid_is_one_message(self):
        invoice = self.invoice()
        invoice.action_post()
        # Odoo may pass the invoice through in_payment before paid.
        invoice.write({"payment_state": "in_payment"})
        invoice.write({"payment_state": "paid"})
        self.assertEqual(len(self.sent_for(invoice, "pago_recibido")), 1)
        invoice.on_payment_received()
        self.assertEqual(len(self.sent_for(invoice, "pago_recibido")), 1)

    def payment(self, amount=12345.67, partner=None, **values):
        return self.env["account.payment"].create(dict({
            "payment_type": "inbound", "partner_type": "customer",
            "partner_id": (partner or self.customer).id, "amount": amount}, **values))

    def all_thanks(self):
        return self.env["wa.message"].search([
            ("template_id.name", "=", "pago_recibido"), ("direction", "=", "outbound")])

    def test_standalone_customer_payment_thanks_once_with_its_amount(self):
        payment = self.payment(amount=5000)
        self.assertFalse(self.sent_for(payment))
        payment.action_post()
        self.assertIn(payment.state, ("in_process", "paid"))
        sent = self.sent_for(payment, "pago_recibido")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.template_params["amount"], "$ 5.000,00")
        self.assertEqual(sent.template_params["customer_name"], "Juana Pérez")
        self.assertEqual(sent.partner_id, self.customer)
        # Back to draft and posted again: no second thanks.
        payment.action_draft()
        payment.action_post()
        self.assertEqual(len(self.all_thanks()), 1)

    def test_payment_registered_on_an_invoice_is_one_message_in_total(self):
        invoice = self.invoice()
        invoice.action_post()
        payment = self.pay(invoice)
        self.assertEqual(len(self.all_thanks()), 1)
        self.assertEqual(len(self.sent_for(invoice, "pago_recibido")), 1)
        self.assertFalse(self.sent_for(payment, "pago_recibido"))
        payment.action_draft()
        payment.action_post()
        invoice.on_payment_received()
        self.assertEqual(len(self.all_thanks()), 1)

    def test_partial_payment_thanks_for_its_amount_and_the_rest_for_the_rest(self):
        invoice = self.invoice(amount=10000)
        invoice.action_post()
        first = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create({"amount": 4000})._create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(self.sent_for(first, "pago_recibido").template_params["amount"], "$ 4.000,00")
        self.pay(invoice)
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        thanks = self.all_thanks()
        self.assertEqual(len(thanks), 2)
        self.assertEqual(self.sent_for(invoice, "pago_recibido").template_params["amount"], "$ 6.000,00")

    def test_payment_matched_later_with_the_invoice_is_not_thanked_twice(self):
        invoice = self.invoice(amount=5000)
        invoice.action_post()
        payment = self.payment(amount=5000)
        payment.action_post()
        self.assertEqual(len(self.sent_for(payment, "pago_recibido")), 1)
        # Matched from the invoice's outstanding credits.
        (payment.move_id.line_ids + invoice.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable").reconcile()
        self.assertIn(invoice.payment_state, ("in_payment", "paid"))
        self.assertEqual(len(self.all_thanks()), 1)

    def test_vendor_payment_sends_nothing(self):
        payment = self.payment(payment_type="outbound", partner_type="supplier")
        payment.action_post()
        refund = self.payment(payment_type="outbound")
        refund.action_post()
        self.assertFalse(self.all_thanks())
        self.assertFalse(self.ledger(payment) | self.ledger(refund))

    def test_switched_off_invoice_notice_sends_nothing(self):
        self.company_a.wa_notify_invoice_ready = False
        invoice = self.invoice()
        invoice.action_post()
        self.assertFalse(self.sent_for(invoice, "factura_lista"))


@tagged("post_install", "-at_install")
class TestSendTemplateAction(NotificationMixin, TransactionCase):

    def test_the_five_rules_ship_active_with_the_send_template_action(self):
        for event in ("job_scheduled", "technician_assigned", "job_completed", "invoice_ready",
                      "payment_received"):
            rule = self.env.ref("campotech_whatsapp.wa_rule_%s" % event)
            self.assertTrue(rule.active)
            self.assertEqual(rule.action_server_ids.state, "wa_template")
            self.assertEqual(rule.action_server_ids.wa_event, event)

    def test_action_menu_sends_the_chosen_template_with_its_mapping(self):
        task = self.task(date_deadline=datetime(2026, 12, 15, 17, 30))
        action = self.env["ir.actions.server"].create({
            "name": "Avisar técnico", "model_id": self.env.ref("project.model_project_task").id,
            "state": "wa_template", "wa_event": "custom",
            "wa_template_id": self.template("tecnico_asignado").id,
            "wa_variable_mapping": 'tech_name = "el equipo de CampoTech"\ndate = date_deadline',
        })
        action.with_context(active_model="project.task", active_ids=task.ids, active_id=task.id).run()
        sent = self.sent_for(task, "tecnico_asignado")
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.template_params["tech_name"], "el equipo de CampoTech")
        self.assertEqual(sent.template_params["date"], "15/12/2026 14:30")
        entry = self.ledger(task, "custom")
        self.assertEqual((entry.action_id, entry.state), (action, "queued"))
        # The same content again is not sent twice.
        action.with_context(active_model="project.task", active_ids=task.ids, active_id=task.id).run()
        self.assertEqual(len(self.sent_for(task, "tecnico_asignado")), 1)

    def test_recipient_field_path_is_followed(self):
        other = self.env["res.partner"].create({"name": "Encargado", "mobile": "+54 9 11 4444-3333"})
        self.project.partner_id = other
        task = self.task()
        action = self.env["ir.actions.server"].create({
            "name": "Avisar al encargado", "model_id": self.env.ref("project.model_project_task").id,
            "state": "wa_template", "wa_template_id": self.template("trabajo_completado").id,
            "wa_recipient_field": "project_id.partner_id",
        })
        action.with_context(active_model="project.task", active_ids=task.ids, active_id=task.id).run()
        self.assertEqual(self.sent_for(task, "trabajo_completado").partner_id, other)

    def test_a_bad_mapping_is_refused_when_saved(self):
        with self.assertRaises(ValidationError):
            self.env["ir.actions.server"].create({
                "name": "Roto", "model_id": self.env.ref("project.model_project_task").id,
                "state": "wa_template", "wa_template_id": self.template("trabajo_completado").id,
                "wa_variable_mapping": "job_title = no_such_field",
            })
