"""Mailbox passwords, encrypted at rest with a key from the environment (MAILBOX_SECRET_KEY)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = settings.MAILBOX_SECRET_KEY
    if not key:
        # Derived from SECRET_KEY when no key of its own is set: rotating SECRET_KEY then
        # means entering mailbox passwords again, which the mailbox page says.
        digest = hashlib.sha256(("threadline-mailbox:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode())


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "the stored password cannot be decrypted (was the key changed?): enter it again"
        ) from None
