from odoo import models

from ..cloud import formatting, notifications as N


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "wa.record.mixin"]

    def _wa_notify_event(self, event):
        if event == N.INVOICE_READY:
            self.on_invoice_created()
        elif event == N.PAYMENT_RECEIVED:
            self.on_payment_received()

    def _wa_notify(self, event, **kwargs):
        return self.env["wa.notification"]._notify(self, event, **kwargs)

    def _wa_customer_invoices(self):
        return self.filtered(lambda move: move.move_type == "out_invoice" and move.partner_id)

    def on_invoice_created(self):
        """Send the posted invoice with its PDF and payment link (once per invoice number)."""
        for move in self._wa_customer_invoices().filtered(lambda m: m.state == "posted"):
            move._wa_notify(N.INVOICE_READY, marker=move.name)

    def on_payment_received(self, payment=False):
        """Thank the customer for a payment.

        The invoice becoming paid sends one message, even when Odoo passes
        through in_payment first; a payment given explicitly for an invoice
        still open sends its own.
        """
        for move in self._wa_customer_invoices():
            paid = move.payment_state in ("in_payment", "paid")
            values = {}
            if payment:
                currency = payment.currency_id
                values["amount"] = formatting.format_amount(
                    payment.amount, currency.symbol, currency.position, currency.decimal_places)
            move._wa_notify(N.PAYMENT_RECEIVED, values=values,
                            marker="payment-%s" % payment.id if payment and not paid else "paid")
