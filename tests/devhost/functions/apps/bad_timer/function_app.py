"""A timer whose schedule is not NCRONTAB: start-up must fail naming the function and the expression."""

import azure.functions as func

app = func.FunctionApp()


@app.timer_trigger(schedule="61 * * * * *", arg_name="timer")
def nightly_cleanup(timer: func.TimerRequest) -> None:
    raise AssertionError("never runs")
