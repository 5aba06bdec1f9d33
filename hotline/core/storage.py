"""Where uploaded files live. Local disk by default; object storage can implement the same three calls."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import current_app


class LocalStorage:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def save(self, data: bytes, suffix: str) -> str:
        """Store ``data`` under a new random key and return the key (never a user-chosen name)."""
        key = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}{suffix}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a reader never sees half a file
        return key

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)


def storage() -> LocalStorage:
    root = current_app.config.get("UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads")
    return LocalStorage(root)
