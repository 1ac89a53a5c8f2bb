import functools
import logging

from odoo import api, models
from odoo.tools import OrderedSet

from ..cloud import broadcast

_logger = logging.getLogger(__name__)

EVENT_NEW_MESSAGE = "campotech_whatsapp/new-message"
EVENT_STATUS = "campotech_whatsapp/status-update"
EVENT_CONVERSATION = "campotech_whatsapp/conversation-update"
EVENT_TYPING = "campotech_whatsapp/typing"

_PENDING = "campotech_whatsapp.bus"
_PUSHER = "campotech_whatsapp.pusher"


def _pusher_submit(items_by_config):
    """After the commit: hand the transaction's events to the background sender."""
    for config, items in items_by_config.items():
        broadcast.BROADCASTER.submit(config, items)


class WaBus(models.AbstractModel):
    """Live updates of the WhatsApp screens over the Odoo bus.

    Changes are collected during the transaction and pushed once, just
    before commit (the bus itself only delivers after the commit, and
    nothing on rollback): a message created then marked sent in one
    transaction rings once, with its final state. Each event goes to the
    partners of the company's WhatsApp users only, never on a shared
    channel, so no other company ever receives it. A company that enabled
    Pusher on its account also gets each event on its Pusher channels,
    after the commit (cloud/broadcast.py).
    """

    _name = "wa.bus"
    _description = "WhatsApp Live Updates"

    @api.model
    def _audience(self, company):
        """Partners of the active internal users allowed to see ``company``'s conversations."""
        if not company:
            return self.env["res.partner"]
        group = self.env.ref("campotech_whatsapp.group_wa_user")
        users = self.env["res.users"].sudo().search([
            ("groups_id", "in", group.ids), ("company_ids", "in", company.ids), ("share", "=", False)])
        return users.partner_id

    @api.model
    def _send(self, company, event, payload):
        for partner in self._audience(company):
            partner._bus_send(event, payload)
        self._pusher_add(company, event, payload)

    @api.model
    def _pusher_add(self, company, event, payload):
        """Also send the event to the company's Pusher app after the commit, when enabled.

        Nothing is sent on rollback (postcommit), and nothing here may fail
        the transaction: a broken Pusher configuration costs a log line.
        """
        try:
            cr = self.env.cr
            data = cr.postcommit.data.setdefault(_PUSHER, {"configs": {}, "items": {}})
            if company.id not in data["configs"]:
                account = company.sudo().wa_account_id
                data["configs"][company.id] = account._pusher_config() if account else None
            config = data["configs"][company.id]
            if config is None:
                return
            if not data["items"]:
                cr.postcommit.add(functools.partial(_pusher_submit, data["items"]))
            data["items"].setdefault(config, []).extend(broadcast.event_items(
                company.id, payload.get("conversation_id"), event, payload, config.private))
        except Exception as error:  # a dashboard never breaks a transaction
            _logger.warning("Pusher broadcast of %s skipped: %s", event, type(error).__name__)

    @api.model
    def _queue(self, kind, records):
        """Remember that ``records`` changed; ``kind`` is ``message``, ``status`` or ``conversation``."""
        if not records:
            return
        cr = self.env.cr
        pending = cr.precommit.data.get(_PENDING)
        if pending is None:
            pending = cr.precommit.data[_PENDING] = {
                "message": OrderedSet(), "status": OrderedSet(), "conversation": OrderedSet()}
            cr.precommit.add(self.sudo()._flush_pending)
        pending[kind].update(records.ids)

    def _flush_pending(self):
        pending = self.env.cr.precommit.data.pop(_PENDING, None)
        if not pending:
            return
        Message = self.env["wa.message"].sudo()
        Conversation = self.env["wa.conversation"].sudo()
        new = Message.browse(pending["message"]).exists()
        changed = Message.browse(pending["status"]).exists() - new
        conversations = Conversation.browse(pending["conversation"]).exists()
        # A new message carries its conversation's summary: no second event.
        conversations -= new.conversation_id
        audiences = {}

        def send(company, event, payload):
            if company not in audiences:
                audiences[company] = self._audience(company)
            for partner in audiences[company]:
                partner._bus_send(event, payload)
            self._pusher_add(company, event, payload)

        for message in new:
            conversation = message.conversation_id
            send(message.company_id, EVENT_NEW_MESSAGE, {
                "conversation_id": conversation.id,
                "message": message._wa_client_format()[0],
                "conversation": conversation._wa_client_format()[0],
            })
        for message in changed:
            send(message.company_id, EVENT_STATUS, {
                "conversation_id": message.conversation_id.id,
                "message_id": message.id,
                "state": message.state,
                "message": message._wa_client_format()[0],
            })
        for conversation in conversations:
            send(conversation.company_id, EVENT_CONVERSATION, {
                "conversation_id": conversation.id,
                "conversation": conversation._wa_client_format()[0],
            })
