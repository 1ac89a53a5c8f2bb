"""Helpers of the outbound (send side and queue) tests."""

from .common import WhatsAppMixin, wait_for

CUSTOMER = "5491155556666"


class OutboundMixin(WhatsAppMixin):

    def customer_writes(self, number=CUSTOMER, text="Hola, ¿vienen mañana?", account=None,
                        timestamp=None):
        """The customer writes: the window opens at the simulator and in Odoo."""
        account = account or self.account_a
        self.simulator.store.open_window(number)
        self.receive(self.inbound_payload(account, {"from": number, "type": "text", "text": text},
                                          timestamp=timestamp))
        return self.env["wa.conversation"].search(
            [("account_id", "=", account.id), ("wa_id", "=", number)], limit=1)

    def queue_items(self, conversation=None):
        domain = [("conversation_id", "=", conversation.id)] if conversation else []
        return self.env["wa.outbound.queue"].sudo().search(domain, order="id")

    def drain(self, **kwargs):
        return self.env["wa.outbound.queue"].sudo()._process_queue(**kwargs)

    def sent(self):
        """What the simulator accepted, oldest first."""
        return self.simulator.state()["messages"]

    def make_due(self, items=None):
        """The retry time of rescheduled items has come."""
        items = items if items is not None else self.queue_items()
        items.filtered(lambda i: i.state == "pending").write(
            {"scheduled_at": "2000-01-01 00:00:00"})

    wait_for = staticmethod(wait_for)
