"""Benchmark 1: verify and parse one realistic webhook POST.

What the webhook controller does for every POST before it can answer Meta:
check X-Hub-Signature-256 over the raw bytes, then parse the body into
typed events. Each part is also timed alone, plus ``json.loads`` for scale.
"""

import json
import statistics

from campotech_whatsapp.cloud import events, webhook

from . import payloads
from .common import per_call_line, sample_ns

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
    return messages, statuses


def run(out, quick=False):
    runs = QUICK_RUNS if quick else FULL_RUNS
    raw, header = payloads.webhook_request()
    secret = payloads.APP_SECRET
    messages, statuses = _check_payload(raw, header)
    kinds = sorted({m.type for m in messages})

    def verify_and_parse():
        webhook.check_signature(raw, header, secret)
        return events.parse_webhook(raw)

    out("[parse] one webhook POST: %d bytes, %d messages (%s) + %d statuses"
        % (len(raw), len(messages), ", ".join(kinds), len(statuses)))
    out(per_call_line("parse.check_signature", sample_ns(
        lambda: webhook.check_signature(raw, header, secret), runs), "payloads"))
    loads = sample_ns(lambda: json.loads(raw), runs)
    out(per_call_line("parse.json_loads", loads, "payloads",
                      "stdlib reference, included in parse_webhook"))
    out(per_call_line("parse.parse_webhook", sample_ns(
        lambda: events.parse_webhook(raw), runs), "payloads"))
    samples = sample_ns(verify_and_parse, runs)
    per_message_us = sum(samples) / len(samples) / 1e3 / len(messages)
    out(per_call_line("parse.verify_and_parse", samples, "payloads",
                      "%.1f us per message" % per_message_us))
    out(ratio_line(samples, loads))


def ratio_line(verify_and_parse_ns, json_loads_ns):
    """verify+parse as a multiple of json.loads of the same bytes: the floor of any parser."""
    ratio = statistics.median(verify_and_parse_ns) / statistics.median(json_loads_ns)
    return "parse.verify_and_parse_vs_json_loads: %.2f× json.loads of the same bytes " \
           "(medians; goal ≤ %g×)" % (ratio, GOAL_RATIO_TO_JSON_LOADS)
