"""Benchmark 1: verify and parse one realistic webhook POST.

Two readers of one POST, each timed with the signature check it follows:

- the ack path (the controller, inside Meta's deadline): X-Hub-Signature-256
  over the raw bytes, ``events.routing_ids``, which reads only whose the
  webhook is, and ``webhook.body_text``, the log's readable copy: the
  engine's part of wa.webhook.log._receive;
- the processor (the cron, after the answer): ``events.parse_webhook``, the
  full typed parse. It is eager: every field the processor reads is built
  during the call, so its time is all of it.

Each is a multiple of ``json.loads`` of the same bytes, the floor of any
parser (issue #10: goal ≤ 2×). All figures come from one interleaved run
(each round calls every timed function once, in turn) so that a machine
shared with other work slows them alike and the ratios stay fair.
"""

import datetime
import json
import statistics
import time

from campotech_whatsapp.cloud import events, webhook
from campotech_whatsapp.cloud.events import types

from . import payloads
from .common import DEFAULT_BUDGET_S, MIN_SAMPLES, per_call_line

FULL_RUNS = 2000
QUICK_RUNS = 30
GOAL_RATIO_TO_JSON_LOADS = 2  # issue #10


def _check_payload(raw, header):
    """Fail loudly if the bench would time an error path instead of the real one."""
    webhook.check_signature(raw, header, payloads.APP_SECRET)
    batch = events.parse_webhook(raw)
    messages, statuses = list(batch.messages()), list(batch.statuses())
    unread = [m.type for m in messages if m.record_type == "unknown"]
    if len(messages) != 10 or len(statuses) != 3 or unread:
        raise RuntimeError("bench webhook parsed as %d messages, %d statuses (unreadable: %s)"
                           % (len(messages), len(statuses), unread))
    if events.routing_ids(raw).phone_number_ids != [payloads.PHONE_NUMBER_ID]:
        raise RuntimeError("bench webhook routes to no phone number id")
    return messages, statuses


def sample_interleaved_ns(fns, n, budget_s=DEFAULT_BUDGET_S):
    """{name: [ns per call]}: up to n rounds, each calling every fn once, after a warm-up.

    The order rotates every round, so no function always runs after the same
    one. Stops early (after MIN_SAMPLES rounds) once budget_s per function is spent.
    """
    names = list(fns)
    for _ in range(max(1, n // 10)):
        for name in names:
            fns[name]()
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * len(names) * 1e9)
    samples = {name: [] for name in names}
    for i in range(n):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            fn = fns[name]
            start = clock()
            fn()
            samples[name].append(clock() - start)
        if i + 1 >= MIN_SAMPLES and clock() > deadline:
            break
    return samples


_new = object.__new__
_set = object.__setattr__
_UTC = datetime.timezone.utc


def _typed_objects_only(data):
    """The batch's dataclasses built from the decoded dict with no reading rules at all.

    One frozen dataclass per change, contact, message and status, with its
    datetime, built the parser's cheapest way (types._frozen) from values
    copied unchecked, and nothing else (no metadata, media or context): the
    least any typed parse of this body costs in CPython, a lower bound.
    """
    changes = []
    for entry in data["entry"]:
        for change in entry["changes"]:
            value = change["value"]
            contacts = [types._frozen(types.Contact, {
                "wa_id": item["wa_id"], "user_id": item["user_id"],
                "profile_name": item["profile"]["name"], "username": None,
                "parent_user_id": None, "problem": None}) for item in value.get("contacts", ())]
            messages = [types._frozen(types.InboundMessage, {
                "id": item["id"], "wa_id": item["from"],
                "timestamp": datetime.datetime.fromtimestamp(int(item["timestamp"]), _UTC),
                "type": item["type"], "record_type": item["type"], "body_text": "",
                "metadata": {}, "media": None, "context": None, "reaction_to": None,
                "errors": [], "contact": contacts[0], "user_id": None,
                "phone_number_id": None, "raw": item, "problem": None})
                for item in value.get("messages", ())]
            statuses = [types._frozen(types.Status, {
                "id": item["id"], "status": item["status"],
                "timestamp": datetime.datetime.fromtimestamp(int(item["timestamp"]), _UTC),
                "recipient_id": item["recipient_id"], "recipient_user_id": None, "errors": [],
                "conversation": None, "pricing": None, "biz_opaque_callback_data": None,
                "phone_number_id": None, "raw": item, "problem": None})
                for item in value.get("statuses", ())]
            changes.append(types._frozen(types.Change, {
                "entry_id": entry["id"], "field": change["field"], "phone_number_id": None,
                "display_phone_number": None, "contacts": contacts, "messages": messages,
                "statuses": statuses, "errors": [], "template_update": None, "value": value,
                "problem": None}))
    return types._frozen(types.WebhookBatch, {"changes": changes, "raw": data})


def run(out, quick=False):
    runs = QUICK_RUNS if quick else FULL_RUNS
    raw, header = payloads.webhook_request()
    secret = payloads.APP_SECRET
    messages, statuses = _check_payload(raw, header)
    kinds = sorted({m.type for m in messages})
    decoded = json.loads(raw)

    def verify_and_parse():
        webhook.check_signature(raw, header, secret)
        return events.parse_webhook(raw)

    def verify_and_route():
        routing = events.routing_ids(raw)
        webhook.check_signature(raw, header, secret)
        webhook.body_text(raw)
        return routing

    samples = sample_interleaved_ns({
        "check_signature": lambda: webhook.check_signature(raw, header, secret),
        "json_loads": lambda: json.loads(raw),
        "routing_ids": lambda: events.routing_ids(raw),
        "parse_webhook": lambda: events.parse_webhook(raw),
        "verify_and_parse": verify_and_parse,
        "verify_and_route": verify_and_route,
        "typed_objects_only": lambda: _typed_objects_only(decoded),
    }, runs)

    out("[parse] one webhook POST: %d bytes, %d messages (%s) + %d statuses"
        % (len(raw), len(messages), ", ".join(kinds), len(statuses)))
    notes = {
        "json_loads": "stdlib reference, included in both parses",
        "routing_ids": "the ack path's parse: whose the webhook is",
        "parse_webhook": "the processor's full typed parse (eager: every field)",
        "verify_and_parse": "%.1f us per message (median)" % (
            statistics.median(samples["verify_and_parse"]) / 1e3 / len(messages)),
        "verify_and_route": "routing_ids + check_signature + body_text: the ack path's engine part",
        "typed_objects_only": "the batch's dataclasses from the decoded dict, nothing read",
    }
    for name, values in samples.items():
        out(per_call_line("parse." + name, values, "payloads", notes.get(name, "")))
    loads = samples["json_loads"]
    out(ratio_line(samples["verify_and_parse"], loads))
    out(ratio_line(samples["verify_and_route"], loads, name="verify_and_route",
                   what="the ack path"))
    out(floor_line(samples, loads))


def ratio_line(verify_and_parse_ns, json_loads_ns, name="verify_and_parse",
               what="the full typed parse"):
    """A timed function as a multiple of json.loads of the same bytes: the floor of any parser."""
    ratio = statistics.median(verify_and_parse_ns) / statistics.median(json_loads_ns)
    return "parse.%s_vs_json_loads: %.2f× json.loads of the same bytes, %s " \
           "(medians; goal ≤ %g×)" % (name, ratio, what, GOAL_RATIO_TO_JSON_LOADS)


def floor_line(samples, json_loads_ns):
    """Why the full typed parse stays above the goal: what its parts cost, in json.loads."""
    loads = statistics.median(json_loads_ns)

    def share(name):
        return statistics.median(samples[name]) / loads

    floor = 1 + share("check_signature") + share("typed_objects_only")
    return ("parse.floor: json.loads 1× + HMAC %.2f× + building the typed objects alone "
            "%.2f× = %.2f× before any field is read or checked; the typed reading is the "
            "rest (parse_webhook %.2f× minus json.loads 1×)"
            % (share("check_signature"), share("typed_objects_only"), floor,
               share("parse_webhook")))
