"""The trainer's peak memory on a large dataset (issue #13): the real command line,
`python -m worker.pruning MODEL DATA.npz ...`, run on a synthetic .npz of at least 2 GiB, its
resident memory (with any child processes) sampled until it exits. Goal: peak <= 1.5x the
dataset's bytes plus the model's.

The same job also runs on the code of a baseline commit (the in-memory input path before
the change), checked out in a temporary `git worktree`, so both ratios come from one run.

    python -m bench.trainer_memory [--quick] [--gib 2.0] [--baseline COMMIT | --no-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import write_result

REPO = Path(__file__).resolve().parent.parent
# The last commit whose trainer copied the whole dataset (npz read whole, cast and split
# copies, a whole-dataset shuffle buffer).
BASELINE_COMMIT = "3f941d3d83d8524f167344fa2a039325e5a5857c"
GOAL = 1.5
FEATURES = 1024  # float32 features per row: 4 KiB a row
CLASSES = 10
CHUNK_ROWS = 16384
SAMPLE_SECONDS = 0.05
HPARAMS = {"target_sparsity": 0.5, "sparsity_function_end_step": 200, "pruning_frequency": 20}
TRAINING = {"epochs": 1, "batch_size": 512, "optimizer": "adam", "learning_rate": 0.001}


def _write_member(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...], dtype, chunks):
    """One .npy member streamed into the zip uncompressed, as np.savez stores it."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False}
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(member, {**header, "shape": shape})
        for chunk in chunks:
            member.write(np.ascontiguousarray(chunk, dtype=dtype).tobytes())


def write_dataset(path: Path, rows: int) -> int:
    """A seeded synthetic x_train/y_train .npz (labels follow the features); its size."""
    rng = np.random.default_rng(0)
    labels = np.empty(rows, dtype=np.int64)

    def features():
        for start in range(0, rows, CHUNK_ROWS):
            chunk = rng.standard_normal((min(CHUNK_ROWS, rows - start), FEATURES), np.float32)
            labels[start : start + len(chunk)] = chunk[:, :CLASSES].argmax(axis=1)
            yield chunk

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _write_member(archive, "x_train", (rows, FEATURES), np.float32, features())
        _write_member(archive, "y_train", (rows,), np.int64, [labels])
    return path.stat().st_size


def write_model(path: Path) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((FEATURES,), name="features"),
            keras.layers.Dense(128, activation="relu", name="fc1"),
            keras.layers.Dense(CLASSES, name="logits"),
        ]
    )
    model.save(path)
    return path.stat().st_size


def _tree_rss_bytes(root: int) -> int:
    """Resident bytes of `root` and its descendants (0 for any that has gone)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            status = (Path("/proc") / str(pid) / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _high_water_bytes(pid: int) -> int:
    try:
        status = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return 0
    line = next((ln for ln in status.splitlines() if ln.startswith("VmHWM:")), None)
    return int(line.split()[1]) * 1024 if line else 0


def run_trainer(code_dir: Path, model: Path, data: Path, out: Path) -> dict[str, Any]:
    """The trainer command line on `code_dir`'s code: peak memory, wall time, its metrics."""
    argv = [str(model), str(data), "--hparams", json.dumps(HPARAMS)]
    argv += ["--training", json.dumps(TRAINING), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(code_dir), "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "worker.pruning", *argv],
        cwd=code_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = {"tree": 0, "hwm": 0}

    def sample() -> None:
        while process.poll() is None:
            peak["tree"] = max(peak["tree"], _tree_rss_bytes(process.pid))
            peak["hwm"] = max(peak["hwm"], _high_water_bytes(process.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = process.stdout.read().splitlines() if process.stdout else []
    process.wait()
    sampler.join()
    wall = time.monotonic() - started
    events = [json.loads(line) for line in lines if line.startswith("{")]
    last = events[-1] if events else {}
    if process.returncode != 0 or last.get("event") != "metrics":
        raise RuntimeError(f"the trainer failed ({process.returncode}): {last}")
    return {
        "peak_rss_bytes": max(peak.values()),
        "wall_seconds": round(wall, 1),
        "pruned_accuracy": last.get("pruned", {}).get("accuracy"),
        "train_examples": last["training"]["train_examples"],
        "validation_examples": last["training"]["validation_examples"],
    }


def baseline_worktree(commit: str, parent: Path) -> Path:
    target = parent / "baseline"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(target), commit],
        check=True,
        capture_output=True,
    )
    return target


def remove_worktree(path: Path) -> None:
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
        check=False,
        capture_output=True,
    )


def _entry(run: dict[str, Any], footprint: int) -> dict[str, Any]:
    return {**run, "peak_ratio": round(run["peak_rss_bytes"] / footprint, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 0.25 GiB dataset")
    parser.add_argument("--gib", type=float, default=2.0, help="dataset size in GiB")
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="commit to compare with")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    gib = 0.25 if args.quick else args.gib
    rows = int(gib * (1 << 30)) // (FEATURES * 4) + 1
    with tempfile.TemporaryDirectory(prefix="shears-bench-memory-") as scratch_dir:
        scratch = Path(scratch_dir)
        dataset_bytes = write_dataset(scratch / "data.npz", rows)
        model_bytes = write_model(scratch / "model.keras")
        footprint = dataset_bytes + model_bytes
        runs = {}
        if not args.no_baseline:
            code = baseline_worktree(args.baseline, scratch)
            try:
                runs["baseline"] = run_trainer(
                    code, scratch / "model.keras", scratch / "data.npz", scratch / "out-baseline"
                )
            finally:
                remove_worktree(code)
        runs["shears"] = run_trainer(
            REPO, scratch / "model.keras", scratch / "data.npz", scratch / "out"
        )
    measured = {name: _entry(run, footprint) for name, run in runs.items()}
    ratio = measured["shears"]["peak_ratio"]
    met = ratio <= GOAL and dataset_bytes >= (2 << 30)
    payload: dict[str, Any] = {
        "quick": args.quick,
        "goal_ratio": GOAL,
        "goal_met": met,
        "dataset_bytes": dataset_bytes,
        "model_bytes": model_bytes,
        "rows": rows,
        "features": FEATURES,
        "hparams": HPARAMS,
        "training": TRAINING,
        "baseline_commit": None if args.no_baseline else args.baseline,
        "runs": measured,
        "caveats": [],
    }
    if dataset_bytes < (2 << 30):
        payload["caveats"].append("the dataset is smaller than the goal's 2 GiB")
    if ratio > GOAL:
        payload["caveats"].append(f"peak {ratio}x dataset+model, above the goal's {GOAL}x")
    path = write_result("trainer_memory", payload)
    print(json.dumps(payload["runs"], indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
