import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from worker.packaging import ArtifactError, package_outputs, read_metrics


def trainer_output(root: Path, secret: Path) -> Path:
    out = root / "out"
    (out / "saved_model" / "variables").mkdir(parents=True)
    (out / "saved_model" / "assets").mkdir()
    (out / "saved_model" / "saved_model.pb").write_bytes(b"pb")
    (out / "saved_model" / "variables" / "variables.index").write_bytes(b"index")
    (out / "saved_model" / "leak").symlink_to(secret)
    (out / "tensorboard").mkdir()
    (out / "tensorboard" / "events.out").write_bytes(b"ev")
    (out / "metrics.json").write_text(json.dumps({"pruned": {"accuracy": 0.9}}))
    return out


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "credentials"
    path.write_text("DATABASE_URL=postgresql://u:pw@db/x")
    return path


def test_saved_model_is_packed_in_one_folder_without_symlinks(tmp_path: Path, secret: Path) -> None:
    out = trainer_output(tmp_path, secret)
    files = package_outputs(out, tmp_path / "artifacts", keras_upload=False, max_bytes=10**6)
    assert set(files) == {
        "saved_model.zip",
        "saved_model.tar.gz",
        "metrics.json",
        "tensorboard.tar.gz",
    }
    names = zipfile.ZipFile(files["saved_model.zip"]).namelist()
    assert sorted(names) == [
        "saved_model/assets/",
        "saved_model/saved_model.pb",
        "saved_model/variables/",
        "saved_model/variables/variables.index",
    ]
    with tarfile.open(files["saved_model.tar.gz"]) as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert "saved_model/leak" not in members
    assert members["saved_model/saved_model.pb"].isfile()
    assert all(m.isfile() or m.isdir() for m in members.values())


def test_keras_upload_needs_the_keras_file(tmp_path: Path, secret: Path) -> None:
    out = trainer_output(tmp_path, secret)
    with pytest.raises(ArtifactError, match="model.keras"):
        package_outputs(out, tmp_path / "artifacts", keras_upload=True, max_bytes=10**6)
    (out / "model.keras").write_bytes(b"zip")
    files = package_outputs(out, tmp_path / "artifacts", keras_upload=True, max_bytes=10**6)
    assert files["model.keras"].read_bytes() == b"zip"


def test_outputs_over_the_cap_are_refused(tmp_path: Path, secret: Path) -> None:
    out = trainer_output(tmp_path, secret)
    with pytest.raises(ArtifactError) as caught:
        package_outputs(out, tmp_path / "artifacts", keras_upload=False, max_bytes=10)
    assert caught.value.code == "artifacts_too_large"


def test_missing_saved_model_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(ArtifactError, match="no SavedModel"):
        package_outputs(tmp_path / "out", tmp_path / "a", keras_upload=False, max_bytes=10**6)


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_metrics_must_be_a_json_object(tmp_path: Path, content: str) -> None:
    (tmp_path / "metrics.json").write_text(content)
    with pytest.raises(ArtifactError):
        read_metrics(tmp_path)


def test_metrics_symlink_is_not_followed(tmp_path: Path, secret: Path) -> None:
    (tmp_path / "metrics.json").symlink_to(secret)
    with pytest.raises(ArtifactError):
        read_metrics(tmp_path)


def test_requested_exports_are_packed_and_a_symlinked_one_is_not(
    tmp_path: Path, secret: Path
) -> None:
    out = trainer_output(tmp_path / "out", secret)
    (out / "tflite.tflite").write_bytes(b"TFL3 float")
    (out / "tflite_int8.tflite").symlink_to(secret)
    (out / "unasked.tflite").write_bytes(b"TFL3")
    files = package_outputs(
        out,
        tmp_path / "artifacts",
        keras_upload=False,
        max_bytes=10**6,
        exports=["tflite", "tflite_int8"],
    )
    assert files["tflite.tflite"].read_bytes() == b"TFL3 float"
    assert "tflite_int8.tflite" not in files
    assert not any("unasked" in kind for kind in files)
