from odoo.tests import TransactionCase, new_test_user, tagged

from ..cloud import notifications as N
from .outbound_common import CUSTOMER, OutboundMixin


@tagged("post_install", "-at_install")
class TestJobReplies(OutboundMixin, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner = cls.env["res.partner"].create({
            "name": "Juana Pérez", "mobile": "+54 9 11 5555-6666", "company_id": cls.company_a.id})
        cls.dispatcher = new_test_user(cls.env, "wa_dispatcher", groups="project.group_project_manager")
        cls.technician = new_test_user(cls.env, "wa_technician", groups="project.group_project_user")
        cls.project = cls.env["project.project"].create({
            "name": "Service", "user_id": cls.dispatcher.id, "company_id": cls.company_a.id})
        cls.confirmed_tag = cls.env["project.tags"].create({"name": "Confirmado"})
        cls.company_a.wa_confirm_tag_id = cls.confirmed_tag
        cls.task = cls._task("Split repair")
        cls.other_task = cls._task("Boiler check")
        cls.conversation = cls.env["wa.conversation"].create({
            "account_id": cls.account_a.id, "partner_id": cls.partner.id,
            "wa_id": CUSTOMER, "customer_phone": "+" + CUSTOMER})

    @classmethod
    def _task(cls, name):
        return cls.env["project.task"].create({
            "name": name, "project_id": cls.project.id, "partner_id": cls.partner.id,
            "user_ids": [(6, 0, cls.technician.ids)]})

    def job_message(self, task, wamid):
        """The template the queue sent for a job, as it stores it once Meta accepted it."""
        return self.env["wa.message"].create({
            "conversation_id": self.conversation.id, "direction": "outbound", "wamid": wamid,
            "message_type": "template", "body": "Tu visita quedó programada", "state": "sent",
            "res_model": "project.task", "res_id": task.id})

    def tap(self, wamid, title, payload=None):
        self.receive(self.inbound_payload(self.account_a, {
            "type": "button", "payload": payload or title, "text": title, "reply_to": wamid}))

    def say(self, text):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": text}))

    def answers(self):
        return self.env["wa.message"].search([
            ("conversation_id", "=", self.conversation.id), ("direction", "=", "outbound"),
            ("message_type", "=", "text")], order="id").mapped("body")

    def notes(self, task):
        return task.message_ids.filtered(lambda m: m.subtype_id == self.env.ref("mail.mt_note")).mapped(
            "body")

    def test_confirmar_confirms_the_job_it_answers_and_nothing_else(self):
        self.job_message(self.task, "wamid.JOB-1")
        self.job_message(self.other_task, "wamid.JOB-2")
        self.tap("wamid.JOB-2", "Confirmar")
        self.assertIn(self.confirmed_tag, self.other_task.tag_ids)
        self.assertNotIn(self.confirmed_tag, self.task.tag_ids)
        self.assertTrue(any("confirmed the visit" in body for body in self.notes(self.other_task)))
        self.assertEqual(self.answers(), [N.TEXT_CONFIRMED])
        entry = self.env["wa.notification"].search([("event", "=", "reply_confirm")])
        self.assertEqual((entry.res_model, entry.res_id, entry.state),
                         ("project.task", self.other_task.id, "done"))
        self.assertEqual(entry.inbound_message_id.reply_to_id.wamid, "wamid.JOB-2")

    def test_confirmar_moves_the_job_to_the_chosen_stage(self):
        stage = self.env["project.task.type"].create({
            "name": "Visita confirmada", "project_ids": [(4, self.project.id)]})
        self.company_a.wa_confirm_stage_id = stage
        self.job_message(self.task, "wamid.JOB-1")
        self.tap("wamid.JOB-1", "Confirmar", payload="CONFIRMAR")
        self.assertEqual(self.task.stage_id, stage)

    def test_a_second_tap_on_the_same_message_does_nothing_more(self):
        self.job_message(self.task, "wamid.JOB-1")
        self.tap("wamid.JOB-1", "Confirmar")
        self.tap("wamid.JOB-1", "Confirmar")
        self.assertEqual(self.answers(), [N.TEXT_CONFIRMED])
        self.assertEqual(self.env["wa.notification"].search_count([("event", "=", "reply_confirm")]), 1)

    def test_reprogramar_creates_an_activity_and_keeps_the_customer_words(self):
        self.job_message(self.task, "wamid.JOB-1")
        self.tap("wamid.JOB-1", "Reprogramar")
        activity = self.task.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.technician, "the job's responsible")
        self.assertEqual(self.answers(), [N.TEXT_ASK_NEW_TIME])
        self.say("Mejor el jueves a las 10")
        self.assertIn("Mejor el jueves a las 10", activity.note)
        self.assertTrue(any("jueves a las 10" in body for body in self.notes(self.task)))
        self.assertEqual(self.answers(), [N.TEXT_ASK_NEW_TIME, N.TEXT_NEW_TIME_RECEIVED])
        self.say("Gracias")
        self.assertNotIn("Gracias", activity.note, "only the answer to the question is taken")

    def test_cancelar_asks_the_dispatcher_and_cancels_nothing(self):
        self.job_message(self.task, "wamid.JOB-1")
        state = self.task.state
        self.tap("wamid.JOB-1", "Cancelar")
        self.assertEqual(self.task.state, state)
        self.assertTrue(self.task.active)
        activity = self.task.activity_ids
        self.assertEqual(activity.user_id, self.dispatcher)
        self.assertEqual(self.answers(), [N.TEXT_CANCEL_RECEIVED])

    def test_a_button_on_a_message_not_sent_for_a_job_does_nothing(self):
        self.env["wa.message"].create({
            "conversation_id": self.conversation.id, "direction": "outbound", "wamid": "wamid.PLAIN",
            "message_type": "text", "body": "¿Confirmás?", "state": "sent"})
        self.tap("wamid.PLAIN", "Confirmar")
        self.assertFalse(self.env["wa.notification"].search([("event", "like", "reply_")]))
        self.assertFalse(self.task.activity_ids)

    def test_a_rating_lands_on_the_task_with_the_customer_comment(self):
        self.customer_writes()
        question = self.env["wa.notification"]._ask_rating(self.task)
        self.assertEqual(question.state, "queued")
        self.assertEqual((question.message_id.res_model, question.message_id.res_id),
                         ("project.task", self.task.id))
        self.drain()
        for _attempt in range(5):  # the queue spaces messages to one customer (pair rate)
            if question.message_id.state != "pending":
                break
            self.make_due()
            self.drain()
        self.assertEqual(question.message_id.state, "sent")
        sent = self.sent()[-1]
        self.assertEqual(sent["body"]["interactive"]["type"], "list")
        self.receive(self.inbound_payload(self.account_a, {
            "type": "interactive", "interactive_type": "list_reply", "id": "rating_4",
            "title": "4 - Muy bueno", "description": "", "reply_to": question.message_id.wamid}))
        rating = self.task.rating_ids.filtered("consumed")
        self.assertEqual(len(rating), 1)
        self.assertEqual((rating.rating, rating.partner_id), (4, self.partner))
        self.say("Muy puntuales, gracias")
        self.assertEqual(rating.feedback, "Muy puntuales, gracias")
        self.assertEqual(self.task.rating_last_value, 4)
