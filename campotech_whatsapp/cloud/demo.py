"""The whole WhatsApp loop on one machine: no Meta account, no Odoo.

    python -m campotech_whatsapp.cloud.demo

Starts the Meta simulator and a small webhook receiver on loopback, then
plays a real conversation with the engine's own modules: a customer writes
(text and a photo), the business checks the signature, parses the webhook,
normalises the number, checks the 24 h window, downloads the photo, marks
it read, replies, and follows the delivery statuses. A day later the window
has closed: the free-form message is refused (131047) and an approved
template goes instead. Exits 0 only if every step happened.
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import string
import sys
import time

from . import builders, phone, templates, window
from .client import CloudClient, sha256_matches
from .errors import CloudApiError, ErrorClass
from .events import status_advances
from .simulator import Simulator
from .simulator.receiver import WebhookReceiver

CUSTOMER_TYPED = "+54 9 11 5555-6666"  # as the customer's WhatsApp shows it
CUSTOMER_IN_CRM = "011 15 5555-6666"  # as the office typed it into the customer record
CUSTOMER_NAME = "Juana Pérez"
APP_SECRET = "demo-app-secret"
VERIFY_TOKEN = "demo-verify-token"
WAIT = 3.0  # seconds any single step may wait for webhooks
FAST_STATUSES = {"sent": 0.05, "delivered": 0.1, "read": 0.2}


def hex_digest(digest):
    """A SHA-256 given as hex or base64 (Meta's webhooks), as lower-case hex; as given when
    it is neither."""
    digest = (digest or "").strip()
    if len(digest) == 64 and all(ch in string.hexdigits for ch in digest):
        return digest.lower()
    padded = digest + "=" * (-len(digest) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(padded)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return raw.hex()
    return digest


class StepFailed(Exception):
    """A step of the demo did not happen as expected."""


class Demo:
    """Runs the steps in order and logs them; stops at the first failure."""

    def __init__(self, out, sim_options=None):
        self.out = out
        self.sim_options = dict(sim_options or {})
        self.done = []
        self.sim = None
        self.receiver = None
        self.client = None
        self.facts = {}

    def log(self, text=""):
        print(text, file=self.out)
        self.out.flush()

    def check(self, condition, message):
        if not condition:
            raise StepFailed(message)

    def wait(self, predicate, what):
        value = self.receiver.wait_for(predicate, timeout=WAIT)
        self.check(value, "timed out after %.0f s waiting for %s" % (WAIT, what))
        return value

    def sim_now(self):
        return datetime.datetime.fromtimestamp(self.sim.clock(), tz=datetime.timezone.utc)

    # --- steps -----------------------------------------------------------------------
    def start(self):
        self.receiver = WebhookReceiver(APP_SECRET, verify_token=VERIFY_TOKEN).start()
        options = dict({"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN,
                        "status_delays": FAST_STATUSES}, **self.sim_options)
        self.sim = Simulator(webhook_url=self.receiver.url, **options).start()
        settings = self.sim.client_settings()
        self.client = CloudClient(settings["access_token"], settings["phone_number_id"],
                                  settings["waba_id"], base_url=settings["graph_url"], timeout=(2, 5))
        ok, detail = self.sim.verify_webhook()
        self.check(ok, "webhook handshake failed: %s" % detail)
        info = self.client.get_phone_number()
        self.check(info.get("code_verification_status") == "VERIFIED", "phone number not verified")
        return "simulator at %s, webhook %s verified; business number %s (%s)" % (
            self.sim.url, self.receiver.url, info["display_phone_number"], info["verified_name"])

    def customer_writes(self):
        digits = "".join(ch for ch in CUSTOMER_TYPED if ch.isdigit())
        self.sim.inbound({"from": digits, "name": CUSTOMER_NAME, "type": "text",
                          "text": "Hola, se rompió el aire acondicionado. ¿Pueden venir esta semana?"})
        self.sim.inbound({"from": digits, "name": CUSTOMER_NAME, "type": "image",
                          "caption": "Así está el equipo"})
        messages = self.wait(lambda r: len(r.messages()) >= 2 and r.messages(), "2 customer messages")
        for item in self.receiver.received:
            self.check(item.answer == 200, "a webhook was refused: %s" % item.error)
        by_type = {m.record_type: m for m in messages}
        self.check(set(by_type) == {"text", "image"},
                   "parsed %s, expected a text and an image" % sorted(by_type))
        text, image = by_type["text"], by_type["image"]
        self.facts.update(text=text, image=image)
        return "%d signed webhooks checked and parsed: %s said %r; then a photo: %r" % (
            len(self.receiver.received), text.contact.profile_name, text.body_text,
            image.media.caption)

    def match_customer(self):
        wa_id = self.facts["text"].wa_id
        e164 = phone.normalize("+" + wa_id)
        crm = phone.normalize(CUSTOMER_IN_CRM, region="AR")
        self.check(phone.same_customer(e164, crm),
                   "%s and %s should be one customer" % (e164, crm))
        self.facts["wa_id"] = wa_id
        return "wa_id %s -> %s; the customer record's %r is %s: same customer (key %s)" % (
            wa_id, e164, CUSTOMER_IN_CRM, crm, phone.canonical_key(e164))

    def window_open(self):
        state = window.window_state(self.facts["text"].timestamp, self.sim_now())
        self.check(state.open, "the 24 h window should be open after the customer wrote")
        self.check(window.can_send_freeform(self.facts["text"].timestamp, self.sim_now(), "text"),
                   "free-form text should be allowed")
        return "open, closes %s (in %s)" % (state.closes_at.strftime("%Y-%m-%d %H:%M UTC"),
                                            str(state.remaining).split(".")[0])

    def download_photo(self):
        media = self.facts["image"].media
        content, info = self.client.fetch_media(media.id, expected_sha256=media.sha256)
        self.check(sha256_matches(content, media.sha256), "sha256 mismatch")
        self.check(content.startswith(b"\x89PNG"), "the photo is not a PNG")
        # The webhook carries the digest base64-encoded: show both sides in hex, or equal
        # digests look like a mismatch.
        return "%d bytes of %s; sha256 %s… matches the webhook's %s… (both in hex)" % (
            len(content), info.mime_type, hashlib.sha256(content).hexdigest()[:12],
            hex_digest(media.sha256)[:12])

    def mark_read(self):
        self.check(self.client.mark_read(self.facts["image"].id, typing=True), "mark_read failed")
        reads = self.sim.state()["reads"]
        self.check(reads and reads[-1]["message_id"] == self.facts["image"].id, "read not recorded")
        return "blue ticks and 'typing…' shown to the customer"

    def reply(self):
        payload = builders.text(
            self.facts["wa_id"], "¡Hola Juana! Recibimos la foto. ¿Te viene bien el martes a las 10?",
            reply_to=self.facts["text"].id)
        result = self.client.send(payload)
        self.facts["reply"] = result.wamid
        return "sent as a reply to the customer's message: %s" % _short(result.wamid)

    def statuses(self, key="reply"):
        wamid = self.facts[key]
        got = self.wait(lambda r: len(r.statuses(wamid)) >= 3 and r.statuses(wamid),
                        "sent/delivered/read of %s" % _short(wamid))
        current = None
        for status in got:
            if status_advances(current, status.status):
                current = status.status
        self.check(current == "read", "final status %s, expected read" % current)
        return " -> ".join(s.status for s in got)

    def window_closes(self):
        self.sim.advance(25 * 3600)
        state = window.window_state(self.facts["text"].timestamp, self.sim_now())
        self.check(not state.open, "the window should be closed 25 h later")
        try:
            self.client.send(builders.text(self.facts["wa_id"], "¿Seguimos con el martes?"))
        except CloudApiError as exc:
            self.check(exc.code == 131047 and exc.error_class == ErrorClass.WINDOW_CLOSED,
                       "expected 131047/window_closed, got %s/%s" % (exc.code, exc.error_class))
            return "25 h later the window is closed; a free-form text got %s (%s)" % (
                exc.code, exc.error_class.value)
        raise StepFailed("a free-form message outside the window was accepted")

    def send_template(self):
        definition = next((t for t in self.client.list_templates()
                           if t["name"] == "turno_confirmado" and t["language"] == "es_AR"), None)
        self.check(definition and definition["status"] == "APPROVED",
                   "template turno_confirmado is not approved")
        values = {"1": "Juana", "2": "martes 14 a las 10:00"}
        components = templates.build_components(definition, values)
        result = self.client.send(builders.template(self.facts["wa_id"], "turno_confirmado",
                                                    "es_AR", components))
        self.facts["template"] = result.wamid
        preview = templates.render(definition, values).splitlines()[0]
        return "approved template turno_confirmado sent: %r" % preview

    def run(self):
        steps = [
            ("Start the Meta simulator and the webhook receiver", self.start),
            ("The customer writes (text and a photo)", self.customer_writes),
            ("Match the sender to the customer record", self.match_customer),
            ("Check the 24 h customer service window", self.window_open),
            ("Download the photo", self.download_photo),
            ("Mark the photo read", self.mark_read),
            ("Reply with a free-form text", self.reply),
            ("Follow the reply's delivery statuses", self.statuses),
            ("A day later: free-form is refused", self.window_closes),
            ("Send the approved template instead", self.send_template),
            ("Follow the template's delivery statuses", lambda: self.statuses("template")),
        ]
        started = time.monotonic()
        self.log("Campotech WhatsApp demo: the full loop against a local Meta simulator")
        self.log("")
        for number, (title, step) in enumerate(steps, 1):
            try:
                detail = step()
            except Exception as exc:  # any surprise is a failed step, reported as such
                self.log("[FAIL] %2d. %s\n          %s: %s" % (number, title, type(exc).__name__, exc))
                self.log("")
                self.log("Demo FAILED at step %d of %d." % (number, len(steps)))
                return 1
            self.done.append(title)
            self.log("[ ok ] %2d. %s\n          %s" % (number, title, detail))
        self.log("")
        self.log("All %d steps happened in %.1f s." % (len(steps), time.monotonic() - started))
        return 0

    def close(self):
        if self.client:
            self.client.close()
        if self.sim:
            self.sim.stop()
        if self.receiver:
            self.receiver.stop()


def _short(wamid):
    return wamid if len(wamid) <= 24 else wamid[:20] + "…"


def main(argv=None, out=None):
    argparse.ArgumentParser(prog="python -m campotech_whatsapp.cloud.demo",
                            description=__doc__.split("\n\n")[0]).parse_args(argv)
    out = out or sys.stdout
    demo = Demo(out)
    try:
        return demo.run()
    finally:
        demo.close()


if __name__ == "__main__":
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    sys.exit(main())
