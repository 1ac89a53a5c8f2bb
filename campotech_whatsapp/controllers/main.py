import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from ..cloud.constants import SIGNATURE_HEADER
from ..cloud.webhook import Outcome

_logger = logging.getLogger(__name__)

# What Meta is told. Anything but 200 makes it retry for days, so only a
# body no account's secret verifies, or one too large to read, gets one.
HTTP_ANSWERS = {
    Outcome.STORED: (200, "OK"),
    Outcome.REFUSED: (403, "Forbidden"),
    Outcome.TOO_LARGE: (413, "Payload Too Large"),
}


class WhatsAppWebhook(http.Controller):
    """Meta's webhook endpoint: verify, store, acknowledge. Nothing else.

    Processing happens in a cron woken by the stored log, so Meta gets its
    200 in milliseconds and no outbound HTTP runs inside this request.
    """

    @http.route("/whatsapp/webhook", type="http", auth="public", methods=["GET"],
                csrf=False, save_session=False)
    def verify(self, **params):
        challenge = request.env["wa.account"].sudo()._answer_challenge(
            params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge"))
        if challenge is None:
            _logger.warning("WhatsApp webhook verification refused (403): wrong verify token")
            return request.make_response("Forbidden", [("Content-Type", "text/plain")], status=403)
        return request.make_response(challenge, [("Content-Type", "text/plain")], status=200)

    # auth="none": Meta has no session and no user; the signature is what
    # authenticates, checked before anything is stored. It spares the public
    # user's lookup on every one of Meta's POSTs.
    # readonly=False: auth="none" routes default to a read-only cursor, and this one writes.
    @http.route("/whatsapp/webhook", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def receive(self, **_params):
        if not request.db:
            # auth="none" is served without a database too (several, no --db-filter).
            return request.make_response("Not Found", [("Content-Type", "text/plain")], status=404)
        # Cached: if Odoo replays the request after a serialization failure,
        # the body must still be there.
        raw_body = request.httprequest.get_data()
        signature = request.httprequest.headers.get(SIGNATURE_HEADER)
        env = request.env(user=SUPERUSER_ID)
        receipt = env["wa.webhook.log"]._receive(raw_body, signature)
        status, body = HTTP_ANSWERS[receipt.outcome]
        return request.make_response(body, [("Content-Type", "text/plain")], status=status)
