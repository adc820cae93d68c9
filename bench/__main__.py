"""``python -m bench [<benchmark> ...]``: run one benchmark by name, or all of them.

Add a benchmark by adding a line to BENCHMARKS: the module must expose ``main(argv: list[str]) -> int``.
"""

import importlib
import sys

BENCHMARKS: dict[str, tuple[str, str]] = {
    "system": ("bench.system", "the whole offline system under N concurrent users, against echo-bot floors"),
    "durable": ("bench.durable", "throughput and latency of chained orchestrations on the devhost functions host"),
    "steps": ("bench.steps", "per-step overhead of one operation of 10, 100 and 1,000 zero-second steps"),
}


def usage() -> str:
    lines = ["usage: python -m bench [<benchmark> [options]]", "", "benchmarks (none given = all):"]
    lines += [f"  {name:<10} {summary}" for name, (_, summary) in BENCHMARKS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if not argv:
        results = [importlib.import_module(module).main([]) for module, _ in BENCHMARKS.values()]
        return max(results, default=0)
    chosen = BENCHMARKS.get(argv[0])
    if chosen is None:
        print(f"bench: unknown benchmark {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    result: int = importlib.import_module(chosen[0]).main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
