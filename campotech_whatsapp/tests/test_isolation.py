"""Company isolation, record by record, through the ORM and through JSON-RPC.

test_security.py checks that company B's users find nothing of company A by
search; here company A's agent and manager aim at company B's records
directly (read, search by id, write, unlink, create into B, read_group,
the web client's calls), which is what a curious user with a record id does.
"""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SECRET_B, WhatsAppMixin

MODELS = ("wa.conversation", "wa.message", "wa.template", "wa.outbound.queue", "wa.webhook.log")
# What an agent (WhatsApp: User) may read at all in their own company.
AGENT_MODELS = ("wa.conversation", "wa.message", "wa.template", "wa.outbound.queue")


@tagged("post_install", "-at_install")
class TestIsolation(WhatsAppMixin, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        only_a = {"company_id": cls.company_a.id, "company_ids": [(6, 0, cls.company_a.ids)]}
        cls.agent_a = new_test_user(cls.env, "iso_agent_a",
                                    groups="campotech_whatsapp.group_wa_user", **only_a)
        cls.manager_a = new_test_user(cls.env, "iso_manager_a",
                                      groups="campotech_whatsapp.group_wa_manager", **only_a)

    def setUp(self):
        super().setUp()
        # Company B's data, as the webhook and its managers create it.
        self.log_b = self.receive(
            self.inbound_payload(self.account_b, {"type": "text", "text": "Hola Córdoba"}),
            secret=SECRET_B)
        self.conversation_b = self.conversations(self.account_b)
        self.message_b = self.conversation_b.message_ids if "message_ids" in self.conversation_b \
            else self.env["wa.message"].search([("conversation_id", "=", self.conversation_b.id)])
        self.template_b = self.env["wa.template"].create(
            {"account_id": self.account_b.id, "name": "turno_cordoba"})
        self.queue_b = self.env["wa.outbound.queue"].create(
            {"account_id": self.account_b.id, "phone": "5493515557777"})
        self.records_b = {
            "wa.conversation": self.conversation_b, "wa.message": self.message_b,
            "wa.template": self.template_b, "wa.outbound.queue": self.queue_b,
            "wa.webhook.log": self.log_b,
        }
        for model, record in self.records_b.items():
            self.assertEqual(len(record), 1, model)
            self.assertEqual(record.company_id, self.company_b, model)

    def users(self, model):
        return (self.agent_a, self.manager_a) if model in AGENT_MODELS else (self.manager_a,)

    def test_company_a_cannot_read_or_find_company_b_records_by_id(self):
        for model, record in self.records_b.items():
            for user in self.users(model):
                as_user = self.env(user=user)[model]
                with self.subTest(model=model, user=user.login):
                    with self.assertRaises(AccessError):
                        as_user.browse(record.id).read(["company_id"])
                    self.assertFalse(as_user.search([("id", "=", record.id)]))
                    self.assertFalse(as_user.search_count([("company_id", "=", self.company_b.id)]))
                    groups = as_user.read_group([], ["company_id"], ["company_id"])
                    self.assertNotIn(self.company_b.id,
                                     [g["company_id"][0] for g in groups if g["company_id"]])

    def test_company_a_cannot_write_or_delete_company_b_records(self):
        writes = {"wa.conversation": {"status": "spam"}, "wa.message": {"body": "cambiado"},
                  "wa.template": {"name": "robado"}, "wa.outbound.queue": {"priority": 99},
                  "wa.webhook.log": {"error_message": "tocado"}}
        for model, record in self.records_b.items():
            for user in self.users(model):
                as_user = self.env(user=user)[model].browse(record.id)
                with self.subTest(model=model, user=user.login):
                    with self.assertRaises(AccessError):
                        as_user.write(writes[model])
                    with self.assertRaises(AccessError):
                        as_user.unlink()
        self.env.invalidate_all()
        self.assertEqual(self.conversation_b.status, "open")
        self.assertEqual(self.message_b.body, "Hola Córdoba")
        self.assertEqual(self.template_b.name, "turno_cordoba")
        self.assertTrue(all(record.exists() for record in self.records_b.values()))

    def test_company_a_cannot_create_records_inside_company_b(self):
        creations = {
            "wa.conversation": {"account_id": self.account_b.id, "wa_id": "5491100001111"},
            "wa.message": {"conversation_id": self.conversation_b.id, "direction": "outbound",
                           "message_type": "text", "body": "Hola desde A"},
            "wa.outbound.queue": {"account_id": self.account_b.id, "phone": "5491100001111"},
        }
        for model, values in creations.items():
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env(user=self.agent_a)[model].create(values)
        with self.assertRaises(AccessError):
            self.env(user=self.manager_a)["wa.template"].create(
                {"account_id": self.account_b.id, "name": "plantilla_ajena"})
        self.assertEqual(self.env["wa.message"].search_count(
            [("conversation_id", "=", self.conversation_b.id)]), 1)

    def test_company_a_cannot_read_company_b_account_or_its_secrets(self):
        for user in (self.agent_a, self.manager_a):
            with self.assertRaises(AccessError):
                self.env(user=user)["wa.account"].browse(self.account_b.id).read(["name"])
            self.assertFalse(self.env(user=user)["wa.account"].search([("id", "=", self.account_b.id)]))

    # --- the web client's own calls (JSON-RPC) --------------------------------------------

    def call_kw(self, model, method, args, kwargs=None):
        response = self.json_rpc(model, method, args, kwargs)
        return response.json()

    def test_json_rpc_as_company_a_manager_returns_nothing_of_company_b(self):
        self.receive(self.inbound_payload(self.account_a, {"type": "text", "text": "Hola Buenos Aires"}))
        self.authenticate("iso_manager_a", "iso_manager_a")
        for model, record in self.records_b.items():
            with self.subTest(model=model):
                listed = self.call_kw(model, "web_search_read", [[]], {
                    "specification": {"id": {}, "company_id": {"fields": {}}}})
                self.assertIn("result", listed, listed)
                ids = [row["id"] for row in listed["result"]["records"]]
                self.assertNotIn(record.id, ids)
                self.assertFalse([row for row in listed["result"]["records"]
                                  if row["company_id"] and row["company_id"]["id"] == self.company_b.id])
                for method, args, kwargs in (
                        ("web_read", [[record.id]], {"specification": {"display_name": {}}}),
                        ("read", [[record.id], ["company_id"]], {}),
                        ("write", [[record.id], {"priority": 1} if model == "wa.outbound.queue"
                                   else {"error_message": "x"} if model == "wa.webhook.log"
                                   else {"status": "spam"} if model == "wa.conversation"
                                   else {"body": "x"} if model == "wa.message"
                                   else {"name": "x"}], {}),
                        ("unlink", [[record.id]], {})):
                    answer = self.call_kw(model, method, args, kwargs)
                    self.assertNotIn("result", answer, "%s %s answered %s" % (model, method, answer))
                    self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError",
                                     "%s %s" % (model, method))
        # The same user does see their own company's conversation through the same calls.
        own = self.call_kw("wa.conversation", "web_search_read", [[]], {"specification": {"id": {}}})
        self.assertTrue(own["result"]["records"])
        self.assertTrue(self.conversation_b.exists())
        self.assertEqual(self.conversation_b.status, "open")
