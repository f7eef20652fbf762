"""SHEARS_URL and SHEARS_API_KEY, else the development key that `make run` writes."""

from __future__ import annotations

import pytest

from shears_client.config import DEFAULT_URL, load_config
from shears_client.errors import ShearsError


def test_the_environment_sets_url_and_key(monkeypatch) -> None:
    monkeypatch.setenv("SHEARS_URL", "https://shears.example.com/")
    monkeypatch.setenv("SHEARS_API_KEY", "shr_from_env")
    config = load_config()
    assert (config.url, config.api_key) == ("https://shears.example.com", "shr_from_env")


def test_arguments_win_over_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SHEARS_API_KEY", "shr_from_env")
    config = load_config(url="http://other:9000", api_key="shr_arg")
    assert (config.url, config.api_key) == ("http://other:9000", "shr_arg")


def test_the_dev_key_in_dot_data_is_the_default(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "dev-api-key").write_text("shr_dev\n")
    config = load_config()
    assert (config.url, config.api_key) == (DEFAULT_URL, "shr_dev")


def test_data_dir_moves_the_dev_key(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "dev-api-key").write_text("shr_elsewhere")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_config().api_key == "shr_elsewhere"


def test_no_key_anywhere_says_how_to_get_one(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ShearsError) as info:
        load_config()
    assert info.value.code == "no_api_key"
    assert "SHEARS_API_KEY" in info.value.message and "make run" in info.value.message
