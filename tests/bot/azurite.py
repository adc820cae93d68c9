"""Azurite (the Azure Storage emulator, npm package pinned in tests/azurite) as a child process on loopback.

Started on a free port (``--blobPort 0``; the port it got is read from its start-up line) with its data in a
directory of the test's, and stopped afterwards. Node is required (it is installed here and in CI); the
package is installed from the lock file if ``make node-deps`` has not done it.
"""

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

AZURITE_DIR = Path(__file__).resolve().parent.parent / "azurite"
AZURITE_BLOB = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on http://127\.0\.0\.1:(\d+)")
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Azurite:
    port: int
    process: subprocess.Popen[bytes]

    def connection_string(self, account_key: str = ACCOUNT_KEY) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={account_key};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def install() -> None:
    """npm ci from the lock file, once, if the package is missing."""
    if AZURITE_BLOB.exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is required for the blob storage tests (or run `make node-deps`)"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=AZURITE_DIR, check=True, timeout=300)


@contextmanager
def running_azurite(location: Path) -> Iterator[Azurite]:
    install()
    location.mkdir(parents=True, exist_ok=True)
    log_path = location / "azurite.log"
    # Output goes to a file, not a pipe: nobody reads a pipe after start-up, and a full one would block Azurite.
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(AZURITE_BLOB),
                "--blobHost", "127.0.0.1",
                "--blobPort", "0",
                "--location", str(location),
                "--skipApiVersionCheck",
                "--loose",
                "--silent",
                "--disableTelemetry",
            ],
            cwd=location,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    azurite = Azurite(_wait_for_port(process, log_path), process)
    try:
        yield azurite
    finally:
        azurite.stop()


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        output = log_path.read_text(errors="replace")
        match = _LISTENING.search(output)
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            raise AssertionError(f"azurite exited {process.returncode} before listening: {output}")
        time.sleep(0.05)  # polling the log for the start-up line, bounded by START_TIMEOUT
    process.kill()
    raise AssertionError(f"azurite did not start within {START_TIMEOUT} s: {log_path.read_text(errors='replace')}")
