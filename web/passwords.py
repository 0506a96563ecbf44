"""Password hashing with scrypt (hashlib, OpenSSL): a memory-hard KDF from the standard
library, so no extra dependency. The parameters travel with each hash, so raising them later
leaves old hashes verifiable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "verify_password"]

# N=2^15, r=8, p=1 needs 32 MiB and ~0.1 s per hash on the 2-core machine here: slow enough
# to make guessing expensive, fast enough for a sign-in. (RFC 7914 suggests N=2^14 as the
# interactive minimum; OWASP lists N=2^17 for servers with the memory to spare.)
_N, _R, _P = 2**15, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 10  # NIST SP 800-63B asks for at least 8; passphrases are welcome


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kdf(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = _KEY_BYTES) -> bytes:
    # maxmem must exceed 128 * r * n bytes or OpenSSL refuses the parameters.
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * r * n + 1024 * 1024, dklen=dklen)


def hash_password(password: str) -> str:
    """'scrypt$N$r$p$salt$key' with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _kdf(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


# Verifying against this when the user does not exist costs the same time as a real check,
# so the answer's timing does not tell which names exist.
_DUMMY_HASH = f"scrypt${_N}${_R}${_P}${_b64(b'0' * _SALT_BYTES)}${_b64(b'0' * _KEY_BYTES)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored hash (constant-time compare). A missing or
    malformed hash never matches, after the same work as a real check."""
    parts = (stored or _DUMMY_HASH).split("$")
    valid = len(parts) == 6 and parts[0] == "scrypt"
    if not valid:
        parts = _DUMMY_HASH.split("$")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    except ValueError:
        return False
    # A tampered row must not make us allocate gigabytes.
    if not (1 < n <= 2**20 and 0 < r <= 32 and 0 < p <= 16 and 16 <= len(key) <= 64):
        return False
    candidate = _kdf(password, salt, n, r, p, len(key))
    return hmac.compare_digest(candidate, key) and valid and stored is not None
