"""``make webchat``: fetch the pinned official Web Chat bundle into devhost/webchat/dist/webchat.js.

The page needs one file, the self-contained UMD bundle ``dist/webchat.js`` (about 4 MB). ``npm ci`` of the package
installed its whole dependency tree, about 500 MB, to get it. ``npm pack`` fetches only the package's own tarball
(7 MB) from the registry npm is configured with (mirrors and proxies included). This script checks the tarball
against the pinned integrity (the registry's sha512, as a lock file would) and extracts the bundle and its licence.
Run with any Python 3.11; exits non-zero with a message naming what went wrong.
"""

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "botframework-webchat"
VERSION = "4.18.1"
# `npm view botframework-webchat@4.18.1 dist.integrity`
INTEGRITY = "sha512-7jpEUJ7olT62Xm+8eh7BhhIcXVfU2xD4pZDaeBt8K4XcNy6K/83UGIxE9BFkXmHMZ4hDEVOzs5cre07GWuaXzg=="
MEMBERS = {"package/dist/webchat.js": "webchat.js", "package/dist/webchat.js.LICENSE.txt": "webchat.js.LICENSE.txt"}
DIST = Path(__file__).resolve().parent / "dist"


class FetchError(Exception):
    pass


def integrity_of(data: bytes) -> str:
    """Subresource-integrity form of the sha512 digest, as npm records it."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def extract(tarball: Path, destination: Path, expected_integrity: str = INTEGRITY) -> list[Path]:
    """Check the tarball's integrity, then write the bundle and its licence into ``destination``."""
    data = tarball.read_bytes()
    found = integrity_of(data)
    if found != expected_integrity:
        raise FetchError(f"{tarball.name} does not match the pinned integrity: expected {expected_integrity}, "
                         f"got {found}")
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member, name in MEMBERS.items():
            try:
                source = archive.extractfile(member)
            except KeyError:
                source = None
            if source is None:
                raise FetchError(f"{tarball.name} has no {member}")
            target = destination / name
            partial = target.with_suffix(target.suffix + ".partial")
            with source, open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
            partial.replace(target)  # all or nothing: the page never serves half a bundle
            written.append(target)
    return written


def fetch(destination: Path = DIST) -> list[Path]:
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm is required to fetch the Web Chat bundle (install Node.js 20 with npm)")
    with tempfile.TemporaryDirectory(prefix="webchat-") as temp:
        result = subprocess.run(
            [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent", "--pack-destination", temp],
            capture_output=True, text=True, timeout=600, check=False,
        )
        if result.returncode != 0:
            raise FetchError(f"npm pack {PACKAGE}@{VERSION} failed (exit {result.returncode}): "
                             f"{result.stderr.strip()[-500:]}")
        return extract(Path(temp) / f"{PACKAGE}-{VERSION}.tgz", destination)


def main() -> int:
    try:
        written = fetch()
    except (FetchError, OSError, subprocess.TimeoutExpired, tarfile.TarError) as error:
        print(f"make webchat: {error}", file=sys.stderr)
        return 1
    print("make webchat: " + ", ".join(str(path) for path in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
