"""``python -m devhost <command> ...``: dispatch to one command's ``main(argv) -> int``.

Each command module is imported only when chosen, so ``chat`` never pays for the Functions SDK.
"""

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "functions": ("devhost.functions.cli", "run a Python v2-model function app with Durable Functions on SQLite"),
    "directline": ("devhost.directline.cli", "a Direct Line 3.0 service that forwards to a bot"),
    "chat": ("devhost.chat.cli", "an Emulator-like terminal chat with a bot"),
    "identity": ("devhost.identity.cli", "a Bot Framework identity service: signing keys and tokens"),
    "instances": ("devhost.instances", "orchestrations of a functions host and their progress, as a table"),
    "dashboard": ("devhost.dashboard.cli", "a web page of orchestrations: progress, history, terminate and purge"),
    "balancer": ("devhost.balancer", "HAProxy round robin in front of several bot instances"),
    "up": ("devhost.up", "functions host, Direct Line and the bot, wired together"),
}


def usage() -> str:
    lines = ["usage: python -m devhost <command> [options]", "", "commands:"]
    lines += [f"  {name:<11} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"devhost: unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(command[0])
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
