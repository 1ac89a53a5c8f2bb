"""The pure parts of the Odoo benchmarks: payloads, log reading, commands, the load client.

The benches themselves need a real Odoo (``python -m bench --only odoo_ack``); here only
what can be checked without one, so CI covers the harness's logic.
"""

import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import odoo_bench, odoo_load, webhook_parse
from bench.__main__ import main
from bench.odoo_server import REPO_ROOT, OdooError, odoo_settings, server_command
from campotech_whatsapp.cloud import events, webhook

ACCOUNT = odoo_bench.ACCOUNT


def test_inbound_payload_is_a_signed_meta_webhook_with_new_wamids():
    senders = [odoo_load.customer(i) for i in (1, 2, 1)]
    payload, wamids = odoo_load.inbound_payload(ACCOUNT, senders, seq=7)
    raw, headers = odoo_load.signed(payload, "s3cret")
    webhook.check_signature(raw, headers["X-Hub-Signature-256"], "s3cret")
    batch = events.parse_webhook(raw)
    messages = list(batch.messages())
    assert [m.id for m in messages] == wamids
    assert len(set(wamids)) == 3
    assert [m.wa_id for m in messages] == [s[0] for s in senders]
    assert events.routing_ids(raw).phone_number_ids == [ACCOUNT["phone_number_id"]]
    # One contact per customer, as Meta sends it.
    assert len(payload["entry"][0]["changes"][0]["value"]["contacts"]) == 2
    _, other = odoo_load.inbound_payload(ACCOUNT, senders, seq=8)
    assert not set(other) & set(wamids)


def test_query_counts_reads_odoos_request_log_lines_per_target():
    lines = [
        '2026-12-01 23:26:01,726 22608 INFO db werkzeug: 127.0.0.1 - - [01/Dec/2026 23:26:01] '
        '"GET /web/health HTTP/1.1" 200 - 2 0.026 0.104',
        '2026-12-01 23:26:01,727 22608 INFO db werkzeug: 127.0.0.1 - - [01/Dec/2026 23:26:01] '
        '"POST /whatsapp/webhook?bench=1 HTTP/1.1" 200 - 14 0.012 0.034',
        '2026-12-01 23:26:01,728 22608 INFO db werkzeug: 127.0.0.1 - - [01/Dec/2026 23:26:01] '
        '"POST /whatsapp/webhook?bench=50 HTTP/1.1" 200 - 15 0.012 0.034',
        '2026-12-01 23:26:01,729 22608 INFO db odoo.addons.x: "POST /whatsapp/webhook" said',
    ]
    assert odoo_load.query_counts(lines, "/web/health") == [2]
    assert odoo_load.query_counts(lines, "/whatsapp/webhook?bench=1") == [14]
    assert odoo_load.query_counts(lines, "/whatsapp/webhook?bench=50") == [15]
    assert odoo_load.query_counts(lines, "/whatsapp/webhook") == []


def test_ratios_are_printed_beside_their_goal():
    assert odoo_load.ratio_text(30.0, 20.0, 1.5) == "1.50× floor (goal ≤ 1.5×)"
    assert odoo_load.ratio_text(40.0, 50.0, 0.8, higher_is_better=True) == \
        "80 % of floor (goal ≥ 80 %)"
    assert odoo_load.latency_text([1_000_000] * 99 + [9_000_000]) == \
        "p50 1.00 ms, p95 1.00 ms, p99 1.00 ms (n=100)"
    line = webhook_parse.ratio_line([300, 310, 290], [100, 100, 100])
    assert re.match(r"parse\.verify_and_parse_vs_json_loads: 3\.00× .*goal ≤ 2×", line)


def test_server_command_stays_on_loopback_and_off_the_default_ports(tmp_path):
    settings = {"python": "py", "bin": "odoo-bin", "config": "odoo.conf", "addons": "a,b"}
    single = server_command(settings, "db1", 8123, logfile=tmp_path / "log")
    assert "--http-interface=127.0.0.1" in single and "--http-port=8123" in single
    assert "--db-filter=^db1$" in single and "--workers=0" in single
    assert not [arg for arg in single if arg.startswith("--gevent-port")]
    prefork = server_command(settings, "db1", 8123, workers=2, cron_threads=2, gevent_port=9001)
    assert "--workers=2" in prefork and "--max-cron-threads=2" in prefork
    assert "--gevent-port=9001" in prefork


def test_odoo_settings_need_the_bin_variable(tmp_path):
    assert odoo_settings({}) is None
    with pytest.raises(OdooError):
        odoo_settings({"CAMPOTECH_ODOO_BIN": str(tmp_path / "missing")})
    odoo_bin = tmp_path / "odoo-bin"
    odoo_bin.write_text("")
    settings = odoo_settings({"CAMPOTECH_ODOO_BIN": str(odoo_bin), "CAMPOTECH_ODOO_TEMPLATE_DB": " t "})
    assert settings["template"] == "t"
    assert settings["addons"].split(",")[-1] == str(REPO_ROOT)  # the addon's folder


def test_odoo_benches_say_skipped_without_an_odoo(monkeypatch):
    for name in ("CAMPOTECH_ODOO_BIN", "CAMPOTECH_ODOO_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    stream = io.StringIO()
    out = main(["--quick", "--only", "odoo_ack", "--only", "odoo_inbound"], stream=stream)
    assert "[odoo_ack] skipped: no Odoo configured" in "\n".join(out.lines)
    assert "[odoo_inbound] skipped: no Odoo configured" in "\n".join(out.lines)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served = []

    def log_message(self, *_args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.served.append(body)
        status = 403 if body == b"bad" else 200
        # Every third answer closes the connection: the client must reconnect.
        close = len(self.served) % 3 == 0
        self.send_response(status)
        self.send_header("Content-Length", "2")
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"OK")
        self.close_connection = close

    do_GET = do_POST


def test_run_load_sends_everything_and_counts_non_200():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Handler.served = []
        requests = [("POST", "/x", b"ok-%d" % i, {}) for i in range(30)]
        requests += [("POST", "/x", b"bad", {})] * 2
        result = odoo_load.run_load("http://127.0.0.1:%d" % server.server_port, requests, threads=4)
    finally:
        server.shutdown()
        server.server_close()
    assert len(result.latencies_ns) == 32
    assert result.errors == 2
    assert sorted(b for b in _Handler.served if b.startswith(b"ok-")) == \
        sorted(r[2] for r in requests[:30])


def test_sql_trace_gives_each_sequential_request_its_statements():
    from bench.odoo_sql_trace import statements_per_request
    prefix = "2026-12-01 23:26:01,726 22608 "
    lines = [
        prefix + "DEBUG db odoo.sql_db: [0.101 ms] query: SELECT 1",
        prefix + 'INFO db werkzeug: 127.0.0.1 - - [x] "GET /web/health HTTP/1.1" 200 - 1 0.001 0.002',
        prefix + "DEBUG db odoo.sql_db: [0.201 ms] query: SELECT a",
        "   FROM b",
        prefix + "DEBUG db odoo.sql_db: [0.301 ms] query: INSERT INTO c VALUES (1)",
        prefix + "INFO db odoo.addons.x: something else",
        prefix + 'INFO db werkzeug: 127.0.0.1 - - [x] "POST /whatsapp/webhook HTTP/1.1" 200 - 2 0.1 0.2',
    ]
    traced = statements_per_request(lines)
    assert [sql for _line, sql in traced] == [["SELECT 1"], ["SELECT a FROM b", "INSERT INTO c VALUES (1)"]]
