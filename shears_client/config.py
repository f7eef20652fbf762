"""Where the API is and which key to send: SHEARS_URL, SHEARS_API_KEY, else the local dev key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shears_client.errors import ShearsError

DEFAULT_URL = "http://127.0.0.1:8000"
DEV_KEY_FILENAME = "dev-api-key"


class ClientSettings(BaseSettings):
    # Environment only: the repository's .env describes the server, not this client.
    model_config = SettingsConfigDict(env_prefix="SHEARS_", extra="ignore")

    url: str = DEFAULT_URL
    api_key: str | None = None
    # Seconds to wait for a response (uploads and downloads stream; this bounds each read).
    timeout: float = Field(default=60.0, gt=0)
    # The same DATA_DIR as `make run`, where it writes the development key.
    data_dir: Path = Field(default=Path(".data"), validation_alias=AliasChoices("DATA_DIR"))


@dataclass(frozen=True)
class ClientConfig:
    url: str
    api_key: str
    timeout: float = 60.0


def dev_key_path(settings: ClientSettings) -> Path:
    return settings.data_dir / DEV_KEY_FILENAME


def load_config(url: str | None = None, api_key: str | None = None) -> ClientConfig:
    """Explicit arguments win over the environment; the dev key file is the last resort."""
    settings = ClientSettings()
    key = api_key or settings.api_key
    key_file = dev_key_path(settings)
    if not key and key_file.is_file():
        key = key_file.read_text(encoding="utf-8").strip()
    if not key:
        raise ShearsError(
            "no_api_key",
            f"no API key: set SHEARS_API_KEY, or start the service with `make run`, which "
            f"writes a development key to {key_file}",
        )
    return ClientConfig(
        url=(url or settings.url).rstrip("/"), api_key=key, timeout=settings.timeout
    )
