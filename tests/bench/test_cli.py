import pytest

from bench.__main__ import main as bench_main
from bench.durable import main as durable_main
from bench.system import main as system_main


@pytest.mark.parametrize(("argv", "named"), [
    (["--users", "0"], "--users"),
    (["--steps", "0"], "--steps"),
    (["--ramp", "-1"], "--ramp"),
    (["--operation-seconds", "0"], "--operation-seconds"),
    (["--throttle", "1 per second"], "--throttle '1 per second': expected COUNT/SECONDS"),
])
def test_bad_options_exit_2_naming_the_option(argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        system_main(argv)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "named"), [
    (["--in-flight", "0"], "--in-flight"),
    (["--in-flight", "-3"], "--in-flight"),
    (["--count", "0"], "--count"),
    (["--sequential", "-1"], "--sequential"),
    (["--rate", "0"], "--rate"),
])
def test_bad_durable_options_exit_2_naming_the_option(argv: list[str], named: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # Checked before the functions host starts: --in-flight 0 used to wait forever on a semaphore of 0.
    with pytest.raises(SystemExit) as exit_info:
        durable_main(argv)
    assert exit_info.value.code == 2
    assert named in capsys.readouterr().err


def test_an_unknown_benchmark_exits_2_listing_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main(["nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark 'nope'" in err
    assert "system" in err and "durable" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--operation", "option 9"], "--operation 'option 9': no such operation"),
    (["--operation", "count primes"], "--operation 'count primes' needs --input limit=VALUE"),
    (["--operation", "count primes", "--input", "limit=ten"],
     "--input for 'count primes': inputs.limit: expected a whole number, got 'ten'"),
    (["--input", "limit=2000"], "--input limit: no chosen operation takes it"),
])
def test_a_bad_operation_or_input_exits_2_naming_it(argv: list[str], message: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        system_main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
