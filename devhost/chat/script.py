"""The ``--script`` language: one step per line.

    # a comment; blank lines are ignored
    hello bot            say "hello bot" (a number picks one of the bot's numbered choices)
    say wait 2           say the rest of the line literally (for text that looks like a command)
    wait 2               pause 2 seconds (for demos)
    wait-for Thanks      wait until a bot message containing "Thanks" arrives (case-insensitive), or fail
    file notes.txt       send the file (a relative path is from the current directory), as /file does
"""

from dataclasses import dataclass

from devhost.chat.errors import ScriptError


@dataclass(frozen=True)
class Say:
    text: str
    line: int


@dataclass(frozen=True)
class Pause:
    seconds: float
    line: int


@dataclass(frozen=True)
class WaitFor:
    text: str
    line: int


@dataclass(frozen=True)
class SendFile:
    path: str
    line: int


Step = Say | Pause | WaitFor | SendFile


def parse_script(source: str, name: str = "script") -> list[Step]:
    steps: list[Step] = []
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        if command == "say":
            steps.append(Say(rest, number))
        elif command == "wait":
            try:
                seconds = float(rest)
            except ValueError:
                raise ScriptError(f"{name}:{number}: 'wait' needs a number of seconds, got {rest!r}") from None
            if seconds < 0:
                raise ScriptError(f"{name}:{number}: 'wait' needs a non-negative number of seconds")
            steps.append(Pause(seconds, number))
        elif command == "wait-for":
            if not rest:
                raise ScriptError(f"{name}:{number}: 'wait-for' needs the text to wait for")
            steps.append(WaitFor(rest, number))
        elif command == "file":
            if not rest:
                raise ScriptError(f"{name}:{number}: 'file' needs the path of the file to send")
            steps.append(SendFile(rest, number))
        else:
            steps.append(Say(line, number))
    return steps
