"""--hparams and --training: the contrib string, inline JSON, and @file.json."""

from __future__ import annotations

import pytest

from shears_client.errors import ShearsError
from shears_client.inputs import parse_hparams_option, parse_training_option


def test_a_contrib_string_goes_to_the_api_as_written() -> None:
    text = "target_sparsity=0.9,do_not_prune=[conv1,fc.*]"
    assert parse_hparams_option(f"  {text} ") == text


def test_a_json_object_becomes_a_dict() -> None:
    assert parse_hparams_option('{"target_sparsity": 0.8, "threshold_decay": 0}') == {
        "target_sparsity": 0.8,
        "threshold_decay": 0,
    }


def test_values_are_read_from_an_at_file(tmp_path) -> None:
    (tmp_path / "h.json").write_text('{"pruning_frequency": 5}')
    (tmp_path / "h.txt").write_text("target_sparsity=0.5\n")
    (tmp_path / "t.json").write_text('{"epochs": 2, "batch_size": 64}')
    assert parse_hparams_option(f"@{tmp_path / 'h.json'}") == {"pruning_frequency": 5}
    assert parse_hparams_option(f"@{tmp_path / 'h.txt'}") == "target_sparsity=0.5"
    assert parse_training_option(f"@{tmp_path / 't.json'}") == {"epochs": 2, "batch_size": 64}


def test_absent_or_empty_values_mean_the_defaults() -> None:
    assert parse_hparams_option(None) is None
    assert parse_hparams_option("  ") is None
    assert parse_training_option(None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"epochs": 2,}', "--training is not valid JSON (Expecting property name"),
        ("[1, 2]", "--training must be a JSON object"),
        ("@/nonexistent/t.json", "--training: cannot read /nonexistent/t.json"),
    ],
)
def test_bad_training_values_name_the_option_and_the_problem(value: str, expected: str) -> None:
    with pytest.raises(ShearsError) as info:
        parse_training_option(value)
    assert info.value.code == "bad_option"
    assert info.value.message.startswith(expected)


def test_malformed_json_hparams_say_where() -> None:
    with pytest.raises(ShearsError, match=r"--hparams is not valid JSON .* line 1 column 21"):
        parse_hparams_option('{"target_sparsity": }')
