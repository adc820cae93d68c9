from datetime import UTC, datetime

from bench.timeline import epoch_seconds, execution_started_at


def test_the_start_is_the_execution_started_event_with_its_sub_second_digits() -> None:
    status = {"createdTime": "2026-11-24T21:09:30Z", "historyEvents": [
        {"EventType": "ExecutionStarted", "Timestamp": "2026-11-24T21:09:30.2683720Z", "FunctionName": "x"},
        {"EventType": "TaskCompleted", "Timestamp": "2026-11-24T21:09:33.0000000Z"},
    ]}
    expected = datetime(2026, 11, 24, 21, 9, 30, 268372, tzinfo=UTC).timestamp()
    assert execution_started_at(status) == expected


def test_no_history_or_an_unreadable_stamp_is_none() -> None:
    assert execution_started_at({"createdTime": "2026-11-24T21:09:30Z"}) is None
    assert execution_started_at({"historyEvents": [{"EventType": "ExecutionStarted", "Timestamp": "soon"}]}) is None
    assert execution_started_at({"historyEvents": [{"EventType": "ExecutionStarted"}]}) is None


def test_a_stamp_without_a_zone_is_utc_as_the_host_writes_it() -> None:
    expected = datetime(2026, 11, 24, 21, 9, 30, 268372, tzinfo=UTC).timestamp()
    assert epoch_seconds("2026-11-24T21:09:30.2683720Z") == expected
    assert epoch_seconds("2026-11-24T21:09:30.2683720") == expected
