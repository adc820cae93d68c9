"""README "Add your own operation", done exactly as written: its example copied into one new file of a copy of the
operations package, its one registration line added, and the new operation run end to end."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_blocks() -> tuple[str, str]:
    """The section's two Python blocks: the operation module and the registration line."""
    section = (ROOT / "README.md").read_text().split("## Add your own operation", 1)[1].split("\n## ", 1)[0]
    module, line = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return module, line


def test_the_readme_example_is_the_whole_change_and_runs_end_to_end(tmp_path: Path) -> None:
    module, line = readme_blocks()
    package = tmp_path / "operations"
    shutil.copytree(ROOT / "operations", package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "sum_squares.py").write_text(module)
    registry = (package / "registry.py").read_text()
    anchor = '    "operations.tidy",\n'
    assert anchor in registry
    (package / "registry.py").write_text(registry.replace(anchor, anchor + line))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    ran = subprocess.run([sys.executable, str(ROOT / "tests/operations/own_operation_run.py")], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])

    assert seen["registry"] == ["option 1", "option 2", "option 3", "count primes", "tidy files", "sum squares"]
    # The starter validates the new input (400 naming it) and passes a good one on.
    assert seen["starter"] == {"0": "400 inputs.n: expected 1 to 1000000, got 0", "10": '{"n": 10}'}
    # 1 + 4 + ... + 100 = 385, summed over the two steps with the state carried between them.
    assert (seen["outcome"]["status"], seen["outcome"]["data"]) == (
        "completed", {"kind": "facts", "facts": [{"name": "Sum of squares", "value": "385"}]}
    )
    bot = seen["bot"]
    assert bot["choices"] == seen["registry"]
    assert bot["asked"] == ["Please enter how many squares to add (1 to 1000000)."]
    assert bot["started"] == ["...one moment please...."]
    assert bot["inputs"] == {"n": 10}
    assert bot["reply"] == "Thanks for waiting. The long operation: sum squares has finished. Here is its result."
    assert bot["card"][1] == {"type": "FactSet", "facts": [{"title": "Sum of squares", "value": "385"}]}
