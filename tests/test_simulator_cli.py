"""The simulator's command line as a newcomer meets it: every mistake gets one clear line.

Each test runs the real CLI (``cli.main`` or ``python -m``) against a real simulator, a real
occupied port or a real web server that is not the simulator.
"""

import ast
import base64
import hashlib
import io
import json
import re
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from campotech_whatsapp.cloud import crypto, demo
from campotech_whatsapp.cloud.simulator import DEFAULTS, cli
from campotech_whatsapp.cloud.simulator.receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv):
    """(exit code, stdout, stderr) of one CLI call; argparse errors exit with 2."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# --- serve: bad ports, hosts, URLs ------------------------------------------------------

@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_serve_refuses_a_port_that_is_no_tcp_port(capsys, port):
    code, _, err = run_cli(capsys, "serve", "--port", port)
    assert code == 2
    assert "argument --port" in err and "Traceback" not in err


def test_serve_on_a_port_in_use_names_it_and_says_what_to_do(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(capsys, "serve", "--port", str(port), "--no-verify")
    assert code == 2
    assert "port %d on 127.0.0.1 is already in use" % port in err
    assert "--port 0" in err and "CAMPOTECH_SIM_PORT" in err
    assert "Errno" not in err


def test_serve_on_a_public_host_points_at_the_allow_remote_flag(capsys):
    code, _, err = run_cli(capsys, "serve", "--host", "0.0.0.0", "--port", "0")
    assert code == 2
    assert "--allow-remote" in err and "allow_remote=True" not in err


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1/x", "http://"])
def test_serve_refuses_a_webhook_url_that_is_no_http_url(capsys, url):
    code, _, err = run_cli(capsys, "serve", "--port", "0", "--webhook-url", url)
    assert code == 2
    assert "is not an http(s) URL" in err


def test_settings_use_the_labels_of_the_odoo_account_form(simulator):
    text = cli._settings_text(simulator.client_settings())
    source = (ROOT / "campotech_whatsapp" / "models" / "wa_account.py").read_text()
    labels = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            first = node.value.args[0] if node.value.args else None
            string = next((k.value.value for k in node.value.keywords if k.arg == "string"), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and "." not in first.value:
                string = first.value
            # Odoo's label for a field without a string: its name, capitalized word by word.
            labels[name] = string or name.replace("_", " ").title().replace(" Id", " ID")
    for field in ("graph_url", "api_version", "access_token", "phone_number_id", "waba_id",
                  "app_secret", "webhook_verify_token"):
        assert re.search(r"^  %s {2,}\S" % re.escape(labels[field]), text, re.M), (labels[field], text)
    assert "Graph API URL" not in text and "API version" not in text


# --- the webhook handshake at start-up ----------------------------------------------------

def test_handshake_failure_when_odoo_is_not_running_says_start_it_or_no_verify(sim_factory):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d/whatsapp/webhook" % probe.getsockname()[1]
    sim = sim_factory(webhook_url=url)
    ok, detail = sim.verify_webhook(timeout=2)
    assert not ok
    args = cli._parser().parse_args(["serve", "--webhook-url", url])
    text = cli._handshake_help(detail, args)
    assert "start Odoo first" in text and "--no-verify" in text


def test_handshake_failure_on_a_wrong_token_names_the_token_to_set(sim_factory):
    receiver = WebhookReceiver(DEFAULTS["app_secret"], verify_token="the-account-token").start()
    url = receiver.url
    try:
        sim = sim_factory(webhook_url=url)
        ok, detail = sim.verify_webhook(timeout=2)
    finally:
        receiver.stop()
    assert not ok and "HTTP 403" in detail
    args = cli._parser().parse_args(["serve", "--webhook-url", url])
    text = cli._handshake_help(detail, args)
    assert "Webhook Verify Token" in text and DEFAULTS["verify_token"] in text
    assert "--verify-token" in text and "--no-verify" in text


# --- fault -----------------------------------------------------------------------------------

def test_fault_without_an_effect_is_refused_and_nothing_is_queued(simulator, capsys):
    code, _, err = run_cli(capsys, "fault", "--sim", simulator.url, "--count", "2")
    assert code == 2 and "fault needs an effect" in err
    assert simulator.state()["faults"] == []


def test_fault_with_an_unknown_code_is_refused_unless_asked_for(simulator, capsys):
    code, _, err = run_cli(capsys, "fault", "--sim", simulator.url, "--code", "12345")
    assert code == 2 and "unknown Meta error code 12345" in err and "131026" in err
    assert simulator.state()["faults"] == []
    code, _, _ = run_cli(capsys, "fault", "--sim", simulator.url, "--code", "12345", "--any-code")
    assert code == 0 and simulator.state()["faults"][0]["code"] == 12345


@pytest.mark.parametrize("flags", [["--code", "131026"], ["--http-status", "503"], ["--delay", "0.1"],
                                   ["--drop"], ["--async"]])
def test_fault_with_one_effect_is_queued(simulator, capsys, flags):
    code, _, _ = run_cli(capsys, "fault", "--sim", simulator.url, *flags)
    assert code == 0 and len(simulator.state()["faults"]) == 1


# --- --sim pointing at the wrong thing ------------------------------------------------------

class _HtmlPage(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self._page()

    def do_POST(self):  # noqa: N802
        self._page()

    def _page(self):
        body = b"<html><body><h1>Odoo</h1>" + b"x" * 2000 + b"</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def not_the_simulator():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("argv", [["state"], ["inbound", "--text", "Hola"], ["fault", "--code", "131026"],
                                  ["approve", "--template", "encuesta_satisfaccion"]])
def test_a_sim_url_that_is_not_the_simulator_is_named_not_dumped(capsys, not_the_simulator, argv):
    code, out, err = run_cli(capsys, *argv[:1], "--sim", not_the_simulator, *argv[1:])
    assert code == 2
    assert "is not the simulator" in err and "text/html" in err
    assert "<html" not in out + err


def test_a_sim_url_that_is_no_url_is_refused(capsys):
    code, _, err = run_cli(capsys, "state", "--sim", "127.0.0.1:8765")
    assert code == 2 and "is not an http(s) URL" in err


# --- state ---------------------------------------------------------------------------------

def test_state_prints_a_short_summary_and_json_on_request(simulator, capsys):
    simulator.inbound({"from": "5491155556666", "name": "Juana", "text": "Hola, ¿vienen hoy?"})
    simulator.inbound({"from": "5491155556666", "type": "image", "caption": "El equipo"})
    code, out, _ = run_cli(capsys, "state", "--sim", simulator.url)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) < 20
    assert "inbound: 2 message(s)" in out and "text 'Hola, ¿vienen hoy?'" in out
    assert "image 'El equipo'" in out
    assert "templates: 5 (4 APPROVED, 1 PENDING)" in out
    assert "24 h windows: 1 open of 1" in out
    assert lines[-1] == "(state --json prints everything)"
    code, out, _ = run_cli(capsys, "state", "--sim", simulator.url, "--json")
    assert code == 0
    full = json.loads(out)
    assert len(full["inbound"]) == 2 and len(full["templates"]) == 5
    assert len(out.splitlines()) > 100


def test_state_summary_shows_sends_with_their_statuses():
    state = {"clock": 0, "config": {"phone_number_id": "1", "waba_id": "2", "webhook_url": None},
             "messages": [{"to": "5491155556666", "statuses": ["sent", "delivered"],
                           "body": {"type": "text", "text": {"body": "Vamos mañana " * 10}}}],
             "inbound": [], "windows": {}, "templates": [], "media": [], "reads": [],
             "faults": [], "pending_deliveries": 0}
    text = cli.state_summary(state, "http://sim")
    assert "sent: 1 message(s)" in text
    assert "to 5491155556666: text 'Vamos mañana Vamos mañana Vamos mañana…' [sent, delivered]" in text


# --- the README's examples ------------------------------------------------------------------

def test_the_readme_approve_example_approves_a_template_waiting_for_review(simulator, capsys):
    readme = (ROOT / "README.md").read_text()
    names = re.findall(r"simulator approve .*--template (\S+)", readme)
    assert names
    for name in names:
        assert simulator.store.find_template(name)["status"] != "APPROVED", name
        code, _, _ = run_cli(capsys, "approve", "--sim", simulator.url, "--template", name)
        assert code == 0 and simulator.store.find_template(name)["status"] == "APPROVED"


# --- crypto and demo command lines ---------------------------------------------------------

def test_crypto_help_prints_help_and_no_key():
    done = subprocess.run([sys.executable, "-m", "campotech_whatsapp.cloud.crypto", "--help"],
                          cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    assert "usage:" in done.stdout and "campotech_whatsapp_key" in done.stdout
    assert not re.search(r"^[A-Za-z0-9_-]{43}=$", done.stdout, re.M)


def test_crypto_without_arguments_prints_one_usable_key():
    done = subprocess.run([sys.executable, "-m", "campotech_whatsapp.cloud.crypto"],
                          cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    key = done.stdout.strip()
    assert crypto.TokenCipher(crypto.load_keys(key)).decrypt(
        crypto.TokenCipher(crypto.load_keys(key)).encrypt("x")) == "x"


def test_crypto_refuses_unknown_arguments():
    done = subprocess.run([sys.executable, "-m", "campotech_whatsapp.cloud.crypto", "--bogus"],
                          cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2 and done.stdout == ""


def test_demo_step_5_shows_the_sha256_in_one_encoding_on_both_sides():
    out = io.StringIO()
    assert demo.main([], out=out) == 0
    step = out.getvalue().split("5. Download the photo", 1)[1].splitlines()[1]
    digests = re.findall(r"sha256 ([0-9a-f]{12})… matches the webhook's ([0-9a-f]{12})…", step)
    assert digests and digests[0][0] == digests[0][1], step


def test_hex_digest_reads_hex_and_meta_base64_alike():
    digest = hashlib.sha256(b"photo").digest()
    assert demo.hex_digest(base64.b64encode(digest).decode()) == digest.hex()
    assert demo.hex_digest(base64.urlsafe_b64encode(digest).decode().rstrip("=")) == digest.hex()
    assert demo.hex_digest(digest.hex().upper()) == digest.hex()
    assert demo.hex_digest("not a digest") == "not a digest"
