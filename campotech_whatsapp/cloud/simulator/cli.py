"""Command line for the simulator: serve it, and poke a running one.

    python -m campotech_whatsapp.cloud.simulator serve --webhook-url http://127.0.0.1:8069/whatsapp/webhook
    python -m campotech_whatsapp.cloud.simulator inbound --from 5491155556666 --text "Hola"
    python -m campotech_whatsapp.cloud.simulator inbound --type image --file foto.jpg --caption "El equipo"
    python -m campotech_whatsapp.cloud.simulator fault --code 131026 --count 2
    python -m campotech_whatsapp.cloud.simulator approve --template encuesta_satisfaccion
    python -m campotech_whatsapp.cloud.simulator clock --advance 25h
    python -m campotech_whatsapp.cloud.simulator state          (--json: everything)

From a checkout, scripts/simulator runs this with the project's .venv.
"""

import argparse
import base64
import errno
import json
import logging
import mimetypes
import os
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import requests

from .. import constants as C
from .inbound import INBOUND_TYPES
from .payloads import ERROR_TITLES
from .server import DEFAULTS, SERVER_NAME, Simulator, is_loopback

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


def _port(text):
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a port number" % text) from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            "%d is not a TCP port: give 1-65535, or 0 for any free port" % port)
    return port


def _http_url(text):
    parts = urlsplit(str(text).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            "%r is not an http(s) URL, e.g. http://127.0.0.1:8069/whatsapp/webhook" % text)
    return parts.geturl()


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m campotech_whatsapp.cloud.simulator",
        description="A local Meta WhatsApp Cloud API: no Meta account needed.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the simulator",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (0: any free port)")
    serve.add_argument("--webhook-url", type=_http_url, default=None,
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
    fault.add_argument("--any-code", action="store_true",
                       help="accept a --code the simulator has no title for")

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

    for name, text in (("state", "summarize messages, templates, windows, faults (--json: all)"),
                       ("deliveries", "print the webhook delivery log"),
                       ("settings", "print what to paste into Odoo"),
                       ("reset", "forget everything")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--sim", default=DEFAULT_SIM)
    sub.choices["state"].add_argument("--json", action="store_true",
                                      help="print the whole state as JSON")
    return parser


def _settings_text(settings):
    rows = [
        # The labels of the wa.account form, so each value finds its field.
        ("Graph URL", settings["graph_url"]),
        ("Graph API Version", settings["api_version"]),
        ("Access Token", settings["access_token"]),
        ("Phone Number ID", settings["phone_number_id"]),
        ("WhatsApp Business Account ID", settings["waba_id"]),
        ("Meta App ID", settings["app_id"]),
        ("App Secret", settings["app_secret"]),
        ("Webhook Verify Token", settings["verify_token"]),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join("  %-*s  %s" % (width, label, value) for label, value in rows)


class UsageError(Exception):
    """A command line that cannot work: said in one line, exit code 2."""


def _start(sim, args):
    try:
        sim.start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                "port %d on %s is already in use (another simulator?): pick another with "
                "--port N, or --port 0 for any free port (under scripts/run: "
                "CAMPOTECH_SIM_PORT=N)" % (args.port, args.host)) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError("cannot bind to %s: no such address on this machine" % args.host) from None
        raise


def _serve(args):
    if not args.allow_remote and not is_loopback(args.host):
        raise UsageError(
            "--host %s is not a loopback address: the simulator has no authentication on its "
            "control endpoints; add --allow-remote to expose it on purpose" % args.host)
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
    _start(sim, args)
    print("Meta Cloud API simulator listening on %s" % sim.url)
    print("Paste into Odoo (WhatsApp settings):")
    print(_settings_text(sim.client_settings()))
    if args.webhook_url:
        print("Webhooks: POST %s, signed with the app secret (X-Hub-Signature-256)" % args.webhook_url)
        if not args.no_verify:
            ok, detail = sim.verify_webhook()
            print("Webhook handshake: %s" % detail if ok else _handshake_help(detail, args))
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


def _handshake_help(detail, args):
    """Meta's GET handshake failed: say what it means and what to do. The simulator keeps
    running and delivers webhooks anyway."""
    if detail.startswith("cannot reach"):
        why = ("nothing answers at %s: start Odoo first (scripts/run does both), or skip the "
               "check with --no-verify" % args.webhook_url)
    else:
        why = ("the webhook answered but refused the verify token: set the account's Webhook "
               "Verify Token in Odoo to %r (or start with --verify-token <the account's token>), "
               "or skip the check with --no-verify" % args.verify_token)
    return "Webhook handshake failed: %s.\n  %s. Webhooks are still sent." % (detail, why)


def _request(method, sim_url, path, body=None):
    """Call a running simulator's control endpoint; refuse an answer from anything else."""
    url = sim_url.rstrip("/") + path
    if not urlsplit(url).hostname or urlsplit(url).scheme not in ("http", "https"):
        raise UsageError("--sim %r is not an http(s) URL, e.g. %s" % (sim_url, DEFAULT_SIM))
    answer = requests.request(method, url, json=body, timeout=10)
    if not answer.headers.get("Server", "").startswith(SERVER_NAME + "/"):
        raise UsageError(
            "%s answered HTTP %s (%s) but is not the simulator: is --sim the URL `serve` "
            "printed (default %s)?" % (sim_url, answer.status_code,
                                       answer.headers.get("Content-Type", "no content type"),
                                       DEFAULT_SIM))
    return answer


def _post(sim_url, path, body):
    return _show(_request("POST", sim_url, path, body))


def _show(answer):
    try:
        data = answer.json()
    except ValueError:
        data = answer.text
    print(json.dumps(data, indent=2, ensure_ascii=False) if not isinstance(data, str) else data)
    return 0 if answer.ok else 1


def _when(epoch):
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _preview(body, width=40):
    """A sent or received message in a few words."""
    kind = body.get("type", "?")
    part = body.get(kind) if isinstance(body.get(kind), dict) else {}
    text = part.get("body") or part.get("caption") or part.get("name") or ""
    text = " ".join(str(text).split())
    text = text if len(text) <= width else text[:width - 1].rstrip() + "…"
    return "%s %r" % (kind, text) if text else kind


def state_summary(state, sim_url):
    """The few lines `state` prints by default (--json prints everything)."""
    cfg = state.get("config", {})
    lines = ["simulator %s, clock %s" % (sim_url, _when(state.get("clock", 0))),
             "  account: phone number id %s, WABA %s, webhooks to %s" % (
                 cfg.get("phone_number_id"), cfg.get("waba_id"), cfg.get("webhook_url") or "nowhere")]
    sent = state.get("messages", [])
    lines.append("  sent: %d message(s)" % len(sent))
    for record in sent[-3:]:
        lines.append("    to %s: %s [%s]" % (record.get("to"), _preview(record.get("body") or {}),
                                            ", ".join(record.get("statuses") or []) or "no status"))
    inbound = state.get("inbound", [])
    lines.append("  inbound: %d message(s)" % len(inbound))
    for message in inbound[-3:]:
        lines.append("    from %s: %s" % (message.get("from") or message.get("from_user_id"),
                                          _preview(message)))
    windows = state.get("windows", {})
    lines.append("  24 h windows: %d open of %d" % (
        sum(1 for w in windows.values() if w.get("open")), len(windows)))
    templates = state.get("templates", [])
    statuses = Counter(t.get("status") for t in templates)
    lines.append("  templates: %d (%s)" % (
        len(templates), ", ".join("%d %s" % (n, st) for st, n in sorted(statuses.items()))))
    lines.append("  media: %d, reads: %d, faults waiting: %d, webhooks waiting: %d" % (
        len(state.get("media", [])), len(state.get("reads", [])), len(state.get("faults", [])),
        state.get("pending_deliveries", 0)))
    lines.append("(state --json prints everything)")
    return "\n".join(lines)


def _state(args):
    answer = _request("GET", args.sim, "/_sim/state")
    if args.json or not answer.ok:
        return _show(answer)
    print(state_summary(answer.json(), args.sim))
    return 0


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
    if args.code is None and args.http_status is None and args.delay is None \
            and not args.drop and not args.late:
        raise UsageError("fault needs an effect: --code, --http-status, --delay, --drop or "
                         "--async (e.g. fault --code 131026)")
    if args.code is not None and args.code not in ERROR_TITLES and not args.any_code:
        raise UsageError("unknown Meta error code %d; the simulator knows %s (or add "
                         "--any-code to send it anyway)" % (
                             args.code, ", ".join(str(c) for c in sorted(ERROR_TITLES))))
    if args.count < 1:
        raise UsageError("--count must be 1 or more")
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
        if args.command == "state":
            return _state(args)
        path = {"deliveries": "/_sim/deliveries", "settings": "/_sim/settings"}[args.command]
        return _show(_request("GET", args.sim, path))
    except UsageError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    except requests.ConnectionError:
        print("cannot reach the simulator at %s (is `serve` running?)" % args.sim, file=sys.stderr)
        return 2
    except requests.RequestException as exc:
        print("error talking to the simulator at %s: %s" % (args.sim, exc), file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
