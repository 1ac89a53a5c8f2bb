"""The /_sim/ control endpoints: play the customer, Meta's reviewers and bad days.

Plain JSON in and out, no auth (the simulator listens on loopback only).
"""

import json

from .graph import Reply
from .payloads import GraphError

HELP = {
    "GET /_sim/health": "liveness",
    "GET /_sim/state": "sent messages (bodies), inbound, reads, templates, windows, media, faults",
    "GET /_sim/deliveries": "webhook delivery log (payload, attempts, state); ?kind=status:read",
    "GET /_sim/settings": "what to paste into Odoo (graph url, token, ids, app secret, verify token)",
    "POST /_sim/inbound": '{"from": "5491155556666", "name": "Juana", "type": "text", "text": "Hola"}',
    "POST /_sim/status": '{"wamid": "wamid...", "status": "failed", "code": 131026}',
    "POST /_sim/faults": '{"code": 131026, "http_status": 400, "count": 2, "match": {"path": "messages"}}'
                         ' | {"http_status": 503} | {"delay": 3.0} | {"drop": true} | {"async": true,'
                         ' "code": 131026}',
    "DELETE /_sim/faults": "clear pending faults",
    "POST /_sim/clock": '{"advance": 90000}',
    "POST /_sim/templates": '{"name", "language", "category", "body", "status"}: add a template',
    "POST /_sim/templates/status": '{"name": "turno_confirmado", "event": "APPROVED", "language"?,'
                                   ' "reason"?}: change it and deliver the webhook',
    "POST /_sim/config": '{"webhook_url", "app_secret", "mps", "status_delays", "out_of_order",'
                         ' "duplicate", "pair_rate_seconds", "media_url_ttl"}',
    "POST /_sim/reset": "forget everything, reseed templates",
}


def _ok(body, status=200):
    return Reply(status, body)


def _error(message, status=400):
    return Reply(status, {"error": str(message)})


def handle_control(sim, method, path, query, raw):
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return _error("body is not JSON")
    if not isinstance(body, dict) and not (path == "/_sim/faults" and isinstance(body, list)):
        return _error("body must be a JSON object")
    route = (method, path.rstrip("/"))
    try:
        return _route(sim, route, query, body)
    except GraphError as exc:
        return _error(exc.details or exc.message)
    except (ValueError, KeyError, TypeError) as exc:
        return _error(exc.args[0] if exc.args else exc)


def _route(sim, route, query, body):
    method, path = route
    if route == ("GET", "/_sim/health"):
        return _ok({"ok": True})
    if route in (("GET", "/_sim"), ("GET", "/_sim/help")):
        return _ok(HELP)
    if route == ("GET", "/_sim/state"):
        return _ok(sim.state())
    if route == ("GET", "/_sim/settings"):
        return _ok(sim.client_settings())
    if route == ("GET", "/_sim/deliveries"):
        items = sim.deliveries()
        if query.get("kind"):
            items = [d for d in items if d["kind"].startswith(query["kind"])]
        return _ok({"data": items, "pending": sim.deliverer.pending()})
    if route == ("POST", "/_sim/reset"):
        sim.reset()
        return _ok({"success": True})
    if path == "/_sim/clock":
        if method == "POST":
            if "advance" not in body:
                return _error("clock needs {\"advance\": seconds}")
            sim.advance(float(body["advance"]))
        return _ok({"now": sim.clock()})
    if path == "/_sim/faults":
        if method == "GET":
            return _ok({"data": sim.state()["faults"]})
        if method == "DELETE":
            with sim.store.lock:
                sim.store.faults.clear()
            return _ok({"success": True})
        specs = body if isinstance(body, list) else [body]
        return _ok({"data": [sim.fault(spec) for spec in specs]})
    if route == ("POST", "/_sim/inbound"):
        return _ok(sim.inbound_details(body))
    if route == ("POST", "/_sim/status"):
        if not body.get("wamid") or not body.get("status"):
            return _error("status needs wamid and status")
        delivery = sim.deliver_status(body["wamid"], body["status"], body.get("code"),
                                      body.get("details"), float(body.get("delay") or 0))
        return _ok({"delivery": delivery})
    if route == ("POST", "/_sim/templates"):
        for key in ("name", "language", "category", "body"):
            if not body.get(key):
                return _error("template needs %s" % key)
        template = sim.add_template(body["name"], body["language"], body["category"], body["body"],
                                    status=body.get("status", "APPROVED"))
        return _ok(template)
    if route == ("POST", "/_sim/templates/status"):
        if not body.get("name"):
            return _error("template status needs name")
        delivery = sim.set_template_status(body["name"], body.get("event") or body.get("status")
                                           or "APPROVED", body.get("language"), body.get("reason"))
        return _ok({"delivery": delivery})
    if path == "/_sim/config":
        if method == "POST":
            return _ok(sim.configure(**body))
        return _ok(sim.public_config())
    return _error("unknown control endpoint %s %s (see GET /_sim/help)" % (method, path), 404)
