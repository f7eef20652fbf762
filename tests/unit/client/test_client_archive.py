"""Archiving a SavedModel directory for upload, and unpacking a downloaded one safely."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from shears_client.archive import extract_saved_model, model_upload_file, pack_saved_model
from shears_client.errors import ShearsError


def fake_saved_model(root: Path) -> Path:
    (root / "variables").mkdir(parents=True)
    (root / "saved_model.pb").write_bytes(b"graph")
    (root / "fingerprint.pb").write_bytes(b"fp")
    (root / "variables" / "variables.index").write_bytes(b"index")
    (root / "variables" / "variables.data-00000-of-00001").write_bytes(b"\0" * 100)
    (root / "assets").mkdir()
    return root


def tar_with(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            link = tarfile.TarInfo(symlink)
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(link)
    return path


def test_a_saved_model_directory_is_archived_with_its_files_at_the_root(tmp_path) -> None:
    model = fake_saved_model(tmp_path / "my_model")
    archive = pack_saved_model(model, tmp_path)
    assert archive.name == "my_model.tar.gz"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert names == {
        "saved_model.pb",
        "fingerprint.pb",
        "variables",
        "variables/variables.index",
        "variables/variables.data-00000-of-00001",
        "assets",
    }


def test_the_upload_archive_lives_only_while_uploading(tmp_path) -> None:
    model = fake_saved_model(tmp_path / "m")
    with model_upload_file(model) as upload:
        assert upload.is_file() and upload.name == "m.tar.gz"
    assert not upload.exists()


@pytest.mark.parametrize("name", ["model.keras", "model.zip", "model.tar.gz", "model.tgz"])
def test_model_files_are_sent_as_they_are(tmp_path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"x")
    with model_upload_file(path) as upload:
        assert upload == path


def test_a_folder_without_saved_model_pb_is_refused(tmp_path) -> None:
    (tmp_path / "weights.h5").write_bytes(b"x")
    with pytest.raises(ShearsError, match="has no saved_model.pb") as info:
        with model_upload_file(tmp_path):
            pass
    assert info.value.code == "not_a_saved_model"


@pytest.mark.parametrize(
    ("name", "code"), [("model.h5", "unsupported_file"), ("gone.keras", "file_not_found")]
)
def test_other_paths_are_refused(tmp_path, name: str, code: str) -> None:
    if name == "model.h5":
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ShearsError) as info:
        with model_upload_file(tmp_path / name):
            pass
    assert info.value.code == code


@pytest.mark.parametrize("prefix", ["", "export/"])
def test_extraction_puts_saved_model_pb_at_the_destination(tmp_path, prefix: str) -> None:
    archive = tar_with(
        tmp_path / "a.tar.gz",
        {f"{prefix}saved_model.pb": b"graph", f"{prefix}variables/variables.index": b"i"},
    )
    dest = extract_saved_model(archive, tmp_path / "out")
    assert (dest / "saved_model.pb").read_bytes() == b"graph"
    assert (dest / "variables" / "variables.index").read_bytes() == b"i"
    assert sorted(p.name for p in dest.iterdir()) == ["saved_model.pb", "variables"]


def test_a_round_trip_keeps_every_byte(tmp_path) -> None:
    model = fake_saved_model(tmp_path / "m")
    dest = extract_saved_model(pack_saved_model(model, tmp_path), tmp_path / "back")
    for path in model.rglob("*"):
        twin = dest / path.relative_to(model)
        assert twin.is_dir() if path.is_dir() else twin.read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("members", "symlink"),
    [
        ({"saved_model.pb": b"g", "../escaped.txt": b"x"}, None),
        ({"saved_model.pb": b"g", "/tmp/absolute.txt": b"x"}, None),
        ({"saved_model.pb": b"g"}, "variables"),
    ],
)
def test_unsafe_archives_are_refused_and_nothing_escapes(tmp_path, members, symlink) -> None:
    archive = tar_with(tmp_path / "evil.tar.gz", members, symlink)
    with pytest.raises(ShearsError) as info:
        extract_saved_model(archive, tmp_path / "out")
    assert info.value.code == "unsafe_archive"
    assert not (tmp_path / "escaped.txt").exists()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_non_empty_destination_is_left_alone(tmp_path) -> None:
    archive = tar_with(tmp_path / "a.tar.gz", {"saved_model.pb": b"g"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ShearsError, match="not an empty folder"):
        extract_saved_model(archive, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
