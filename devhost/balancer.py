"""``python -m devhost balancer``: HAProxy (Debian's package) in front of several bot instances, round robin.

What App Service's front end does for a scaled-out bot: every request to ``--port`` goes to the next instance in
turn. An instance that stops answering its health check (GET /api/health, every 2 s) is taken out until it
answers again; a request whose connection to an instance fails is sent to another one (``retry-on conn-failure``
with ``option redispatch``): only a connection that never reached the instance is retried, never a request it may
have processed (that would run the user's turn twice). HAProxy answers its own health at ``HEALTH_PATH`` with the
part nonce of ``devhost up`` (devhost/part_identity.py).

This process writes the configuration and then becomes HAProxy (exec): the process ``devhost up`` started and
watches is HAProxy itself, its parent-death signal (devhost/tether.py's prctl) survives the exec, and stopping or
killing the part's process group stops it.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

from devhost.addresses import port_number
from devhost.part_identity import PART_NONCE_ENV, PART_NONCE_HEADER

HEALTH_PATH = "/devhost/balancer/health"
# A request may take a whole turn (Direct Line gives the bot about 15 s, the Emulator waits longer); the benchmark's
# thousands of users at once
# need many connections (HAProxy needs two descriptors per connection: 8,000 fits a 20,000 descriptor limit).
MAX_CONNECTIONS = 8000
CHECK_INTERVAL = "2s"


def config_text(host: str, port: int, servers: list[str]) -> str:
    """haproxy.cfg for ``servers`` (host:port each) behind ``host:port``
    (https://docs.haproxy.org/2.6/configuration.html)."""
    backends = "\n".join(f"    server bot-{n} {server} check" for n, server in enumerate(servers, start=1))
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    health = (f'http-request return status 200 content-type application/json string "{{\\"status\\":\\"ok\\"}}" '
              f'hdr {PART_NONCE_HEADER} "%[env({PART_NONCE_ENV})]" if {{ path {HEALTH_PATH} }}')
    return f"""global
    maxconn {MAX_CONNECTIONS}
    # One thread: on a small machine the bot instances need the cores more than the balancer does.
    nbthread 1
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    maxconn {MAX_CONNECTIONS}
    timeout connect 2s
    # As App Service's front end, which ends a request after 230 s (its documented request timeout).
    timeout client 230s
    timeout server 230s
    retries 2
    retry-on conn-failure
    option redispatch 1

frontend bots
    bind {bind}
    {health}
    default_backend bot_instances

backend bot_instances
    balance roundrobin
    option httpchk GET /api/health
    http-check expect status 200
    default-server inter {CHECK_INTERVAL} fall 1 rise 1
{backends}
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost balancer", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, required=True, help="port to listen on")
    parser.add_argument("--server", action="append", default=[], metavar="HOST:PORT",
                        help="a bot instance (repeat for each)")
    parser.add_argument("--config", type=Path, required=True, help="where to write haproxy.cfg")
    args = parser.parse_args(argv)
    if not args.server:
        parser.error("at least one --server HOST:PORT is needed")
    for server in args.server:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            parser.error(f"--server {server!r}: expected HOST:PORT")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Debian installs it in /usr/sbin, which a non-root user's PATH often lacks.
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/local/sbin:/usr/sbin:/sbin")
    if haproxy is None:
        print("devhost balancer: HAProxy is not installed (Debian: apt-get install haproxy; `make test` installs it)",
              file=sys.stderr)
        return 2
    args.config.parent.mkdir(parents=True, exist_ok=True)
    args.config.write_text(config_text(args.host, args.port, list(args.server)), encoding="utf-8")
    sys.stdout.flush()
    # -db: stay in the foreground, as a part must; HAProxy's SIGTERM is an immediate stop.
    os.execv(haproxy, [haproxy, "-db", "-f", str(args.config)])
    return 0  # not reached: exec replaced this process
