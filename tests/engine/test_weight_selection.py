"""Which weights are pruned (PRUNING.md section 4) and how each is masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.pruning.contract.errors import PruningError
from worker.pruning.contract.hparams import parse_hparams
from worker.pruning.keras_adapter import KerasPrunableModel
from worker.pruning.saved_model_adapter import SavedModelPrunableModel
from worker.pruning.weight_selection import select_weights

DEFAULT_PRUNED = {
    "conv/kernel": (3, 3, 3, 4),
    "deconv/kernel": (3, 3, 4, 4),
    "separable/pointwise_kernel": (1, 1, 4, 8),
    "embedding/embeddings": (20, 4),
    "conv1d/kernel": (2, 4, 4),
    "dense/kernel": (24, 8),
    "head/kernel": (8, 3),
}


@pytest.fixture(scope="module")
def mixed(mixed_keras_file: Path) -> KerasPrunableModel:
    return KerasPrunableModel(str(mixed_keras_file))


def _selected(model, hparams) -> dict[str, object]:
    return {w.name: w for w in select_weights(model.candidate_weights(), parse_hparams(hparams))}


def test_keras_kernels_are_pruned_and_biases_norms_depthwise_are_not(mixed) -> None:
    selected = _selected(mixed, None)
    assert {name: w.weight.shape for name, w in selected.items()} == DEFAULT_PRUNED


def test_depthwise_kernels_only_when_named_in_weight_sparsity_map(mixed) -> None:
    selected = _selected(
        mixed, {"weight_sparsity_map": ["depthwise_kernel:0.3", "^depthwise$:0.4"]}
    )
    assert selected["separable/depthwise_kernel"].layer_target == 0.3
    assert selected["depthwise/kernel"].layer_target == 0.4  # matched by its layer's name
    assert selected["depthwise/kernel"].final_target == 0.4
    assert selected["dense/kernel"].final_target == 0.5


def test_do_not_prune_removes_weights_by_weight_or_layer_name(mixed) -> None:
    selected = _selected(mixed, "do_not_prune=[^head$,^conv.*/kernel,embed]")
    assert set(selected) == {"deconv/kernel", "separable/pointwise_kernel", "dense/kernel"}


def test_n_by_m_runs_along_each_kind_of_input_axis(mixed) -> None:
    selected = _selected(mixed, {"sparsity_m_by_n": "2:4"})
    axes = {name: w.spec.input_axis for name, w in selected.items()}
    assert axes["dense/kernel"] == 0 and axes["embedding/embeddings"] == 0
    assert axes["conv/kernel"] == -2 and axes["conv1d/kernel"] == -2
    assert axes["deconv/kernel"] == -1  # Keras keeps (h, w, out, in)
    assert {w.final_target for w in selected.values()} == {0.5}


def test_blocks_apply_to_rank_2_weights_and_follow_block_dims_map(mixed) -> None:
    selected = _selected(
        mixed, {"block_height": 2, "block_width": 2, "block_dims_map": ["head:1x-1"]}
    )
    assert selected["dense/kernel"].spec.block == (2, 2)
    assert selected["head/kernel"].spec.block == (1, 3)
    assert selected["conv/kernel"].spec.block == (1, 1)


def test_nothing_left_to_prune_is_refused(mixed) -> None:
    with pytest.raises(PruningError) as caught:
        _selected(mixed, {"do_not_prune": [".*"]})
    assert caught.value.code == "nothing_to_prune"
    assert "after do_not_prune" in caught.value.message


def test_saved_model_prunes_trainable_float_variables_of_rank_2(module_dir: Path) -> None:
    model = SavedModelPrunableModel(str(module_dir))
    selected = _selected(model, None)
    # hidden_bias has rank 1, temperature is not trainable.
    assert {n: w.weight.shape for n, w in selected.items()} == {"hidden": (64, 32), "out": (32, 10)}
    assert len(model.all_variables()) == 4


def test_keras_export_keeps_layer_names(keras_export_dir: Path) -> None:
    model = SavedModelPrunableModel(str(keras_export_dir))
    names = set(_selected(model, None))
    assert names == {"digits/conv1/kernel", "digits/fc1/kernel", "digits/logits/kernel"}
