"""Ports and hosts: the port argument every devhost command takes, free loopback ports for a stack the bench or a
test starts, and the address a client dials back."""

import argparse
import socket
from collections.abc import Collection


def port_number(text: str) -> int:
    """An argparse ``type`` for a TCP port, 0 (a free one) to 65535; anything else is a usage error naming it."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port must be a whole number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port must be 0 (a free one) to 65535, got {port}")
    return port


def free_port() -> int:
    """One free loopback port, for a lone server; several parts of one stack take ``free_ports`` together."""
    [port] = free_ports(1)
    return port


def free_ports(count: int, avoid: Collection[int] = ()) -> list[int]:
    """``count`` distinct free loopback ports, none of them in ``avoid``. Every probe stays bound until all are
    chosen: a probe released at once lets the kernel hand the same port to the next bind, and two parts of one stack
    then meet devhost/stack.py's "port N is given to both the functions part and the bot part" (it failed a CI run).
    Still only free when chosen: whoever binds first gets it."""
    probes: list[socket.socket] = []
    chosen: list[int] = []
    try:
        while len(chosen) < count:
            probe = socket.socket()
            probes.append(probe)  # kept bound even when avoided, so the kernel moves on to another port
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            if port not in avoid:
                chosen.append(port)
        return chosen
    finally:
        for probe in probes:
            probe.close()


def reachable_host(host: str) -> str:
    """A host a client can dial back for a bound one: a wildcard bind is reached over loopback; IPv6 literals need
    brackets in a URL."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
