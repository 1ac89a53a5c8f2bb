"""Command line for the simulator: serve it, and poke a running one.

    python -m campotech_whatsapp.cloud.simulator serve --webhook-url http://127.0.0.1:8069/whatsapp/webhook
    python -m campotech_whatsapp.cloud.simulator inbound --from 5491155556666 --text "Hola"
    python -m campotech_whatsapp.cloud.simulator inbound --type image --file foto.jpg --caption "El equipo"
    python -m campotech_whatsapp.cloud.simulator fault --code 131026 --count 2
    python -m campotech_whatsapp.cloud.simulator approve --template encuesta_satisfaccion
    python -m campotech_whatsapp.cloud.simulator clock --advance 25h
    python -m campotech_whatsapp.cloud.simulator state
"""

import argparse
import base64
import json
import logging
import mimetypes
import os
import sys

import requests

from .. import constants as C
from .inbound import INBOUND_TYPES
from .server import DEFAULTS, Simulator

DEFAULT_PORT = 8765
DEFAULT_SIM = "http://127.0.0.1:%d" % DEFAULT_PORT
CLI_STATUS_DELAYS = "0.5,1.5,3.0"


def _seconds(text):
    """'90', '15m', '25h', '2d' -> seconds."""
    text = str(text).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _delays(text):
    values = [v.strip() for v in text.split(",")]
    if len(values) != 3:
        raise argparse.ArgumentTypeError("give three delays: sent,delivered,read (use - to skip one)")
    return [None if v in ("-", "") else float(v) for v in values]


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m campotech_whatsapp.cloud.simulator",
        description="A local Meta WhatsApp Cloud API: no Meta account needed.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the simulator",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0: any free port)")
    serve.add_argument("--webhook-url", default=None,
                       help="where to POST signed webhooks, e.g. http://127.0.0.1:8069/whatsapp/webhook")
    serve.add_argument("--access-token", default=DEFAULTS["access_token"], help="bearer token to accept")
    serve.add_argument("--app-secret", default=DEFAULTS["app_secret"], help="signs the webhooks")
    serve.add_argument("--verify-token", default=DEFAULTS["verify_token"],
                       help="webhook verify token for the GET handshake")
    serve.add_argument("--phone-number-id", default=DEFAULTS["phone_number_id"])
    serve.add_argument("--waba-id", default=DEFAULTS["waba_id"], help="WhatsApp Business Account id")
    serve.add_argument("--display-phone-number", default=DEFAULTS["display_phone_number"])
    serve.add_argument("--verified-name", default=DEFAULTS["verified_name"])
    serve.add_argument("--mps", type=float, default=DEFAULTS["mps"],
                       help="messages per second before error 130429")
    serve.add_argument("--pair-rate-seconds", type=float, default=None,
                       help="enable error 131056: one message per N s to the same customer")
    serve.add_argument("--status-delays", type=_delays, default=CLI_STATUS_DELAYS,
                       help="seconds until the sent,delivered,read webhooks ('-' skips one)")
    serve.add_argument("--out-of-order", action="store_true", help="deliver statuses in reverse order")
    serve.add_argument("--duplicate", action="store_true", help="deliver every status twice")
    serve.add_argument("--media-url-ttl", type=float, default=DEFAULTS["media_url_ttl"],
                       help="seconds a media download URL stays valid")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow binding to a non-loopback address (exposes the control endpoints)")
    serve.add_argument("--no-verify", action="store_true",
                       help="skip the webhook GET handshake at start-up")
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request")

    inbound = sub.add_parser("inbound", help="a customer sends a message")
    inbound.add_argument("--sim", default=DEFAULT_SIM, help="simulator URL")
    inbound.add_argument("--from", dest="sender", default="5491155556666", help="customer wa_id")
    inbound.add_argument("--name", default="Juana Pérez", help="customer profile name")
    inbound.add_argument("--type", default="text", choices=INBOUND_TYPES)
    inbound.add_argument("--text", help="text body (text, button, order note)")
    inbound.add_argument("--caption")
    inbound.add_argument("--file", help="media content to send (image, document, audio, video, sticker)")
    inbound.add_argument("--mime-type")
    inbound.add_argument("--filename")
    inbound.add_argument("--reply-to", help="wamid this message answers")
    inbound.add_argument("--user-id", help="business-scoped user id, e.g. AR.1234567890")
    inbound.add_argument("--username", help="WhatsApp username shown instead of the number")
    inbound.add_argument("--username-only", action="store_true",
                         help="send without a phone number (needs --user-id)")
    inbound.add_argument("--json", help="extra spec fields as JSON, or a full message under \"message\"")

    fault = sub.add_parser("fault", help="make coming Graph requests fail")
    fault.add_argument("--sim", default=DEFAULT_SIM)
    fault.add_argument("--code", type=int, help="Meta error code, e.g. 131026, 130429, 190")
    fault.add_argument("--http-status", type=int)
    fault.add_argument("--count", type=int, default=1)
    fault.add_argument("--path", help="only requests whose path contains this (e.g. messages)")
    fault.add_argument("--delay", type=float, help="seconds to wait before answering")
    fault.add_argument("--drop", action="store_true", help="close the connection without an answer")
    fault.add_argument("--async", dest="late", action="store_true",
                       help="accept the send, then deliver a failed status with --code")
    fault.add_argument("--details")

    approve = sub.add_parser("approve", help="Meta's review: approve (or reject) a template")
    approve.add_argument("--sim", default=DEFAULT_SIM)
    approve.add_argument("--template", required=True)
    approve.add_argument("--language")
    approve.add_argument("--event", default="APPROVED",
                         help="APPROVED, REJECTED, PAUSED, DISABLED, …")
    approve.add_argument("--reason")

    clock = sub.add_parser("clock", help="move the simulator's clock forward")
    clock.add_argument("--sim", default=DEFAULT_SIM)
    clock.add_argument("--advance", required=True, type=_seconds, help="e.g. 3600, 90m, 25h, 2d")

    for name, text in (("state", "print messages, templates, windows, faults"),
                       ("deliveries", "print the webhook delivery log"),
                       ("settings", "print what to paste into Odoo"),
                       ("reset", "forget everything")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--sim", default=DEFAULT_SIM)
    return parser


def _settings_text(settings):
    rows = [
        ("Graph API URL", settings["graph_url"]),
        ("API version", settings["api_version"]),
        ("Access token", settings["access_token"]),
        ("Phone number ID", settings["phone_number_id"]),
        ("WhatsApp Business Account ID", settings["waba_id"]),
        ("App secret", settings["app_secret"]),
        ("Webhook verify token", settings["verify_token"]),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join("  %-*s  %s" % (width, label, value) for label, value in rows)


def _serve(args):
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    sim = Simulator(
        args.host, args.port, access_token=args.access_token, app_secret=args.app_secret,
        verify_token=args.verify_token, phone_number_id=args.phone_number_id,
        waba_id=args.waba_id, display_phone_number=args.display_phone_number,
        verified_name=args.verified_name, webhook_url=args.webhook_url, mps=args.mps,
        pair_rate_seconds=args.pair_rate_seconds, status_delays=args.status_delays,
        out_of_order=args.out_of_order, duplicate=args.duplicate,
        media_url_ttl=args.media_url_ttl, allow_remote=args.allow_remote)
    sim.start()
    print("Meta Cloud API simulator listening on %s" % sim.url)
    print("Paste into Odoo (WhatsApp settings):")
    print(_settings_text(sim.client_settings()))
    if args.webhook_url:
        print("Webhooks: POST %s, signed with the app secret (X-Hub-Signature-256)" % args.webhook_url)
        if not args.no_verify:
            ok, detail = sim.verify_webhook()
            print("Webhook handshake: %s" % detail if ok else
                  "Webhook handshake failed: %s (is Odoo running with the same verify token?)" % detail)
    else:
        print("Webhooks: none configured (see them with: ... simulator deliveries)")
    print("A customer writes:  python -m campotech_whatsapp.cloud.simulator inbound --sim %s "
          "--from 5491155556666 --text \"Hola\"" % sim.url)
    print("Control endpoints:  GET %s/_sim/help        Ctrl+C stops." % sim.url)
    sys.stdout.flush()
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        print("\nsimulator stopped")
    return 0


def _post(sim_url, path, body):
    answer = requests.post(sim_url.rstrip("/") + path, json=body, timeout=10)
    return _show(answer)


def _show(answer):
    try:
        data = answer.json()
    except ValueError:
        data = answer.text
    print(json.dumps(data, indent=2, ensure_ascii=False) if not isinstance(data, str) else data)
    return 0 if answer.ok else 1


def _inbound(args):
    spec = {"from": args.sender, "name": args.name, "type": args.type}
    for key in ("text", "caption", "filename", "mime_type", "user_id", "username"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    if args.reply_to:
        spec["reply_to"] = args.reply_to
    if args.username_only:
        spec["username_only"] = True
    if args.file:
        with open(args.file, "rb") as handle:
            spec["content_b64"] = base64.b64encode(handle.read()).decode()
        spec.setdefault("filename", os.path.basename(args.file))
        spec.setdefault("mime_type", mimetypes.guess_type(args.file)[0] or "application/octet-stream")
    if args.json:
        spec.update(json.loads(args.json))
    return _post(args.sim, "/_sim/inbound", spec)


def _fault(args):
    spec = {"count": args.count}
    for key, value in (("code", args.code), ("http_status", args.http_status),
                       ("delay", args.delay), ("details", args.details)):
        if value is not None:
            spec[key] = value
    if args.drop:
        spec["drop"] = True
    if args.late:
        spec["async"] = True
        spec.setdefault("code", C.ERR_UNDELIVERABLE)
    if args.path:
        spec["match"] = {"path": args.path}
    return _post(args.sim, "/_sim/faults", spec)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "inbound":
            return _inbound(args)
        if args.command == "fault":
            return _fault(args)
        if args.command == "approve":
            body = {"name": args.template, "event": args.event}
            if args.language:
                body["language"] = args.language
            if args.reason:
                body["reason"] = args.reason
            return _post(args.sim, "/_sim/templates/status", body)
        if args.command == "clock":
            return _post(args.sim, "/_sim/clock", {"advance": args.advance})
        if args.command == "reset":
            return _post(args.sim, "/_sim/reset", {})
        path = {"state": "/_sim/state", "deliveries": "/_sim/deliveries",
                "settings": "/_sim/settings"}[args.command]
        return _show(requests.get(args.sim.rstrip("/") + path, timeout=10))
    except requests.ConnectionError:
        print("cannot reach the simulator at %s (is `serve` running?)" % args.sim, file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
