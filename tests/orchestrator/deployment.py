"""What Azure's deployment holds: the files `.funcignore` keeps, and a virtualenv built from requirements.txt alone.

Azure's remote build installs the app root's requirements.txt and nothing else; the virtualenv here is built the same
way and cached under the project by the file's hash and the Python version (`.venv-functionapp/`, ignored by git and
by `.funcignore`), so only the first run after a change of requirements.txt pays for the install (about 30 s).
"""

import fcntl
import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".venv-functionapp"
COMPLETE = ".complete"


def funcignore_patterns(root: Path = ROOT) -> list[str]:
    lines = (root / ".funcignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def deployment_files(root: Path = ROOT) -> list[Path]:
    """Paths (relative to root) that a deployment carries: every file no `.funcignore` pattern matches.

    The patterns are gitignore-style (Core Tools reads `.funcignore` as a gitignore file); this project's are plain
    names and globs, matched against each part of the path, which is what gitignore does for a pattern without a slash.
    """
    patterns = funcignore_patterns(root)
    unsupported = [p for p in patterns if "/" in p.rstrip("/") or p.startswith("!")]
    if unsupported:
        raise ValueError(f".funcignore: {unsupported} need a full gitignore matcher; keep to names and globs")
    names = [p.rstrip("/") for p in patterns]

    def ignored(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in names)

    kept: list[Path] = []
    # os.walk prunes an ignored folder instead of listing it (node_modules, the virtualenvs).
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not ignored(d))
        kept.extend(Path(folder, f).relative_to(root) for f in sorted(files) if not ignored(f))
    return kept


def copy_deployment(destination: Path, root: Path = ROOT) -> Path:
    for relative in deployment_files(root):
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return destination


def functionapp_venv(requirements: Path = ROOT / "requirements.txt") -> Path:
    """The python of a virtualenv holding requirements.txt and nothing else, built once per (file, Python)."""
    tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = CACHE / f"{tag}-{digest}"
    python = venv / "bin" / "python"
    CACHE.mkdir(exist_ok=True)
    # One builder at a time: two test runs (or workers) that start together wait for the first one's venv.
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / COMPLETE).exists():
            return python
        for stale in CACHE.glob(f"{tag}-*"):
            shutil.rmtree(stale)
        # The base interpreter, not this process's virtualenv: the new one must not see .venv's packages.
        base = getattr(sys, "_base_executable", sys.executable)
        _run([base, "-m", "venv", str(venv)])
        _run([str(python), "-m", "pip", "install", "--quiet", "--no-input", "--disable-pip-version-check",
              "-r", str(requirements)])
        (venv / COMPLETE).write_text(requirements.read_text(encoding="utf-8"), encoding="utf-8")
    return python


def _run(command: list[str]) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if completed.returncode != 0:
        output = completed.stdout + completed.stderr
        raise RuntimeError(f"{' '.join(command)} failed ({completed.returncode}):\n{output}")
