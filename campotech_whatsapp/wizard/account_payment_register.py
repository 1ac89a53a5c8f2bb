from odoo import models


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    def _create_payments(self):
        # The wizard posts its payments before reconciling them with the
        # invoices: decide once the invoices know whether they are paid.
        payments = super(AccountPaymentRegister, self.with_context(wa_payment_deferred=True))._create_payments()
        payments.with_context(wa_payment_deferred=False).on_payment_confirmed()
        return payments
