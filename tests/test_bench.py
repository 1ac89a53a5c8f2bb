"""Smoke test of ``python -m bench``: every bench runs and prints its figure lines.

Only the shape of the output is checked, never a timing value: those
depend on the machine.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.common import percentile

REPO_ROOT = Path(__file__).resolve().parent.parent
NUM = r"[\d,.]+"
PER_CALL = r": median %s us, p95 %s us, %s %%s/s \(n=\d+\)" % (NUM, NUM, NUM)

EXPECTED = {
    "parse": [re.escape(name) + PER_CALL % "payloads" for name in (
        "parse.check_signature", "parse.json_loads", "parse.routing_ids", "parse.parse_webhook",
        "parse.verify_and_parse", "parse.verify_and_route", "parse.typed_objects_only")]
    + [r"parse\.%s_vs_json_loads: %s× json\.loads of the same bytes, .*\(medians; goal ≤ 2×\)$"
       % (name, NUM) for name in ("verify_and_parse", "verify_and_route")]
    + [r"parse\.floor: json\.loads 1× \+ HMAC %s× \+ building the typed objects alone %s× = %s×"
       % (NUM, NUM, NUM)],
    "build": [re.escape(name) + PER_CALL % "calls" for name in (
        "build.text", "build.media", "build.buttons", "build.list_message",
        "build.template_components", "build.template_components_from_dict",
        "build.template_send")],
    "roundtrip": [
        r"roundtrip\.paced cap=%d threads=%d: \d+ sends, %s sends/s \(\d+%% of cap\), "
        r"130429 errors: \d+, other errors: 0, latency p50 %s ms, p95 %s ms$"
        % (cap, threads, NUM, NUM, NUM)
        for cap in (80, 200) for threads in (1, 4)
    ] + [
        r"roundtrip\.burst cap=%d threads=4: \d+ unpaced sends in %s s \(%s sends/s\), "
        r"130429 errors: \d+, accepted: \d+ .*other errors: 0, latency p50 %s ms, p95 %s ms$"
        % (cap, NUM, NUM, NUM, NUM)
        for cap in (80, 200)
    ],
}

EXPECTED["drain"] = [
    r"drain cap=%d workers=\d+: \d+ messages in %s s, %s msg/s \(\d+%% of cap\), "
    r"130429 errors: \d+, other errors: \d+, sends per message: %s \(max \d+, missing \d+\)$"
    % (cap, NUM, NUM, NUM) for cap in (80, 1000)
] + [r"drain cap=%d time: process CPU %s s for %s s wall .*worker time: .*http" % (cap, NUM, NUM)
     for cap in (80, 1000)]


def run_quick(*only):
    stream = io.StringIO()
    argv = ["--quick"] + [arg for name in only for arg in ("--only", name)]
    out = main(argv, stream=stream)
    assert stream.getvalue().splitlines() == out.lines
    return out.lines


def assert_has_lines(lines, patterns):
    for pattern in patterns:
        matching = [line for line in lines if re.match(pattern, line)]
        assert len(matching) == 1, "no single line matches %r in:\n%s" % (
            pattern, "\n".join(lines))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bench_prints_its_figure_lines(name):
    lines = run_quick(name)
    assert_has_lines(lines, EXPECTED[name])
    others = set(EXPECTED) - {name}
    assert not [line for line in lines if line.split(".")[0] in others]
    assert lines[-1].startswith("done: %s in " % name)


def test_header_names_python_version_and_cores():
    lines = run_quick("build")
    version = "%d.%d.%d" % sys.version_info[:3]
    assert any(line.startswith("python: ") and version in line for line in lines[:4])
    assert any(re.match(r"machine: .*, \d+ cores \(\d+ usable\)$", line) for line in lines[:4])


def test_burst_line_accounts_for_every_send():
    lines = run_quick("roundtrip")
    bursts = [line for line in lines if line.startswith("roundtrip.burst")]
    assert len(bursts) == 2
    for line in bursts:
        sent = int(re.search(r": (\d+) unpaced sends", line).group(1))
        throttled = int(re.search(r"130429 errors: (\d+)", line).group(1))
        accepted = int(re.search(r"accepted: (\d+)", line).group(1))
        assert accepted + throttled == sent


def test_python_m_bench_runs_from_the_repo_root():
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the repo root must be enough, as the README says
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "parse"],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert_has_lines(proc.stdout.splitlines(), EXPECTED["parse"])


def test_unknown_bench_name_is_refused():
    proc = subprocess.run([sys.executable, "-m", "bench", "--only", "nosuch"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_percentile_is_nearest_rank():
    values = list(range(100, 0, -1))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 100) == 100
    assert percentile([7], 95) == 7
