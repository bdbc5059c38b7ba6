"""``python -m bench [engine|live|script|load|peers] [--quick]``."""

from __future__ import annotations

import argparse
import sys

BENCHMARKS = ("engine", "live", "script", "load", "peers")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Flowbuilder benchmarks")
    parser.add_argument("benchmark", nargs="?", default="engine", choices=BENCHMARKS)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and runs: a fast sanity run")
    args = parser.parse_args(argv)
    if args.benchmark == "live":
        from bench import live

        return live.main(quick=args.quick)
    if args.benchmark == "load":
        from bench import load

        return load.main(quick=args.quick)
    if args.benchmark == "peers":
        from bench import peers

        return peers.main(quick=args.quick)
    if args.benchmark == "script":
        from bench import script

        return script.main(quick=args.quick)
    from bench import engine

    return engine.main(quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
