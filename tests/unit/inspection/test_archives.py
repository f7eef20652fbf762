"""safe_extract against a corpus of hostile archives (issue 5), and the layouts zip/tar make."""

from __future__ import annotations

import gzip
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from app.inspection import ExtractLimits, UploadRejected, inspect_model_upload, safe_extract

from .archive_builders import (
    SAVED_MODEL_FILES,
    tar_entry,
    tar_gz_directory,
    tar_gz_files,
    tar_gz_members,
    tar_gz_of_zeros,
    zip_directory,
    zip_files,
    zip_of_zeros,
    zip_symlink,
    zip_with_mode,
)

MiB = 1024**2


def rejected(archive: Path, dest: Path, limits: ExtractLimits | None = None) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        safe_extract(archive, dest, limits or ExtractLimits())
    return caught.value


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    source = tmp_path / "my_model"
    for name, data in SAVED_MODEL_FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    return source


@pytest.mark.parametrize("top_folder", [None, "my_model"])
def test_zip_with_files_at_root_or_in_one_folder(tmp_path, model_dir, top_folder):
    archive = zip_directory(tmp_path / "m.zip", model_dir, top_folder)
    root = safe_extract(archive, tmp_path / "out")
    expected = tmp_path / "out" / top_folder if top_folder else tmp_path / "out"
    assert root == expected
    assert (root / "variables/variables.index").read_bytes() == b"index"


@pytest.mark.parametrize("top_folder", [".", "my_model"])
def test_tar_gz_with_files_at_root_or_in_one_folder(tmp_path, model_dir, top_folder):
    archive = tar_gz_directory(tmp_path / "m.tar.gz", model_dir, top_folder)
    root = safe_extract(archive, tmp_path / "out")
    assert root == (tmp_path / "out" if top_folder == "." else tmp_path / "out" / top_folder)
    assert (root / "saved_model.pb").read_bytes() == b"placeholder graph"


def test_content_decides_the_format_not_the_name(tmp_path, model_dir):
    archive = tar_gz_directory(tmp_path / "upload.bin", model_dir)
    assert (safe_extract(archive, tmp_path / "out") / "saved_model.pb").is_file()


@pytest.mark.parametrize(
    "name", ["../evil.txt", "model/../../evil.txt", "/tmp/evil.txt", "C:/evil.txt", "..\\evil.txt"]
)
def test_zip_member_escaping_the_destination(tmp_path, name):
    archive = zip_files(tmp_path / "m.zip", {"saved_model.pb": b"g", name: b"pwned"})
    error = rejected(archive, tmp_path / "a" / "out")
    assert (error.status, error.code) == (422, "unsafe_archive_member")
    assert error.details == {"member": name}
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "a" / "evil.txt").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil-shears.txt"])
def test_tar_member_escaping_the_destination(tmp_path, name):
    archive = tar_gz_files(tmp_path / "m.tar.gz", {"saved_model.pb": b"g", name: b"pwned"})
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (422, "unsafe_archive_member")
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil-shears.txt").exists()


def test_zip_symlink_is_refused(tmp_path):
    error = rejected(zip_symlink(tmp_path / "m.zip", "variables", "/etc"), tmp_path / "out")
    assert (error.status, error.code) == (422, "unsafe_archive_member")
    assert "symbolic link" in error.message
    assert not (tmp_path / "out" / "variables").exists()


@pytest.mark.parametrize("mode", [stat.S_IFCHR | 0o600, stat.S_IFBLK | 0o600, stat.S_IFIFO | 0o600])
def test_zip_device_and_fifo_members_are_refused(tmp_path, mode):
    error = rejected(zip_with_mode(tmp_path / "m.zip", "dev", b"", mode), tmp_path / "out")
    assert (error.status, error.code) == (422, "unsafe_archive_member")


@pytest.mark.parametrize(
    ("kind", "linkname", "words"),
    [
        (tarfile.SYMTYPE, "/etc/passwd", "symbolic link"),
        (tarfile.LNKTYPE, "/etc/passwd", "hard link"),
        (tarfile.CHRTYPE, "", "device file"),
        (tarfile.BLKTYPE, "", "device file"),
        (tarfile.FIFOTYPE, "", "fifo"),
    ],
)
def test_tar_links_devices_and_fifos_are_refused(tmp_path, kind, linkname, words):
    members = [tar_entry("saved_model.pb"), tar_entry("variables/data", kind, linkname)]
    archive = tar_gz_members(tmp_path / "m.tar.gz", members, {"saved_model.pb": b"g"})
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (422, "unsafe_archive_member")
    assert words in error.message
    assert not (tmp_path / "out" / "variables" / "data").exists()


def test_zip_bomb_by_total_size_stops_at_the_cap(tmp_path):
    archive = zip_of_zeros(tmp_path / "bomb.zip", 64 * MiB)
    limits = ExtractLimits(max_total_bytes=8 * MiB, max_ratio=10_000)
    error = rejected(archive, tmp_path / "out", limits)
    assert (error.status, error.code) == (413, "archive_too_large")
    written = sum(f.stat().st_size for f in (tmp_path / "out").rglob("*") if f.is_file())
    assert written <= 8 * MiB


def test_zip_bomb_by_compression_ratio(tmp_path):
    archive = zip_of_zeros(tmp_path / "bomb.zip", 64 * MiB)
    assert archive.stat().st_size < MiB
    error = rejected(archive, tmp_path / "out")  # default limits: ratio 200 past 16 MiB
    assert (error.status, error.code) == (413, "compression_ratio_exceeded")


def test_tar_bomb_by_compression_ratio(tmp_path):
    archive = tar_gz_of_zeros(tmp_path / "bomb.tar.gz", 64 * MiB)
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (413, "compression_ratio_exceeded")


def test_tar_bomb_by_member_count(tmp_path):
    files = {f"variables/shard_{i}": b"x" for i in range(50)}
    error = rejected(
        tar_gz_files(tmp_path / "m.tar.gz", files), tmp_path / "out", ExtractLimits(max_members=20)
    )
    assert (error.status, error.code) == (413, "too_many_members")
    assert len(list((tmp_path / "out").rglob("shard_*"))) <= 20


def test_zip_member_count_is_refused_before_writing(tmp_path):
    files = {f"variables/shard_{i}": b"x" for i in range(50)}
    error = rejected(
        zip_files(tmp_path / "m.zip", files), tmp_path / "out", ExtractLimits(max_members=20)
    )
    assert (error.status, error.code) == (413, "too_many_members")
    assert not list((tmp_path / "out").rglob("shard_*"))


def test_tar_with_a_huge_extended_header(tmp_path):
    archive = tmp_path / "m.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        member = tar_entry("saved_model.pb")
        member.pax_headers = {"comment": "x" * (2 * MiB)}
        tar.addfile(member, None)
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (413, "archive_header_too_large")


def test_nested_archive_does_not_count_as_a_model(tmp_path, model_dir):
    inner = zip_directory(tmp_path / "inner.zip", model_dir)
    archive = zip_files(tmp_path / "outer.zip", {"inner.zip": inner.read_bytes()})
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (422, "no_saved_model")
    assert "archives inside the archive are not unpacked" in error.message


def test_archive_without_saved_model(tmp_path):
    archive = zip_files(tmp_path / "m.zip", {"README.md": b"hello", "weights.bin": b"1"})
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (422, "no_saved_model")


def test_archive_with_two_saved_models(tmp_path):
    files = {"a/saved_model.pb": b"g", "b/saved_model.pb": b"g"}
    error = rejected(zip_files(tmp_path / "m.zip", files), tmp_path / "out")
    assert (error.status, error.code) == (422, "multiple_saved_models")
    assert "a/saved_model.pb" in error.message and "b/saved_model.pb" in error.message


def test_saved_model_nested_deeper_than_one_folder(tmp_path):
    files = {"exports/v1/saved_model.pb": b"g"}
    error = rejected(zip_files(tmp_path / "m.zip", files), tmp_path / "out")
    assert (error.status, error.code) == (422, "saved_model_too_deep")


def test_duplicate_member_names(tmp_path):
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("saved_model.pb", b"first")
        zf.writestr("saved_model.pb", b"second")
    assert rejected(archive, tmp_path / "out").code == "duplicate_archive_member"


def test_empty_file(tmp_path):
    (tmp_path / "m.zip").write_bytes(b"")
    error = rejected(tmp_path / "m.zip", tmp_path / "out")
    assert (error.status, error.code) == (415, "empty_file")


def test_file_that_is_not_an_archive(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"just some text, not an archive\n" * 10)
    error = rejected(tmp_path / "model.bin", tmp_path / "out")
    assert (error.status, error.code) == (415, "unsupported_file_type")


def test_gzip_that_is_not_a_tar(tmp_path):
    (tmp_path / "m.tar.gz").write_bytes(gzip.compress(b"not a tar archive" * 100))
    error = rejected(tmp_path / "m.tar.gz", tmp_path / "out")
    assert (error.status, error.code) == (415, "unsupported_file_type")


def test_wrong_extension_for_the_content(tmp_path, model_dir):
    archive = tar_gz_directory(tmp_path / "upload", model_dir)
    with pytest.raises(UploadRejected) as caught:
        inspect_model_upload(archive, tmp_path / "out", ExtractLimits(), "model.zip")
    assert (caught.value.status, caught.value.code) == (415, "extension_mismatch")
    assert ".zip" in caught.value.message and "tar.gz" in caught.value.message


def test_truncated_zip_is_corrupt(tmp_path, model_dir):
    archive = zip_directory(tmp_path / "m.zip", model_dir)
    archive.write_bytes(archive.read_bytes()[:60])
    error = rejected(archive, tmp_path / "out")
    assert (error.status, error.code) == (422, "corrupt_archive")
