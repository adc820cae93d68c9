"""``make webchat``'s fetcher: only a tarball with the pinned integrity is unpacked, and only the bundle."""

import io
import tarfile
from pathlib import Path

import pytest

from devhost.webchat.fetch import MEMBERS, FetchError, extract, integrity_of


def tarball(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "botframework-webchat-4.18.1.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_bundle_and_its_licence_are_extracted_when_the_integrity_matches(tmp_path: Path) -> None:
    package = tarball(tmp_path, {"package/dist/webchat.js": b"window.WebChat = {};",
                                 "package/dist/webchat.js.LICENSE.txt": b"MIT",
                                 "package/lib/index.js": b"not wanted"})
    written = extract(package, tmp_path / "dist", integrity_of(package.read_bytes()))
    assert sorted(path.name for path in written) == sorted(MEMBERS.values())
    assert (tmp_path / "dist" / "webchat.js").read_bytes() == b"window.WebChat = {};"
    assert not (tmp_path / "dist" / "index.js").exists()


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    package = tarball(tmp_path, {"package/dist/webchat.js": b"tampered", "package/dist/webchat.js.LICENSE.txt": b""})
    with pytest.raises(FetchError, match="does not match the pinned integrity"):
        extract(package, tmp_path / "dist")
    assert not (tmp_path / "dist").exists()


def test_a_tarball_without_the_bundle_is_refused_by_name(tmp_path: Path) -> None:
    package = tarball(tmp_path, {"package/README.md": b"hi"})
    with pytest.raises(FetchError, match=r"has no package/dist/webchat\.js"):
        extract(package, tmp_path / "dist", integrity_of(package.read_bytes()))
