"""Real SavedModels (Keras 3 export(), tf.Module) described from their protobufs, and graphs
with file, Python or print ops refused with the op and the function named."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from app.inspection import ExtractLimits, UploadRejected, inspect_model_upload
from app.inspection.saved_model_proto import read_saved_model

from .archive_builders import tar_gz_directory, zip_directory, zip_files

CNN_PRUNABLE = [
    {"name": "conv/kernel", "shape": [3, 3, 1, 4], "params": 36},
    {"name": "logits/kernel", "shape": [144, 10], "params": 1440},
]
# conv 36+4, batch norm 4x4, depthwise 36+4, logits 1440+10
CNN_PARAMS = 36 + 4 + 16 + 36 + 4 + 1440 + 10


def inspect_dir(model_dir: Path, tmp_path: Path, top_folder: str | None = "model"):
    archive = zip_directory(tmp_path / "upload.zip", model_dir, top_folder)
    return inspect_model_upload(archive, tmp_path / "work", ExtractLimits(), "model.zip")


def refusal(model_dir: Path, tmp_path: Path) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        inspect_dir(model_dir, tmp_path)
    return caught.value


def test_keras_export_is_described(built_models, tmp_path):
    described = inspect_dir(built_models["keras_export"], tmp_path)
    assert (described.format, described.container) == ("saved_model", "zip")
    assert described.signatures["serving_default"] == {
        "inputs": {"image": {"shape": [None, 8, 8, 1], "dtype": "float32"}},
        "outputs": {"output_0": {"shape": [None, 10], "dtype": "float32"}},
    }
    assert "__saved_model_init_op" not in described.signatures
    # The depthwise kernel "dw/kernel" is recognised from the graph, not from its name.
    assert described.prunable == CNN_PRUNABLE
    assert described.params_total == CNN_PARAMS
    assert described.params_prunable == 36 + 1440


def test_tf_module_is_described_from_a_tar_gz(built_models, tmp_path):
    archive = tar_gz_directory(tmp_path / "m.tar.gz", built_models["module"], "classifier")
    described = inspect_model_upload(archive, tmp_path / "work", ExtractLimits(), "m.tar.gz")
    assert (described.format, described.container) == ("saved_model", "tar.gz")
    assert described.signatures == {
        "serving_default": {
            "inputs": {"x": {"shape": [None, 4], "dtype": "float32"}},
            "outputs": {"y": {"shape": [None, 3], "dtype": "float32"}},
        }
    }
    # w is prunable; the bias is rank 1 and the int step counter is neither trainable nor float.
    assert described.prunable == [{"name": "w", "shape": [4, 3], "params": 12}]
    assert (described.params_total, described.params_prunable) == (15, 12)


def test_checkpoint_ops_are_allowed_in_tensorflows_own_save_function(built_models, tmp_path):
    proto = read_saved_model(built_models["module"] / "saved_model.pb")
    library_ops = {
        n.op for f in proto.meta_graphs[0].graph_def.library.function for n in f.node_def
    }
    assert {"SaveV2", "RestoreV2", "MergeV2Checkpoints"} <= library_ops
    assert inspect_dir(built_models["module"], tmp_path, top_folder=None).prunable


@pytest.mark.parametrize(
    ("model", "ops", "reason"),
    [
        ("reads_a_file", {"ReadFile"}, "reads or writes files"),
        ("calls_python", {"EagerPyFunc"}, "runs Python code"),
        ("prints", {"StringFormat", "PrintV2"}, "prints or formats output"),
        ("writes_a_checkpoint", {"SaveV2"}, "checkpoint"),
        ("python_in_a_branch", {"EagerPyFunc"}, "runs Python code"),
        ("hidden_file_write", {"WriteFile"}, "reads or writes files"),
        ("hidden_checkpoint_write", {"SaveV2"}, "checkpoint"),
    ],
)
def test_forbidden_ops_are_refused_naming_op_and_function(
    built_models, tmp_path, model, ops, reason
):
    error = refusal(built_models[model], tmp_path)
    assert (error.status, error.code) == (422, "forbidden_op")
    assert {found["op"] for found in error.details["forbidden_ops"]} == ops
    first = error.details["forbidden_ops"][0]
    assert first["function"].startswith("function '")  # a tf.function or a cond branch
    assert f"op {first['op']!r} in {first['function']}" in error.message
    assert reason in error.message


def test_model_without_a_serving_signature(built_models, tmp_path):
    error = refusal(built_models["module_without_signature"], tmp_path)
    assert (error.status, error.code) == (422, "no_signatures")


def test_corrupt_saved_model_pb(tmp_path):
    archive = zip_files(tmp_path / "m.zip", {"saved_model.pb": os.urandom(4096)})
    with pytest.raises(UploadRejected) as caught:
        inspect_model_upload(archive, tmp_path / "work", ExtractLimits(), "m.zip")
    assert (caught.value.status, caught.value.code) == (422, "corrupt_saved_model")


def test_truncated_saved_model_pb(built_models, tmp_path):
    graph = (built_models["module"] / "saved_model.pb").read_bytes()
    archive = zip_files(tmp_path / "m.zip", {"saved_model.pb": graph[: len(graph) // 2]})
    with pytest.raises(UploadRejected) as caught:
        inspect_model_upload(archive, tmp_path / "work", ExtractLimits(), "m.zip")
    assert caught.value.code == "corrupt_saved_model"


def test_tf_keras_saved_model_follows_the_saved_model_rules(tmp_path):
    """Trained as any SavedModel: float variables of rank >= 2 minus the depthwise filters."""
    tf_keras = pytest.importorskip("tf_keras")  # Keras 2; only in the `bench` extra
    layers = tf_keras.layers
    image = tf_keras.Input((8, 8, 1), name="image")
    x = layers.Conv2D(4, 3, name="conv")(image)
    x = layers.DepthwiseConv2D(3, name="dw")(layers.BatchNormalization(name="bn")(x))
    x = layers.Flatten()(x)
    outputs = layers.Dense(3, activation="softmax", name="logits")(x)
    tf_keras.Model(image, outputs).save(tmp_path / "tfk", save_format="tf")
    described = inspect_dir(tmp_path / "tfk", tmp_path)
    assert described.signatures["serving_default"]["inputs"] == {
        "image": {"shape": [None, 8, 8, 1], "dtype": "float32"}
    }
    assert described.prunable == [
        {"name": "conv/kernel", "shape": [3, 3, 1, 4], "params": 36},
        {"name": "logits/kernel", "shape": [64, 3], "params": 192},
    ]


def _model_files(model_dir: Path, extra: dict[str, bytes]) -> dict[str, bytes]:
    files = {
        path.relative_to(model_dir).as_posix(): path.read_bytes()
        for path in sorted(model_dir.rglob("*"))
        if path.is_file()
    }
    return {**files, **extra}


def test_the_check_writes_out_saved_model_pb_alone(built_models, tmp_path):
    """A big upload's weights need no second copy on disk while it is checked."""
    padding = {"assets/padding.bin": os.urandom(2 * 1024**2)}
    archive = zip_files(tmp_path / "m.zip", _model_files(built_models["module"], padding))
    inspect_model_upload(archive, tmp_path / "work", ExtractLimits(), "m.zip")
    written = {
        path.relative_to(tmp_path / "work").as_posix(): path.stat().st_size
        for path in (tmp_path / "work").rglob("*")
        if path.is_file() and path.stat().st_size
    }
    assert list(written) == ["saved_model.pb"]


def test_members_not_written_out_are_still_checked(built_models, tmp_path):
    """A damaged or duplicated weights file is refused as when every member was unpacked."""
    weights = b"w" * 4096
    files = _model_files(built_models["module"], {"assets/weights.bin": weights})
    damaged = zip_files(tmp_path / "damaged.zip", files, zipfile.ZIP_STORED)
    damaged.write_bytes(damaged.read_bytes().replace(weights, b"x" + weights[1:]))
    with pytest.raises(UploadRejected) as caught:
        inspect_model_upload(damaged, tmp_path / "work1", ExtractLimits(), "m.zip")
    assert (caught.value.status, caught.value.code) == (422, "corrupt_archive")

    duplicated = zip_files(tmp_path / "duplicated.zip", files)
    with zipfile.ZipFile(duplicated, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("assets/weights.bin", b"again")
    with pytest.raises(UploadRejected) as caught:
        inspect_model_upload(duplicated, tmp_path / "work2", ExtractLimits(), "m.zip")
    assert caught.value.code == "duplicate_archive_member"
