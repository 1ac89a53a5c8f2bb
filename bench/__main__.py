"""Run the benchmarks: ``python -m bench [--quick] [--only NAME]`` (see --help for the names).

Run from the repository root with the engine's requirements installed, or use
``scripts/bench [--quick]``, which runs it in the project's .venv.
Prints a header (Python, machine) and one line per figure.
"""

import argparse
import sys
import time

from . import build, drain, odoo_bench, odoo_queue, roundtrip, webhook_parse
from .common import Out, header

BENCHES = {"parse": webhook_parse.run, "build": build.run, "roundtrip": roundtrip.run,
           "drain": drain.run}
# Real Odoo 18 benches: each prints one "skipped" line when no Odoo is configured.
BENCHES.update({"odoo_ack": odoo_bench.run_ack, "odoo_inbound": odoo_bench.run_inbound,
                "odoo_drain": odoo_queue.run})


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny iteration counts: checks the benches run, figures are noisy")
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), metavar="NAME",
                        help="run only this bench (%s); repeatable" % ", ".join(BENCHES))
    return parser.parse_args(argv)


def main(argv=None, stream=None):
    args = parse_args(argv)
    out = Out(stream)
    selected = [name for name in BENCHES if not args.only or name in args.only]
    started = time.perf_counter()
    for line in header(args.quick):
        out(line)
    for name in selected:
        out()
        BENCHES[name](out, quick=args.quick)
    out()
    out("done: %s in %.1f s" % (", ".join(selected), time.perf_counter() - started))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
