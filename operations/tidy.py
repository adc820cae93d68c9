"""Tidy files: finds duplicate files, asks the owner whether to delete them, then does as told.

Real I/O on data it generates: each step writes the same generated files (a fixed seed, so a retried or replayed
step sees exactly what the first saw) into a fresh temporary folder and finds the duplicates by their SHA-256. Step
1 counts them and asks "Delete the N duplicates?" (Yes/No, operations/api.py ``Ask``); step 2 acts on the answer:
it deletes every copy but the first of each group, or keeps them, and checks the result by scanning again. The
result is a "facts" card (bot/result_cards.py). ``run`` is a plain function, so the activity runs it off the loop.
"""

import hashlib
import random
import tempfile
from collections import defaultdict
from pathlib import Path

from operations.api import Ask, Done, Operation, StepInput, StepOutput

STEPS = 2
FILES = 240
DISTINCT_CONTENTS = 180
SEED = 13
YES, NO = "Yes", "No"
# How long the owner has to answer (the operation's deadline, OperationTimeoutSeconds, still applies).
ANSWER_SECONDS = 120.0


def write_files(folder: Path) -> None:
    """FILES files drawn from DISTINCT_CONTENTS contents of 1 to 8 KiB: the same files on every call."""
    generator = random.Random(SEED)
    contents = [generator.randbytes(generator.randint(1024, 8192)) for _ in range(DISTINCT_CONTENTS)]
    for number in range(FILES):
        content = contents[number] if number < DISTINCT_CONTENTS else generator.choice(contents)
        (folder / f"file-{number:04d}.bin").write_bytes(content)


def duplicates(folder: Path) -> list[Path]:
    """Every file whose content an earlier file (by name) already has."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.iterdir()):
        groups[hashlib.sha256(path.read_bytes()).hexdigest()].append(path)
    return [copy for paths in groups.values() for copy in paths[1:]]


def tidy_files_step(step: StepInput) -> StepOutput:
    with tempfile.TemporaryDirectory(prefix="tidy-files-") as name:
        folder = Path(name)
        write_files(folder)
        found = duplicates(folder)
        if step.step == 1:
            count = len(found)
            return Ask(f"Delete the {count} duplicates?", choices=(YES, NO), timeout_seconds=ANSWER_SECONDS,
                       state={"duplicates": count})
        delete = step.answer == YES
        freed = sum(path.stat().st_size for path in found) if delete else 0
        if delete:
            for path in found:
                path.unlink()
        left = len(duplicates(folder))
        files_left = sum(1 for _ in folder.iterdir())
    return Done(data={
        "kind": "facts",
        "facts": [
            {"name": "Files scanned", "value": str(FILES)},
            {"name": "Duplicates found", "value": str(len(found))},
            {"name": "Your answer", "value": str(step.answer)},
            {"name": "Deleted", "value": str(len(found) if delete else 0)},
            {"name": "Space freed", "value": f"{freed:,} bytes"},
            {"name": "Files left", "value": str(files_left)},
            {"name": "Duplicates left", "value": str(left)},
        ],
    })


OPERATION = Operation(id="tidy files", title="tidy files", run=tidy_files_step, steps=STEPS, asks=True)
