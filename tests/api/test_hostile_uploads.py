"""Issue 5's hostile archives and models, sent through the real API (test_upload_checks.py has
the first few; tests/unit/inspection tries the same files function by function). Each is a 4xx in
the envelope with a reason a user can act on; nothing is stored, no file is left behind or
planted outside the service's directories, and /readyz is still 200 (the `nothing_kept` fixture).
"""

from __future__ import annotations

import stat
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tensorflow as tf
from fastapi.testclient import TestClient

from tests.api.conftest import ESCAPE_MARKER, assert_error, upload
from tests.api.files import ModelFiles
from tests.unit.inspection import model_builders as mb
from tests.unit.inspection.archive_builders import (
    SAVED_MODEL_FILES,
    rewritten_keras,
    tar_entry,
    tar_gz_files,
    tar_gz_members,
    tar_gz_of_zeros,
    zip_directory,
    zip_files,
    zip_of_zeros,
    zip_symlink,
    zip_with_mode,
    zip_with_undecodable_name,
)

MiB = 1024**2
MARKED = f"variables/{ESCAPE_MARKER}"


def tar_special(kind: bytes, linkname: str = "") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        members = [tar_entry("saved_model.pb"), tar_entry(MARKED, kind, linkname)]
        return tar_gz_members(folder / "m.tar.gz", members, {"saved_model.pb": b"g"})

    return build


def tar_named_in_latin1(folder: Path) -> Path:
    """A `../` member whose name is not UTF-8: tarfile hands it over with surrogates."""
    path = folder / "latin1.tar.gz"
    with tarfile.open(path, "w:gz", encoding="latin-1") as tar:
        tar.addfile(tar_entry(f"../\xff{ESCAPE_MARKER}"), None)
    return path


# (builder of the upload in a folder, settings for the request, status, code, words of the reason)
ARCHIVES: dict[str, tuple[Callable[[Path], Path], dict[str, Any], int, str, str]] = {
    "zip-symlink": (
        lambda d: zip_symlink(d / "m.zip", "variables", "/etc"),
        {},
        422,
        "unsafe_archive_member",
        "symbolic link",
    ),
    "zip-device": (
        lambda d: zip_with_mode(d / "m.zip", MARKED, b"", stat.S_IFCHR | 0o600),
        {},
        422,
        "unsafe_archive_member",
        "device file",
    ),
    "tar-hardlink": (
        tar_special(tarfile.LNKTYPE, "/etc/passwd"),
        {},
        422,
        "unsafe_archive_member",
        "hard link",
    ),
    "tar-device": (tar_special(tarfile.CHRTYPE), {}, 422, "unsafe_archive_member", "device"),
    "tar-fifo": (tar_special(tarfile.FIFOTYPE), {}, 422, "unsafe_archive_member", "fifo"),
    "tar-slip": (
        lambda d: tar_gz_files(d / "m.tar.gz", {f"../../{ESCAPE_MARKER}": b"x"}),
        {},
        422,
        "unsafe_archive_member",
        "'..'",
    ),
    "tar-absolute-path": (
        lambda d: tar_gz_files(d / "m.tar.gz", {f"/tmp/{ESCAPE_MARKER}": b"x"}),
        {},
        422,
        "unsafe_archive_member",
        "absolute path",
    ),
    "tar-slip-not-utf8": (tar_named_in_latin1, {}, 422, "unsafe_archive_member", "'..'"),
    "zip-name-not-utf8": (
        lambda d: zip_with_undecodable_name(d / "m.zip", SAVED_MODEL_FILES, "fingerprint.pb"),
        {},
        422,
        "corrupt_archive",
        "utf-8",
    ),
    "zip-bomb-ratio": (
        lambda d: zip_of_zeros(d / "bomb.zip", 32 * MiB),
        {},
        413,
        "compression_ratio_exceeded",
        "zip bomb",
    ),
    "zip-bomb-size": (
        lambda d: zip_of_zeros(d / "bomb.zip", 32 * MiB),
        {"max_extracted_bytes": 8 * MiB},
        413,
        "archive_too_large",
        str(8 * MiB),
    ),
    "tar-bomb": (
        lambda d: tar_gz_of_zeros(d / "bomb.tar.gz", 32 * MiB),
        {},
        413,
        "compression_ratio_exceeded",
        "zip bomb",
    ),
    "too-many-members": (
        lambda d: tar_gz_files(d / "m.tar.gz", {f"variables/{i}": b"x" for i in range(30)}),
        {"max_archive_members": 20},
        413,
        "too_many_members",
        "20",
    ),
    "nested-archive": (
        lambda d: zip_files(
            d / "outer.zip",
            {"inner.zip": zip_files(d / "inner.zip", SAVED_MODEL_FILES).read_bytes()},
        ),
        {},
        422,
        "no_saved_model",
        "archives inside the archive are not unpacked",
    ),
    "two-saved-models": (
        lambda d: zip_files(d / "m.zip", {"a/saved_model.pb": b"g", "b/saved_model.pb": b"g"}),
        {},
        422,
        "multiple_saved_models",
        "one model per archive",
    ),
}


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize("case", ARCHIVES)
def test_hostile_archives_are_refused(
    client: TestClient,
    tmp_path: Path,
    settings_update: Callable[[dict[str, Any]], None],
    case: str,
) -> None:
    build, settings, status, code, words = ARCHIVES[case]
    settings_update(settings)
    error = assert_error(upload(client, "models", build(tmp_path)), status, code)
    assert words in error["message"]


def matches_files(module: mb.Classifier, x: tf.Tensor) -> tf.Tensor:
    found = tf.cast(tf.size(tf.io.matching_files("/etc/*")), tf.float32)
    return tf.matmul(x, module.w) + found


def numpy_function(module: mb.Classifier, x: tf.Tensor) -> tf.Tensor:
    return tf.numpy_function(lambda a: a * 2.0, [tf.matmul(x, module.w)], tf.float32)


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """SavedModels that run more than maths, and one without a signature, zipped."""
    root = tmp_path_factory.mktemp("hostile_saved_models")
    modules = {
        "WriteFile": mb.module_with_hidden_file_write(),
        "MatchingFiles": mb.Classifier(matches_files),
        "PyFunc": mb.Classifier(numpy_function),
        "EagerPyFunc": mb.Classifier(mb.calls_python),
    }
    saved = {name: mb.save_module(root / name, module) for name, module in modules.items()}
    saved["no-signature"] = mb.save_module(root / "nosig", with_signature=False)
    return {name: zip_directory(root / f"{name}.zip", path) for name, path in saved.items()}


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize("op", ["WriteFile", "MatchingFiles", "PyFunc", "EagerPyFunc"])
def test_saved_models_with_ops_off_the_allow_list_are_refused(
    client: TestClient, saved_models: dict[str, Path], op: str
) -> None:
    error = assert_error(upload(client, "models", saved_models[op]), 422, "forbidden_op")
    assert f"op {op!r}" in error["message"]
    assert op in {found["op"] for found in error["details"]["forbidden_ops"]}


@pytest.mark.usefixtures("nothing_kept")
def test_a_saved_model_without_signatures_is_refused(
    client: TestClient, saved_models: dict[str, Path]
) -> None:
    error = assert_error(upload(client, "models", saved_models["no-signature"]), 422)
    assert error["code"] == "no_signatures" and "signature" in error["message"]


def layer(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in config["config"]["layers"] if entry["config"]["name"] == name)


def set_config(layer_name: str, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: layer(config, layer_name)["config"].update(values)


def swap_hidden(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: layer(config, "hidden").update(values)


CALL_OS_SYSTEM: dict[str, Any] = {
    "module": "os",
    "class_name": "system",
    "config": {},
    "registered_name": None,
}
CALL_SUBPROCESS: dict[str, Any] = {
    "module": "subprocess",
    "class_name": "function",
    "config": "run",
    "registered_name": "function",
}
# (change to config.json, code, words of the reason)
KERAS_CONFIGS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "initializer-from-os": (
        set_config("hidden", kernel_initializer=CALL_OS_SYSTEM),
        "custom_object",
        "'os'",
    ),
    "activation-from-subprocess": (
        set_config("hidden", activation=CALL_SUBPROCESS),
        "custom_object",
        "run",
    ),
    "custom-layer-class": (
        swap_hidden(module="my_package.layers", class_name="Evil", registered_name="my>Evil"),
        "custom_object",
        "Evil",
    ),
    "layer-that-loads-files": (swap_hidden(class_name="TFSMLayer"), "forbidden_layer", "TFSMLayer"),
    # Input names become the signature's, stored in a JSON column that refuses these.
    "nul-in-a-name": (set_config("features", name="feat\x00ures"), "unstorable_name", "NUL"),
    "lone-surrogate-in-a-name": (
        set_config("features", name="feat\ud800ures"),
        "unstorable_name",
        "Unicode",
    ),
}


@pytest.mark.usefixtures("nothing_kept")
@pytest.mark.parametrize("case", KERAS_CONFIGS)
def test_keras_files_naming_code_or_odd_names_are_refused(
    client: TestClient, model_files: ModelFiles, tmp_path: Path, case: str
) -> None:
    change, code, words = KERAS_CONFIGS[case]
    crafted = rewritten_keras(model_files.keras, tmp_path / "crafted.keras", change)
    error = assert_error(upload(client, "models", crafted), 422, code)
    assert words in error["message"]
