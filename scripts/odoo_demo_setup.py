#!/usr/bin/env python3
"""scripts/run's second half: make a running Odoo talk to the simulator it started.

Once Odoo answers: create (or update) the WhatsApp account of the user's current company with
the simulator's Graph URL, access token, app secret, phone number id, WABA id and verify token
(over XML-RPC, as that user), check Meta's webhook handshake against Odoo with that token, then
let a few customers write from the simulator (texts and a photo) and wait until Odoo shows their
conversations. Prints what it did; exits non-zero, saying why, if any of it did not happen.

    python scripts/odoo_demo_setup.py --odoo http://127.0.0.1:8069 --db campotech \
        --sim http://127.0.0.1:8765 [--login admin --password admin]
"""

import argparse
import os
import sys
import time
import xmlrpc.client

import requests

# Customers who write as soon as Odoo is up: two people, a text each and a photo.
CUSTOMERS = (
    {"from": "5491155556666", "name": "Juana Pérez", "type": "text",
     "text": "Hola, se rompió el calefón. ¿Pueden venir esta semana?"},
    {"from": "5491155556666", "name": "Juana Pérez", "type": "image",
     "caption": "Así quedó la pérdida"},
    {"from": "5493515557777", "name": "Carlos Gómez", "type": "text",
     "text": "Buenas, quiero un presupuesto para instalar un aire acondicionado."},
)


class SetupFailed(Exception):
    """One step did not happen; the message says which and why."""


def say(text):
    print("run: %s" % text, flush=True)


def alive(pid):
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def wait_for_odoo(odoo, db, login, password, timeout, pid=None):
    """Wait for /web/health, then for the database's registry (a login that works)."""
    deadline = time.monotonic() + timeout
    common = xmlrpc.client.ServerProxy("%s/xmlrpc/2/common" % odoo, allow_none=True)
    healthy, last_error = False, "no answer yet"
    while time.monotonic() < deadline:
        if not alive(pid):
            raise SetupFailed("Odoo (pid %d) exited before it answered: see its log above" % pid)
        try:
            if not healthy:
                healthy = requests.get("%s/web/health" % odoo, timeout=5).status_code == 200
            if healthy:
                # Answers once the registry is loaded (install/update done).
                uid = common.authenticate(db, login, password, {})
                if uid:
                    return uid
                raise SetupFailed(
                    "Odoo refused the login %r on database %s: set CAMPOTECH_ODOO_LOGIN and "
                    "CAMPOTECH_ODOO_PASSWORD to an administrator's" % (login, db))
        except (requests.RequestException, OSError, xmlrpc.client.ProtocolError) as exc:
            last_error = "%s: %s" % (type(exc).__name__, exc)
        except xmlrpc.client.Fault as exc:
            last_error = exc.faultString.strip().splitlines()[-1]
        time.sleep(1)
    raise SetupFailed("Odoo at %s did not answer for database %s within %d s (%s)" % (
        odoo, db, timeout, last_error))


class Odoo:
    def __init__(self, odoo, db, uid, password):
        self.db, self.uid, self.password = db, uid, password
        self.proxy = xmlrpc.client.ServerProxy("%s/xmlrpc/2/object" % odoo, allow_none=True)

    def call(self, model, method, *args, **kwargs):
        return self.proxy.execute_kw(self.db, self.uid, self.password, model, method,
                                     list(args), kwargs)


def upsert_account(odoo, settings):
    """The current company's wa.account, pointed at the simulator; returns (id, created)."""
    user = odoo.call("res.users", "read", [odoo.uid], ["company_id"])[0]
    company_id, company_name = user["company_id"]
    values = {
        "name": "Simulator (%s)" % settings["display_phone_number"],
        "active": True,
        "graph_url": settings["graph_url"],
        "api_version": settings["api_version"],
        "access_token": settings["access_token"],
        "app_secret": settings["app_secret"],
        "phone_number_id": settings["phone_number_id"],
        "waba_id": settings["waba_id"],
        "display_phone_number": settings["display_phone_number"],
        "webhook_verify_token": settings["verify_token"],
    }
    if settings.get("app_id"):  # an older simulator has none
        values["app_id"] = settings["app_id"]
    context = {"active_test": False}
    ids = odoo.call("wa.account", "search", [("company_id", "=", company_id)], context=context)
    if not ids:
        # The simulator's number may sit on another company's account from an earlier run.
        ids = odoo.call("wa.account", "search",
                        [("phone_number_id", "=", settings["phone_number_id"])], context=context)
    if ids:
        odoo.call("wa.account", "write", ids[:1], dict(values, company_id=company_id))
        return ids[0], False, company_name
    return odoo.call("wa.account", "create", dict(values, company_id=company_id)), True, company_name


def check_handshake(odoo_url, verify_token):
    """Meta's GET handshake, as the simulator (Meta) would do it against the account's token."""
    challenge = "campotech-%d" % time.time()
    answer = requests.get("%s/whatsapp/webhook" % odoo_url, timeout=10, params={
        "hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge})
    if answer.status_code != 200 or answer.text.strip() != challenge:
        raise SetupFailed("Odoo refused the webhook handshake with the simulator's verify token "
                          "(HTTP %s)" % answer.status_code)


def send_inbound(sim):
    sent = []
    for spec in CUSTOMERS:
        answer = requests.post("%s/_sim/inbound" % sim, json=spec, timeout=10)
        if not answer.ok:
            raise SetupFailed("the simulator refused an inbound message: %s" % answer.text[:200])
        sent.append(answer.json()["wamid"])
    return sent


def wait_for_conversations(odoo, sim, account_id, wamids, timeout):
    """Until every inbound message is a wa.message in Odoo (the webhook cron processed it)."""
    deadline = time.monotonic() + timeout
    found = 0
    while time.monotonic() < deadline:
        found = odoo.call("wa.message", "search_count", [("wamid", "in", wamids)])
        if found == len(wamids):
            return odoo.call("wa.conversation", "search_read", [("account_id", "=", account_id)],
                             fields=["display_name"], order="id")
        time.sleep(1)
    deliveries = requests.get("%s/_sim/deliveries" % sim, timeout=10).json()["data"]
    states = sorted({"%s: %s" % (d.get("kind"), d.get("state")) for d in deliveries})
    raise SetupFailed("after %d s Odoo holds %d of the %d messages the simulator sent "
                      "(webhook deliveries: %s; see WhatsApp > Configuration > Webhook Logs)" % (
                          timeout, found, len(wamids), ", ".join(states) or "none"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo", required=True, help="Odoo's URL, e.g. http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--sim", required=True, help="the simulator's URL")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds to wait for Odoo to install/update and answer")
    parser.add_argument("--pid", type=int, help="Odoo's process: stop waiting if it exits")
    args = parser.parse_args(argv)
    try:
        uid = wait_for_odoo(args.odoo, args.db, args.login, args.password, args.timeout, args.pid)
        odoo = Odoo(args.odoo, args.db, uid, args.password)
        settings = requests.get("%s/_sim/settings" % args.sim, timeout=10).json()
        account_id, created, company = upsert_account(odoo, settings)
        say("%s WhatsApp account %d of %s: Graph URL %s, phone number id %s, WABA %s" % (
            "created" if created else "updated", account_id, company, settings["graph_url"],
            settings["phone_number_id"], settings["waba_id"]))
        check_handshake(args.odoo, settings["verify_token"])
        say("webhook handshake with the simulator's verify token: ok")
        wamids = send_inbound(args.sim)
        say("the simulator sent %d customer messages (texts and a photo)" % len(wamids))
        conversations = wait_for_conversations(odoo, args.sim, account_id, wamids, 120)
        say("Odoo shows %d conversation(s): %s" % (
            len(conversations), "; ".join(c["display_name"] for c in conversations)))
    except SetupFailed as exc:
        say("FAILED — %s" % exc)
        return 1
    except (requests.RequestException, OSError, xmlrpc.client.Error) as exc:
        say("FAILED — %s: %s" % (type(exc).__name__, exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
