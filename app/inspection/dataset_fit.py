"""Does a described dataset fit a described model's signature? Checked when a job is created, so
a mismatch is a 422 then rather than a failed job an hour later."""

from __future__ import annotations

from typing import Any

from app.inspection.descriptions import DatasetDescription, ModelDescription
from app.inspection.errors import UploadRejected
from app.inspection.tensor_specs import FLOAT_DTYPES, Shape, format_shape

# dtype kind of the data -> input dtypes it may feed (ints widen to floats, never the reverse).
_INT_DTYPES = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_FEEDS = {
    "b": _INT_DTYPES | FLOAT_DTYPES | {"bool"},
    "i": _INT_DTYPES | FLOAT_DTYPES,
    "u": _INT_DTYPES | FLOAT_DTYPES,
    "f": FLOAT_DTYPES,
}


def check_dataset_fits(
    model: ModelDescription, data: DatasetDescription, signature: str, is_classification: bool
) -> None:
    if signature not in model.signatures:
        names = ", ".join(sorted(model.signatures)) or "none"
        raise UploadRejected(
            422,
            "unknown_signature",
            f"the model has no signature {signature!r}; its "
            f"signatures are: {names}; set training.signature to one of them",
            {"signatures": sorted(model.signatures)},
        )
    spec = model.signatures[signature]
    splits = ["train", "val"] if data.n_val else ["train"]
    for split in splits:
        for key, name in _input_keys(data, spec["inputs"], split, signature):
            _check_input(key, data.arrays[key], name, spec["inputs"][name], signature)
        outputs = spec["outputs"]
        if len(outputs) == 1:
            name, output = next(iter(outputs.items()))
            _check_labels(f"y_{split}", data.arrays[f"y_{split}"], name, output, is_classification)


def _input_keys(
    data: DatasetDescription, inputs: dict[str, Any], split: str, signature: str
) -> list[tuple[str, str]]:
    prefix = f"x_{split}__"
    given = {k.removeprefix(prefix) for k in data.arrays if k.startswith(prefix)}
    if len(inputs) == 1 and f"x_{split}" in data.arrays:
        return [(f"x_{split}", next(iter(inputs)))]
    missing = sorted(set(inputs) - given)
    unknown = sorted(given - set(inputs))
    if missing or unknown:
        expected = ", ".join(prefix + name for name in sorted(inputs))
        raise UploadRejected(
            422,
            "inputs_mismatch",
            f"signature {signature!r} takes inputs "
            f"{', '.join(sorted(inputs))}, so the dataset needs the arrays {expected}"
            + (f"; missing: {', '.join(prefix + m for m in missing)}" if missing else "")
            + (f"; not an input: {', '.join(prefix + u for u in unknown)}" if unknown else ""),
            {"missing": [prefix + m for m in missing], "unknown": [prefix + u for u in unknown]},
        )
    return [(prefix + name, name) for name in sorted(inputs)]


def _check_input(
    key: str, array: dict[str, Any], name: str, spec: dict[str, Any], signature: str
) -> None:
    example, wanted = array["shape"][1:], spec["shape"]
    if wanted is not None and not _dims_fit(example, wanted[1:]):
        raise UploadRejected(
            422,
            "shape_mismatch",
            f"{key} has examples of shape {format_shape(example)} but input "
            f"{name!r} of signature {signature!r} expects {format_shape(wanted[1:])} per example "
            f"(batch shape {format_shape(wanted)}); reshape {key} to "
            f"{format_shape([array['shape'][0], *wanted[1:]])} and upload the dataset again",
            {"array": key, "input": name, "data_shape": array["shape"], "input_shape": wanted},
        )
    kind = _kind(array["dtype"])
    if spec["dtype"] not in _FEEDS.get(kind, set()):
        raise UploadRejected(
            422,
            "dtype_mismatch",
            f"{key} is {array['dtype']} but input {name!r} of signature "
            f"{signature!r} takes {spec['dtype']}; convert it with "
            f"{key}.astype('{spec['dtype']}') and upload the dataset again",
            {
                "array": key,
                "input": name,
                "data_dtype": array["dtype"],
                "input_dtype": spec["dtype"],
            },
        )


def _check_labels(
    key: str, array: dict[str, Any], name: str, output: dict[str, Any], is_classification: bool
) -> None:
    wanted = output["shape"]
    if wanted is None or len(wanted) < 1:
        return
    example, per_output = array["shape"][1:], wanted[1:]
    class_indices = example in ([], [1])
    if is_classification and class_indices and per_output and per_output[-1] is not None:
        _check_class_range(key, array, name, per_output[-1])
        return
    if not _dims_fit(example, per_output) and not {tuple(example), tuple(per_output)} <= {(), (1,)}:
        labels = "one-hot rows or class indices" if is_classification else "targets"
        raise UploadRejected(
            422,
            "label_shape_mismatch",
            f"{key} has labels of shape {format_shape(example)} but "
            f"output {name!r} gives {format_shape(per_output)} per example; provide {labels} "
            "that match the output",
            {"array": key, "output": name, "data_shape": array["shape"], "output_shape": wanted},
        )


def _check_class_range(key: str, array: dict[str, Any], name: str, classes: int) -> None:
    low, high = array.get("min"), array.get("max")
    if low is None or high is None:
        return
    top = max(classes, 2) - 1  # one sigmoid unit still takes labels 0 and 1
    if low < 0 or high > top:
        raise UploadRejected(
            422,
            "label_out_of_range",
            f"{key} holds class labels from {low:g} to {high:g} but "
            f"output {name!r} has {classes} unit(s), so labels must lie in [0, {top}]; "
            "re-encode the labels or use a model with more output classes",
            {"array": key, "output": name, "min": low, "max": high, "classes": classes},
        )


def _dims_fit(data: list[int], wanted: Shape) -> bool:
    if wanted is None:
        return True
    return len(data) == len(wanted) and all(
        w is None or w == d for d, w in zip(data, wanted, strict=True)
    )


def _kind(dtype: str) -> str:
    if dtype == "bool":
        return "b"
    if dtype.startswith("uint"):
        return "u"
    if dtype.startswith("int"):
        return "i"
    return "f" if dtype.startswith(("float", "bfloat")) else "?"
