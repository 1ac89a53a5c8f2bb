"""Shared set-up for the Odoo tests: two companies, their accounts, and a
local Meta simulator on loopback standing in for Meta (HTTP to anything
but localhost is blocked in Odoo tests)."""

import time
from unittest.mock import patch

from odoo.tools import config

from ..cloud import webhook
from ..cloud.crypto import generate_key
from ..cloud.simulator import payloads
from ..cloud.simulator.inbound import build_message
from ..cloud.simulator.server import Simulator

KEY = generate_key()
SECRET_A = "app-secret-company-a"
TOKEN_A = "EAAG-token-company-a-0123456789"
SECRET_B = "app-secret-company-b"
TOKEN_B = "EAAG-token-company-b-9876543210"


class WhatsAppMixin:
    """Mix into a TransactionCase or HttpCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.dict(config.options, {"campotech_whatsapp_key": KEY}))
        cls.simulator = Simulator(access_token=TOKEN_A, app_secret=SECRET_A,
                                  phone_number_id="1001", waba_id="2001",
                                  display_phone_number="5491140000000",
                                  status_delays={"sent": None, "delivered": None, "read": None})
        cls.simulator.start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "CampoTech Córdoba"})
        cls.account_a = cls._account("Buenos Aires", cls.company_a, "1", TOKEN_A, SECRET_A)
        cls.account_b = cls._account("Córdoba", cls.company_b, "2", TOKEN_B, SECRET_B)

    @classmethod
    def _account(cls, name, company, suffix, token, secret):
        return cls.env["wa.account"].create({
            "name": name, "company_id": company.id,
            "phone_number_id": "100" + suffix, "waba_id": "200" + suffix,
            "graph_url": cls.simulator.graph_url,
            "access_token": token, "app_secret": secret,
            "webhook_verify_token": "verify-" + "ab"[int(suffix) - 1],
        })

    def setUp(self):
        super().setUp()
        self.simulator.reset()
        # Stop deliveries first, then drop what is queued: no webhook of one
        # test may reach the server during the next one.
        self.addCleanup(self.simulator.reset)
        self.addCleanup(self.simulator.configure, webhook_url=None)

    # --- payloads as Meta sends them ------------------------------------------

    def inbound_payload(self, account, spec, wamid=None, timestamp=None):
        """A messages webhook for one customer message built by the simulator."""
        spec = dict(spec)
        spec.setdefault("from", "5491155556666")
        message, contact = build_message(
            spec, wamid or payloads.new_wamid(spec.get("from")), timestamp or time.time(),
            self.simulator.store.store_media)
        value = payloads.messages_value(
            account.phone_number_id, account.display_phone_number or "5491140000000",
            contacts=[contact] if contact else None, messages=[message])
        return payloads.envelope(account.waba_id, "messages", value)

    def status_payload(self, account, wamid, status, timestamp=None, errors=None):
        item = payloads.status_object(wamid, status, timestamp or time.time(),
                                      "5491155556666", errors=errors)
        value = payloads.messages_value(account.phone_number_id, "5491140000000",
                                        statuses=[item])
        return payloads.envelope(account.waba_id, "messages", value)

    @staticmethod
    def encode(payload):
        return payload if isinstance(payload, bytes) else payloads.encode(payload)

    def receive(self, payload, secret=SECRET_A):
        """Store a signed webhook as the controller does and process it."""
        raw = self.encode(payload)
        receipt = self.env["wa.webhook.log"].sudo()._receive(raw, webhook.sign(raw, secret))
        self.assertEqual(receipt.outcome, webhook.Outcome.STORED)
        log = receipt.log
        log._process_safely()
        return log

    def conversations(self, account):
        return self.env["wa.conversation"].search([("account_id", "=", account.id)])

    def outbound(self, account, wamid, state="sent", to="5491155556666"):
        """An outbound message as the queue will have stored it after Meta accepted it."""
        conversation = self.env["wa.conversation"].create({
            "account_id": account.id, "wa_id": to, "customer_phone": "+" + to})
        return self.env["wa.message"].create({
            "conversation_id": conversation.id, "direction": "outbound", "wamid": wamid,
            "message_type": "text", "body": "Hola, vamos mañana a las 9", "state": state})
