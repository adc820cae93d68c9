"""Ports and hosts: the port argument every devhost command takes, and the address a client dials back."""

import argparse


def port_number(text: str) -> int:
    """An argparse ``type`` for a TCP port, 0 (a free one) to 65535; anything else is a usage error naming it."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port must be a whole number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port must be 0 (a free one) to 65535, got {port}")
    return port


def reachable_host(host: str) -> str:
    """A host a client can dial back for a bound one: a wildcard bind is reached over loopback; IPv6 literals need
    brackets in a URL."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
