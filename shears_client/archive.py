"""SavedModel directories in and out of .tar.gz archives, and which files upload as they are."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from shears_client.errors import ShearsError

MODEL_FILE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".keras")
SAVED_MODEL_MARKER = "saved_model.pb"


def is_model_file(path: Path) -> bool:
    return path.name.lower().endswith(MODEL_FILE_SUFFIXES)


def pack_saved_model(directory: Path, dest_dir: Path) -> Path:
    """`tar czf` of the directory's contents, its files at the archive's root."""
    if not (directory / SAVED_MODEL_MARKER).is_file():
        raise ShearsError(
            "not_a_saved_model",
            f"{directory} has no {SAVED_MODEL_MARKER}: give a SavedModel directory "
            "(from model.export() or tf.saved_model.save()), or a .zip/.tar.gz/.keras file",
        )
    archive = dest_dir / f"{directory.resolve().name or 'saved_model'}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise ShearsError(
                    "unsupported_file",
                    f"{path} is a link or special file; a SavedModel holds only files and folders",
                )
            tar.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False)
    return archive


@contextmanager
def model_upload_file(path: Path) -> Iterator[Path]:
    """The file to upload for `path`: a SavedModel directory is archived in a temporary dir."""
    if path.is_dir():
        with tempfile.TemporaryDirectory(prefix="shears-upload-") as tmp:
            yield pack_saved_model(path, Path(tmp))
    elif not path.exists():
        raise ShearsError("file_not_found", f"{path} does not exist")
    elif is_model_file(path):
        yield path
    else:
        raise ShearsError(
            "unsupported_file",
            f"{path.name}: give a SavedModel directory, or a {'/'.join(MODEL_FILE_SUFFIXES)} file",
        )


def _checked_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for member in members:
        parts = PurePosixPath(member.name).parts
        if member.name.startswith(("/", "\\")) or ".." in parts:
            raise ShearsError("unsafe_archive", f"{member.name!r} points outside the folder")
        if not (member.isfile() or member.isdir()):
            raise ShearsError("unsafe_archive", f"{member.name!r} is a link or special file")
    return members


def _saved_model_root(folder: Path) -> Path:
    """The folder itself if it holds saved_model.pb, else its single top-level folder."""
    if (folder / SAVED_MODEL_MARKER).is_file():
        return folder
    children = list(folder.iterdir())
    if len(children) == 1 and (children[0] / SAVED_MODEL_MARKER).is_file():
        return children[0]
    raise ShearsError("not_a_saved_model", f"the archive holds no {SAVED_MODEL_MARKER}")


def require_empty_dir(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ShearsError(
            "destination_not_empty", f"{dest} exists and is not an empty folder; choose another"
        )
    dest.mkdir(parents=True, exist_ok=True)


def extract_saved_model(archive: Path, dest: Path) -> Path:
    """Unpack a SavedModel .tar.gz so that dest/saved_model.pb exists; nothing lands outside."""
    require_empty_dir(dest)
    # Staged inside dest so the final moves stay on one filesystem.
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=dest))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = _checked_members(tar)
                if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: a second line of defence
                    tar.extractall(staging, members=members, filter="data")
                else:
                    tar.extractall(staging, members=members)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ShearsError("bad_archive", f"cannot unpack {archive.name}: {exc}") from None
        root = _saved_model_root(staging)
        for child in list(root.iterdir()):
            shutil.move(child, dest / child.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dest
