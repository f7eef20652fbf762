"""The API process must never import TensorFlow or Keras, not even while inspecting a model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from .archive_builders import zip_directory

INSPECT_AND_LIST_MODULES = """
import json, sys
from pathlib import Path
import app.inspection as inspection
work = Path(sys.argv[1])
saved_model = inspection.inspect_model_upload(Path(sys.argv[2]), work / "a")
keras_file = inspection.inspect_model_upload(Path(sys.argv[3]), work / "b")
dataset = inspection.describe_dataset(Path(sys.argv[4]))
loss = "sparse_categorical_crossentropy"
inspection.check_dataset_fits(saved_model, dataset, "serving_default", loss, 0.25)
loaded = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")]
print(json.dumps({"formats": [saved_model.format, keras_file.format], "loaded": loaded}))
"""


def test_importing_app_inspection_loads_no_tensorflow():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, app.inspection; print(json.dumps(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    )
    modules = json.loads(result.stdout)
    assert not [m for m in modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")]


def test_inspecting_models_and_data_loads_no_tensorflow(built_models, tmp_path):
    archive = zip_directory(tmp_path / "export.zip", built_models["keras_export"])
    dataset = tmp_path / "data.npz"
    np.savez(dataset, x_train=np.zeros((4, 8, 8, 1), "float32"), y_train=np.arange(4))
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            INSPECT_AND_LIST_MODULES,
            str(tmp_path / "work"),
            str(archive),
            str(built_models["cnn.keras"]),
            str(dataset),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[3],
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"formats": ["saved_model", "keras"], "loaded": []}
