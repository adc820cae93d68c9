"""``python -m devhost functions [--app-root DIR] [--host H] [--port P] [--data-dir DIR] [--no-key-check]``."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from devhost.functions.config import HostConfig
from devhost.functions.errors import FunctionsHostError
from devhost.functions.keys import KEYS_FILE
from devhost.functions.server import serve
from devhost.part_identity import PART_NONCE_ENV


def parse_args(argv: list[str]) -> HostConfig:
    parser = argparse.ArgumentParser(prog="python -m devhost functions",
                                     description="Run a Python v2-model function app with Durable Functions on "
                                                 "SQLite, like `func start`.")
    parser.add_argument("--app-root", type=Path, default=Path.cwd(), help="folder of function_app.py (default: .)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="port (default: 7071; 0 picks a free one)")
    parser.add_argument("--data-dir", type=Path, default=Path(".devhost"),
                        help="where the task hub's SQLite file and the host's keys (keys.json) live "
                             "(default: ./.devhost)")
    parser.add_argument("--threads", type=int, default=16, help="threads for sync functions (default: 16)")
    parser.add_argument("--no-key-check", action="store_true",
                        help="accept every request without a key, as `func start` does (default: keys are "
                             "checked as on Azure)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a port number")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return HostConfig(app_root=args.app_root, host=args.host, port=args.port, data_dir=args.data_dir,
                      worker_threads=args.threads, check_keys=not args.no_key_check,
                      part_nonce=os.environ.get(PART_NONCE_ENV, ""))


async def run(config: HostConfig) -> int:
    try:
        host = await serve(config)
    except FunctionsHostError as exc:
        print(f"devhost functions: {exc}", file=sys.stderr)
        return 1
    print(host.describe(), flush=True)
    print(f"Host started: {host.base_url} (task hub '{host.host_json.hub_name}' in {config.data_dir})", flush=True)
    if host.keys is None:
        print("Keys: not checked (--no-key-check)", flush=True)
    else:
        print(f"Keys: checked as on Azure; the master, host, system and function keys are in "
              f"{config.data_dir / KEYS_FILE}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await host.close()
    return 0


def main(argv: list[str]) -> int:
    config = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(run(config))
