"""``python -m benchmarks [--quick] [--only NAME ... [--merge]] [--output PATH]``: run every
benchmark.

Prints one line per figure and writes ``benchmarks/RESULTS.md`` (every figure against its
target, the machine, the date, and the profiles behind any target not met). ``--quick``
runs each benchmark at a small size (the smoke test's mode; its figures are not the
results) and writes nowhere unless ``--output`` is given; nor does ``--only``, unless with
``--merge``, which puts the figures of the benchmarks it ran into RESULTS.md in place of their
earlier ones and keeps the rest (``--only soak --merge``: the soak alone, ~3 minutes).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import bigfile, dbsize, history, ingest, live, memory, soak, startup, sync_idle
from benchmarks.common import ROOT, Section, machine
from benchmarks.results import merge_results, write_results

BENCHMARKS: dict[str, Callable[[bool], Section]] = {
    "ingest": ingest.run,
    "live": live.run,
    "memory": memory.run,
    "history": history.run,
    "dbsize": dbsize.run,
    "startup": startup.run,
    "soak": soak.run,
    "sync_idle": sync_idle.run,
    "bigfile": bigfile.run,
}
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run these only")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="with --only: replace these benchmarks' figures in the results, keep the others",
    )
    parser.add_argument("--output", type=Path, help="where to write the results (Markdown)")
    args = parser.parse_args(argv)
    if args.merge and not args.only:
        parser.error("--merge goes with --only NAME ...")
    about = machine()
    started = time.perf_counter()
    sections = {name: BENCHMARKS[name](args.quick) for name in args.only or BENCHMARKS}
    elapsed = time.perf_counter() - started
    output = args.output or (None if args.quick or (args.only and not args.merge) else RESULTS)
    if output is not None and args.merge:
        merge_results(output, sections, about, elapsed)
    elif output is not None:
        write_results(output, list(sections.values()), about, elapsed, quick=args.quick)
    if output is not None:
        print(f"wrote {output}")
    print(f"all benchmarks: {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
