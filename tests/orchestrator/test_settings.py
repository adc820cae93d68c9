"""Settings parsed from the environment: defaults, values, and errors that name the setting."""

import pytest

from orchestrator.errors import SettingsError
from orchestrator.settings import (
    DEFAULT_DIRECT_LINE_ENDPOINT,
    DEFAULT_HISTORY_PURGE_SCHEDULE,
    MAX_STEP_SECONDS,
    RetryPolicy,
    Settings,
    StepFault,
    history_purge_schedule,
    latest_outcome_seconds,
    parse_settings,
    tracing_settings,
)


def test_defaults_match_the_documented_ones() -> None:
    settings = parse_settings({})
    assert settings == Settings(
        direct_line_endpoint=DEFAULT_DIRECT_LINE_ENDPOINT,
        operation_seconds=15.0,
        operation_steps=5,
        timeout_seconds=120.0,
        step_retry=RetryPolicy(3, 1.0),
        notify_retry=RetryPolicy(6, 5.0, 2.0, 60.0),
        faults=frozenset(),
        direct_line_secret="",
        signing_key="",
    )
    assert settings.step_seconds == 3.0


def test_values_are_read_and_trimmed() -> None:
    settings = parse_settings({
        "DirectLineSecret": " secret ",
        "OperationSigningKey": "key",
        "DirectLineEndpoint": "http://127.0.0.1:8000/v3/directline/",
        "OperationSeconds": "0.5",
        "OperationSteps": "2",
        "OperationTimeoutSeconds": "3",
        "StepRetryAttempts": "1",
        "StepFirstRetrySeconds": "0.0001",
        "NotifyRetryAttempts": "4",
        "NotifyFirstRetrySeconds": "0.25",
        "NotifyBackoffCoefficient": "1.5",
        "NotifyMaxRetrySeconds": "2",
        "NotifyPostsPerConversation": "1",
        "OperationFaults": "option 2@3, option 1@1",
    })
    assert settings.direct_line_secret == "secret"
    assert settings.direct_line_endpoint == "http://127.0.0.1:8000/v3/directline"
    assert settings.step_seconds == 0.25
    assert settings.timeout_seconds == 3.0
    # Steps keep a constant delay: coefficient 1, no cap.
    assert settings.step_retry == RetryPolicy(1, 0.0001, 1.0, None)
    assert settings.notify_retry == RetryPolicy(4, 0.25, 1.5, 2.0)
    assert settings.notify_posts_per_conversation == 1
    assert parse_settings({}).notify_posts_per_conversation == 50
    assert settings.faults == {StepFault("option 2", 3), StepFault("option 1", 1)}


def test_faults_fail_every_attempt_or_only_the_first_n() -> None:
    settings = parse_settings({"OperationFaults": "option 2@3, option 1@2x1 ,option 3@1x2,"})
    assert settings.faults == {StepFault("option 2", 3), StepFault("option 1", 2, 1), StepFault("option 3", 1, 2)}
    # "@3": every attempt.
    assert [settings.injects_fault("option 2", 3, attempt) for attempt in (1, 2, 50)] == [True, True, True]
    # "x1" / "x2": only the first one or two attempts.
    assert [settings.injects_fault("option 1", 2, attempt) for attempt in (1, 2, 3)] == [True, False, False]
    assert [settings.injects_fault("option 3", 1, attempt) for attempt in (1, 2, 3)] == [True, True, False]
    # Other steps and options are untouched.
    assert not settings.injects_fault("option 2", 2, 1)
    assert not settings.injects_fault("option 1", 3, 1)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OperationSeconds", "fifteen"),
        ("OperationSeconds", "-1"),
        ("OperationSeconds", "nan"),
        ("OperationSteps", "0"),
        ("OperationSteps", "2.5"),
        ("OperationTimeoutSeconds", "0"),
        ("OperationTimeoutSeconds", "86401"),
        ("StepRetryAttempts", "0"),
        ("StepFirstRetrySeconds", "0"),
        ("NotifyRetryAttempts", "x"),
        ("NotifyPostsPerConversation", "0"),
        ("NotifyPostsPerConversation", "1001"),
        ("NotifyFirstRetrySeconds", "-5"),
        ("NotifyBackoffCoefficient", "0.5"),
        ("NotifyBackoffCoefficient", "double"),
        ("NotifyBackoffCoefficient", "inf"),
        ("NotifyMaxRetrySeconds", "0"),
        ("NotifyMaxRetrySeconds", "86401"),
        ("DirectLineEndpoint", "directline.botframework.com"),
        ("DirectLineEndpoint", "https://"),
        ("DirectLineEndpoint", "https://:443/v3/directline"),
        ("DirectLineEndpoint", "ftp://directline.botframework.com/v3/directline"),
        ("DirectLineEndpoint", "http://127.0.0.1:99999/v3/directline"),
        ("DirectLineEndpoint", "http://127.0.0.1:port/v3/directline"),
        ("DirectLineEndpoint", "http://[::1/v3/directline"),
        ("DirectLineEndpoint", "http://directline.botframework.com/v3/directline"),
        ("DirectLineEndpoint", "http://localhost.example.com:8181/v3/directline"),
        ("HistoryRetentionDays", "0"),
        ("HistoryRetentionDays", "36501"),
        ("HistoryRetentionDays", "1.5"),
        ("HistoryRetentionDays", "a month"),
        ("OperationFaults", "option 2"),
        ("OperationFaults", "option 9@1"),
        ("OperationFaults", "option 2@zero"),
        ("OperationFaults", "option 2@0"),
        ("OperationFaults", "option 2@2x"),
        ("OperationFaults", "option 2@2x0"),
        ("OperationFaults", "option 2@2xtwo"),
        ("OperationFaults", "option 2@x1"),
        ("OperationFaults", "option 2@2, option 2@2x1"),
    ],
)
def test_bad_value_raises_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings({name: value})
    assert caught.value.setting == name
    assert str(caught.value).startswith(f"{name}: ")


def test_a_backoff_coefficient_of_one_is_a_constant_delay_and_below_one_is_refused() -> None:
    assert parse_settings({"NotifyBackoffCoefficient": "1"}).notify_retry.backoff_coefficient == 1.0
    with pytest.raises(SettingsError, match=r"^NotifyBackoffCoefficient: must be at least 1, got '0.9'$"):
        parse_settings({"NotifyBackoffCoefficient": "0.9"})
    with pytest.raises(SettingsError, match=r"^NotifyBackoffCoefficient: expected a number, got 'x'$"):
        parse_settings({"NotifyBackoffCoefficient": "x"})


def test_secrets_never_appear_in_repr() -> None:
    settings = parse_settings({"DirectLineSecret": "very-secret", "OperationSigningKey": "signing-secret"})
    assert "very-secret" not in repr(settings)
    assert "signing-secret" not in repr(settings)


def test_notify_secrets_are_required_by_name() -> None:
    with pytest.raises(SettingsError, match=r"^DirectLineSecret, OperationSigningKey: not set"):
        parse_settings({}).require_notify_secrets()
    with pytest.raises(SettingsError, match=r"^OperationSigningKey: "):
        parse_settings({"DirectLineSecret": "s"}).require_notify_secrets()
    parse_settings({"DirectLineSecret": "s", "OperationSigningKey": "k"}).require_notify_secrets()


@pytest.mark.parametrize("name", ["DirectLineSecret", "OperationSigningKey"])
def test_a_placeholder_left_from_the_example_file_is_refused_by_name(name: str) -> None:
    env = {"DirectLineSecret": "s", "OperationSigningKey": "k", name: "<copied from the example>"}
    with pytest.raises(SettingsError, match=name):
        parse_settings(env).require_notify_secrets()


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://europe.directline.botframework.com/v3/directline",
        "https://directline.example:8443/v3/directline",
        "http://127.0.0.1:8181/v3/directline",
        "http://localhost:8181/v3/directline",
        "http://[::1]:8181/v3/directline",
        "http://192.168.1.20:8181/v3/directline",  # `devhost up --host <LAN address>`
        "http://0.0.0.0:8181/v3/directline",
    ],
)
def test_https_anywhere_and_plain_http_only_to_this_machine_or_a_private_network_are_accepted(endpoint: str) -> None:
    assert parse_settings({"DirectLineEndpoint": endpoint + "/"}).direct_line_endpoint == endpoint


def test_plain_http_to_another_host_is_refused_because_the_secret_would_travel_unencrypted() -> None:
    unencrypted = r"^DirectLineEndpoint: plain http would send the Direct Line secret unencrypted to a public host"
    for public in ("http://directline.botframework.com/v3/directline", "http://20.50.1.2/v3/directline"):
        with pytest.raises(SettingsError, match=unencrypted):
            parse_settings({"DirectLineEndpoint": public})


def test_an_endpoint_without_a_host_or_with_a_bad_port_says_so() -> None:
    with pytest.raises(SettingsError, match=r"^DirectLineEndpoint: .*got 'https://': it names no host$"):
        parse_settings({"DirectLineEndpoint": "https://"})
    with pytest.raises(SettingsError, match=r"^DirectLineEndpoint: .*\(Port out of range 0-65535\)$"):
        parse_settings({"DirectLineEndpoint": "http://127.0.0.1:99999/v3/directline"})


def test_a_step_longer_than_the_function_timeout_allows_is_refused_naming_both_settings() -> None:
    # One step is one activity call; host.json's functionTimeout (10 min) would kill a longer one.
    assert MAX_STEP_SECONDS < 600
    assert parse_settings({"OperationSeconds": "1080", "OperationSteps": "2"}).step_seconds == MAX_STEP_SECONDS
    with pytest.raises(SettingsError) as caught:
        parse_settings({"OperationSeconds": "1081", "OperationSteps": "2"})
    assert caught.value.setting == "OperationSeconds, OperationSteps"
    assert "each step would take 540.5 s" in str(caught.value)
    assert "functionTimeout" in str(caught.value)
    # With the default 5 steps, an hour is 720 s a step.
    with pytest.raises(SettingsError, match=r"^OperationSeconds, OperationSteps: each step would take 720 s"):
        parse_settings({"OperationSeconds": "3600"})


def test_history_retention_defaults_to_30_days_and_reads_whole_days() -> None:
    assert parse_settings({}).history_retention_days == 30
    assert parse_settings({"HistoryRetentionDays": " 7 "}).history_retention_days == 7
    with pytest.raises(SettingsError, match=r"^HistoryRetentionDays: must be between 1 and 36500, got 0$"):
        parse_settings({"HistoryRetentionDays": "0"})


def test_the_purge_schedule_defaults_to_daily_at_three_and_is_read_trimmed() -> None:
    assert history_purge_schedule({}) == DEFAULT_HISTORY_PURGE_SCHEDULE == "0 0 3 * * *"
    assert history_purge_schedule({"HistoryPurgeSchedule": "  "}) == "0 0 3 * * *"
    assert history_purge_schedule({"HistoryPurgeSchedule": " 0 30 1 * * Sun "}) == "0 30 1 * * Sun"


def test_the_latest_outcome_counts_the_deadline_every_attempt_at_function_timeout_and_the_back_off() -> None:
    # 120 s deadline + 6 attempts x 600 s + 5 + 10 + 20 + 40 + 60 s of back-off.
    assert latest_outcome_seconds(parse_settings({})) == 120 + 3600 + 135


def test_settings_under_which_an_outcome_could_outlast_the_bots_conversation_state_are_refused() -> None:
    # A day's deadline and 20 delivery attempts a day apart: the outcome could come weeks after the start, when the
    # bot may have expired the conversation that waits for it.
    slow = {"OperationTimeoutSeconds": "86400", "NotifyRetryAttempts": "20", "NotifyFirstRetrySeconds": "86400",
            "NotifyMaxRetrySeconds": "86400"}
    with pytest.raises(SettingsError) as caught:
        parse_settings(slow)
    assert str(caught.value) == (
        "OperationTimeoutSeconds, NotifyRetryAttempts, NotifyFirstRetrySeconds, NotifyBackoffCoefficient, "
        "NotifyMaxRetrySeconds: an outcome could reach the bot 1740000 s after the start (the deadline, 20 "
        "delivery attempts of up to 600 s each, and the back-off between them); at most 172800 s (2 days), which "
        "the bot's conversation state outlives"
    )
    # The largest deadline with the default delivery still fits.
    assert parse_settings({"OperationTimeoutSeconds": "86400"}).timeout_seconds == 86400


def test_tracing_settings_are_off_by_default_and_a_bad_one_is_named() -> None:
    assert not tracing_settings({}).enabled
    assert tracing_settings({"OTEL_TRACES_EXPORTER": "otlp"}).exporter == "otlp"
    with pytest.raises(SettingsError) as caught:
        tracing_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING": "IngestionEndpoint=https://x.example/"})
    assert str(caught.value) == ("APPLICATIONINSIGHTS_CONNECTION_STRING: is not an Application Insights connection "
                                 "string (expected InstrumentationKey=...;IngestionEndpoint=...)")
