from odoo import models

from ..cloud import formatting, notifications as N

CONFIRMED = ("in_process", "paid")


class AccountPayment(models.Model):
    _inherit = "account.payment"

    def write(self, vals):
        res = super().write(vals)
        # action_post, action_validate and a state set by hand all write the state.
        if vals.get("state") in CONFIRMED and not self.env.context.get("wa_payment_deferred"):
            self.on_payment_confirmed()
        return res

    def _wa_customer_payments(self):
        return self.filtered(lambda pay: pay.partner_type == "customer" and pay.payment_type == "inbound"
                             and pay.partner_id and pay.state in CONFIRMED)

    def _wa_amount(self):
        currency = self.currency_id
        return formatting.format_amount(
            self.amount, currency.symbol, currency.position, currency.decimal_places)

    def on_payment_confirmed(self):
        """Thank the customer for a confirmed payment, once per payment.

        A payment that paid a customer invoice leaves it to the invoice,
        which thanks the customer when it becomes paid (see
        account.move.on_payment_received); one that pays nothing yet, or
        only part of an invoice, sends its own pago_recibido with its amount.
        """
        for payment in self._wa_customer_payments():
            if payment.reconciled_invoice_ids.filtered(
                    lambda move: move.move_type == "out_invoice"
                    and move.payment_state in ("in_payment", "paid")):
                continue
            self.env["wa.notification"]._notify(payment, N.PAYMENT_RECEIVED, values={
                "customer_name": payment.partner_id.name, "amount": payment._wa_amount()})

    def _wa_thanked(self):
        """The payments of self whose own pago_recibido went out (or is queued)."""
        entries = self.env["wa.notification"].sudo().search([
            ("event", "=", N.PAYMENT_RECEIVED), ("res_model", "=", self._name),
            ("res_id", "in", self.ids), ("state", "!=", "skipped")])
        return self.browse(entries.mapped("res_id"))
