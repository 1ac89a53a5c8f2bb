"""Shared set-up for the Odoo tests: two companies, their accounts, and a
local Meta simulator on loopback standing in for Meta (HTTP to anything
but localhost is blocked in Odoo tests)."""

import json
import time
from unittest.mock import patch

from odoo.addons.bus.models.bus import channel_with_db, json_dump
from odoo.tests import TransactionCase, new_test_user
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


def wait_for(predicate, timeout=30.0, step=0.1):
    """Poll predicate until it holds or timeout seconds pass; returns its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


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

    @classmethod
    def company_user(cls, login, companies, groups="campotech_whatsapp.group_wa_user", **values):
        """A user working in ``companies`` (the first one current)."""
        return new_test_user(cls.env, login, groups=groups, company_id=companies[:1].id,
                             company_ids=[(6, 0, companies.ids)], **values)

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

    def json_rpc(self, model, method, args, kwargs=None):
        """The web client's own call (an HttpCase's session): the HTTP response."""
        response = self.url_open(
            "/web/dataset/call_kw/%s/%s" % (model, method),
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                "model": model, "method": method, "args": args, "kwargs": kwargs or {}}}),
            headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        return response

    def conversations(self, account):
        return self.env["wa.conversation"].search([("account_id", "=", account.id)])

    def outbound(self, account, wamid, state="sent", to="5491155556666"):
        """An outbound message as the queue will have stored it after Meta accepted it."""
        conversation = self.env["wa.conversation"].create({
            "account_id": account.id, "wa_id": to, "customer_phone": "+" + to})
        return self.env["wa.message"].create({
            "conversation_id": conversation.id, "direction": "outbound", "wamid": wamid,
            "message_type": "text", "body": "Hola, vamos mañana a las 9", "state": state})


def _contains(actual, expected):
    """Whether ``actual`` holds ``expected``: dicts by their given keys (recursively),
    anything else by equality."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _contains(actual[key], value) for key, value in expected.items())
    return actual == expected


class WhatsAppCase(WhatsAppMixin, TransactionCase):
    """A TransactionCase with the accounts and the simulator, plus assertions
    on what the addon stored, told the web clients and sent to Meta (in the
    manner of Odoo's ``sms/tests/common.py``). Use HttpCase with the mixin
    only where a test needs the HTTP server."""

    def assertWAMessage(self, message_or_domain, **expected):
        """Exactly one message (a record, or a wa.message domain) with these
        field values; many2one fields compare by record. Returns the message."""
        message = message_or_domain
        if isinstance(message_or_domain, list):
            message = self.env["wa.message"].sudo().search(message_or_domain)
        self.assertEqual(len(message), 1, "expected one WhatsApp message, found %s" % len(message))
        actual = {name: message[name] for name in expected}
        self.assertEqual(actual, expected, "WhatsApp message %s" % message.id)
        return message

    def assertBusNotified(self, notification_type, payload_subset, partner=None):
        """A bus notification of this type whose payload holds ``payload_subset``,
        sent to ``partner`` (any target when None), is waiting in bus.bus."""
        self.env.flush_all()
        self.env.cr.precommit.run()  # wa.bus and Odoo's bus create bus.bus rows at commit
        domain = []
        if partner is not None:
            domain = [("channel", "=", json_dump(channel_with_db(self.env.cr.dbname, partner)))]
        rows = self.env["bus.bus"].sudo().search(domain)
        messages = [json.loads(row.message) for row in rows]
        found = [m for m in messages if m.get("type") == notification_type]
        self.assertTrue(any(_contains(m.get("payload"), payload_subset) for m in found),
                        "no %s notification holding %s%s; sent: %s" % (
                            notification_type, payload_subset,
                            " to %s" % partner.display_name if partner is not None else "",
                            [m.get("payload") for m in found] or [m.get("type") for m in messages]))

    def assertGraphCalls(self, expected, reads=None):
        """The sends the simulator accepted, oldest first, each holding the
        matching subset in ``expected`` (keys of the recorded send: ``to``,
        ``type``, ``body`` — the request body — ...). ``reads``: the wamids
        marked read, when given."""
        state = self.simulator.state()
        sent = state["messages"]
        self.assertEqual(len(sent), len(expected), "Graph sends: %s" % [
            (m["type"], m["to"]) for m in sent])
        for position, (actual, subset) in enumerate(zip(sent, expected)):
            self.assertTrue(_contains(actual, subset), "send %s is %s, expected %s" % (
                position, actual, subset))
        if reads is not None:
            self.assertEqual([read["message_id"] for read in state["reads"]], list(reads))
        return sent
