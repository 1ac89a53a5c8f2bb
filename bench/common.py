"""Timing helpers shared by the benchmarks: samples, percentiles, the header.

Every figure is printed as one line ``<name>: <figures>`` so people can read
it and the smoke test can find it. Times come from ``time.perf_counter_ns``;
the garbage collector stays on, as it is in production, so p95 includes its
pauses.
"""

import os
import platform
import statistics
import sys
import time

# Default wall-time cap for one timed loop: a slow machine gets fewer
# samples (the line says how many) instead of a bench that never ends.
DEFAULT_BUDGET_S = 2.0
MIN_SAMPLES = 5


def percentile(values, pct):
    """Nearest-rank percentile of values (pct in 0..100)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats
    return ordered[int(rank) - 1]


def sample_ns(fn, n, warmup=None, budget_s=DEFAULT_BUDGET_S):
    """Call fn up to n times after a warm-up; return each call's duration in ns.

    Stops early (after at least MIN_SAMPLES) once budget_s of wall time is spent.
    """
    for _ in range(warmup if warmup is not None else max(1, n // 10)):
        fn()
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * 1e9)
    out = []
    for i in range(n):
        start = clock()
        fn()
        end = clock()
        out.append(end - start)
        if i + 1 >= MIN_SAMPLES and end > deadline:
            break
    return out


def timer_overhead_ns(n=2000):
    """Median cost of two back-to-back perf_counter_ns calls, included in every sample."""
    clock = time.perf_counter_ns
    return statistics.median(-(clock() - clock()) for _ in range(n))


def summary_us(samples_ns):
    """(median µs, p95 µs, mean µs) of ns samples."""
    return (statistics.median(samples_ns) / 1e3, percentile(samples_ns, 95) / 1e3,
            statistics.fmean(samples_ns) / 1e3)


def per_call_line(name, samples_ns, unit="calls", extra=""):
    """``name: median … us, p95 … us, …/s (n=…)``: one call's cost and its rate."""
    median, p95, mean = summary_us(samples_ns)
    rate = 1e6 / mean if mean else float("inf")
    line = "%s: median %s us, p95 %s us, %s %s/s (n=%d)" % (
        name, fmt(median), fmt(p95), fmt_rate(rate), unit, len(samples_ns))
    return line + (", " + extra if extra else "")


def fmt(value):
    """Three significant-ish figures: 0.812, 12.4, 356."""
    if value >= 100:
        return "%.0f" % value
    if value >= 10:
        return "%.1f" % value
    if value >= 1:
        return "%.2f" % value
    return "%.3f" % value


def fmt_rate(value):
    return "{:,.0f}".format(value)


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def header(quick):
    impl = platform.python_implementation()
    return [
        "campotech_whatsapp bench (%s mode)" % ("quick" if quick else "full"),
        "python: %s %s (%s)" % (impl, platform.python_version(), sys.executable),
        "machine: %s %s, %s cores (%d usable)" % (
            platform.system(), platform.machine(), os.cpu_count(), usable_cores()),
        "timer: perf_counter_ns, overhead ~%d ns per sample; median and p95 over n samples"
        % timer_overhead_ns(),
    ]


class Out:
    """Prints figure lines as they come and keeps them for callers and tests."""

    def __init__(self, stream=None):
        self.stream = stream
        self.lines = []

    def __call__(self, line=""):
        self.lines.append(line)
        print(line, file=self.stream if self.stream is not None else sys.stdout, flush=True)
