"""The shared port argument and dial-back host of the devhost commands."""

import argparse
import socket

import pytest

from devhost.addresses import free_ports, port_number, reachable_host
from devhost.up import parse_args as up_args


@pytest.mark.parametrize("text", ["0", "8181", "65535"])
def test_ports_0_to_65535_are_accepted(text: str) -> None:
    assert port_number(text) == int(text)


@pytest.mark.parametrize(("text", "says"), [("65536", "65535"), ("99999", "65535"), ("-1", "65535"),
                                            ("http", "whole number")])
def test_other_ports_are_an_argument_error_saying_why(text: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        port_number(text)


@pytest.mark.parametrize("option", ["--functions-port", "--bot-port", "--directline-port"])
def test_up_refuses_an_out_of_range_port_naming_the_option(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        up_args([option, "70000"])
    assert exit_info.value.code == 2
    assert option in capsys.readouterr().err


@pytest.mark.parametrize(("bound", "dialled"), [("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1"), ("::", "[::1]"),
                                                ("::1", "[::1]"), ("127.0.0.1", "127.0.0.1")])
def test_a_wildcard_bind_is_dialled_over_loopback_and_ipv6_gets_brackets(bound: str, dialled: str) -> None:
    assert reachable_host(bound) == dialled


def test_free_ports_are_distinct_free_and_never_the_avoided_ones() -> None:
    first = free_ports(50)
    # Released just now, so the kernel may well offer them again: none may come back.
    second = free_ports(50, avoid=first)
    assert len(set(first)) == 50 and len(set(second)) == 50 and not set(first) & set(second)
    # Each is free once chosen: all of them can be bound at once.
    binds = [socket.socket() for _ in second]
    try:
        for bind, port in zip(binds, second, strict=True):
            bind.bind(("127.0.0.1", port))
    finally:
        for bind in binds:
            bind.close()
