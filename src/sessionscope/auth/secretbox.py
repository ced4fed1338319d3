"""Encryption at rest for secrets that must stay recoverable (HMAC signing secrets).

AES-256-GCM under the instance's master key; the text form is
base64url(nonce || ciphertext-with-tag).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class MasterKeyError(ValueError):
    """The master key is missing, malformed, or does not open a stored secret."""


def decode_master_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError:
        raise MasterKeyError("SESSIONSCOPE_MASTER_KEY must be base64 of 32 bytes") from None
    if len(raw) != 32:
        raise MasterKeyError("SESSIONSCOPE_MASTER_KEY must be base64 of 32 bytes")
    return raw


def new_master_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def load_or_create_key_file(path: Path) -> str:
    """The embedded store's key file beside the database, made once with mode 0600."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_master_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str) -> str:
        raw = base64.urlsafe_b64decode(token)
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
        except InvalidTag:
            raise MasterKeyError("a stored secret does not open with this master key") from None
