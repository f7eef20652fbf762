"""The development tenant's API key for `make run`: made on first start, kept in
$DATA_DIR/dev-api-key (0600) and reused while it is still valid."""

from __future__ import annotations

from pathlib import Path

from app.core.api_keys import create_api_key, tenant_for_key
from app.core.db.session import session_scope

DEV_TENANT = "dev"
DEV_KEY_FILE = "dev-api-key"


def ensure_dev_api_key(data_dir: Path) -> tuple[str, bool]:
    """(key, created): the stored key if the database still knows it, else a new one."""
    key_file = data_dir / DEV_KEY_FILE
    with session_scope() as session:
        if key_file.exists():
            key = key_file.read_text().strip()
            if key and tenant_for_key(session, key) is not None:
                return key, False
        key = create_api_key(session, DEV_TENANT)
    key_file.unlink(missing_ok=True)
    key_file.touch(mode=0o600)
    key_file.write_text(key + "\n")
    return key, True
