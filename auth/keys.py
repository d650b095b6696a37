"""The keys that sign and verify access tokens, from the settings (or made for development)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from marketgraph.settings import MIN_SECRET_BYTES, Mode, Settings

DEV_SECRET_FILE = "jwt-secret"


class KeyConfigurationError(Exception):
    """The settings do not give a usable signing key (the server must not start)."""


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """The algorithm, the key that signs new tokens (with its kid) and every key that verifies."""

    algorithm: str
    signing_kid: str
    signing_key: Any
    verifying_keys: dict[str, Any] = field(default_factory=dict)
    development_secret: Path | None = None  # where the generated secret is, if one is used


def load_keys(settings: Settings) -> SigningKeys:
    """The keys the settings describe; in development, a generated HS256 secret if none is set."""
    if settings.jwt_algorithm == "HS256":
        if settings.jwt_secret is not None:
            secret = settings.jwt_secret.get_secret_value()
            return SigningKeys("HS256", "hs256", secret, {"hs256": secret})
        path = _development_secret(settings)
        secret = path.read_text(encoding="utf-8").strip()
        return SigningKeys("HS256", "hs256", secret, {"hs256": secret}, development_secret=path)
    if settings.jwt_key_dir is None:
        raise KeyConfigurationError(
            f"MARKETGRAPH_JWT_KEY_DIR is required with MARKETGRAPH_JWT_ALGORITHM="
            f"{settings.jwt_algorithm}"
        )
    private = {path.stem: path for path in sorted(settings.jwt_key_dir.glob("*.pem"))}
    if not private:
        raise KeyConfigurationError(f"no <kid>.pem keys in {settings.jwt_key_dir}")
    keys = {kid: _private_key(path, settings.jwt_algorithm) for kid, path in private.items()}
    # Rotation: the newest key (last kid in sort order) signs; older ones still verify.
    newest = max(keys)
    return SigningKeys(
        settings.jwt_algorithm,
        newest,
        keys[newest],
        {kid: key.public_key() for kid, key in keys.items()},
    )


_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "EdDSA": (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey),
    "RS256": (rsa.RSAPrivateKey,),
}


def _private_key(path: Path, algorithm: str) -> Any:
    """A private key file that fits the algorithm, or a clear reason why not."""
    try:
        key = load_pem_private_key(path.read_bytes(), None)
    except (OSError, TypeError, ValueError, UnsupportedAlgorithm) as error:
        raise KeyConfigurationError(
            f"{path} is not an unencrypted PEM private key: {error}"
        ) from None
    if not isinstance(key, _KEY_TYPES[algorithm]):
        raise KeyConfigurationError(
            f"{path} holds a {type(key).__name__}, not a key for {algorithm}"
        )
    return key


def _development_secret(settings: Settings) -> Path:
    """The generated HS256 secret in the data directory (refused in production)."""
    if settings.mode is Mode.PRODUCTION:
        raise KeyConfigurationError(
            "production mode needs MARKETGRAPH_JWT_SECRET (at least 32 bytes) or asymmetric keys"
        )
    path: Path = settings.data_dir / DEV_SECRET_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed into place, so a process starting alongside never reads
        # a half-written secret (the rename keeps whichever secret came first).
        draft = path.with_name(f".{DEV_SECRET_FILE}.{secrets.token_hex(4)}")
        draft.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if len(path.read_bytes().strip()) < MIN_SECRET_BYTES:
        raise KeyConfigurationError(f"{path} holds fewer than {MIN_SECRET_BYTES} bytes")
    return path
