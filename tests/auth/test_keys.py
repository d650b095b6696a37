"""Signing keys: HS256 secrets, EdDSA and RS256 key folders with kid rotation, production mode."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from auth.keys import KeyConfigurationError
from graph.app import create_app
from marketgraph.settings import Mode, Settings
from tests import factories
from tests.sessions import assert_unauthenticated, login, post, serving, viewer

ALGORITHMS = ("EdDSA", "RS256")
PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def new_key(algorithm: str) -> PrivateKey:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_key(key_dir: Path, kid: str, key: PrivateKey) -> None:
    key_dir.mkdir(exist_ok=True)
    (key_dir / f"{kid}.pem").write_bytes(pem(key))


def verified_claims(token: str, key: PrivateKey, algorithm: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        key.public_key(),
        algorithms=[algorithm],
        audience="marketgraph",
        issuer="marketgraph",
    )
    return claims


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_public_key(claims: dict[str, Any], kid: str, key: PrivateKey) -> str:
    """The algorithm-confusion attack: HMAC with the public key's PEM as the secret.

    Built by hand, because PyJWT itself refuses to use a PEM key as an HMAC secret.
    """
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def key_settings(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, algorithm: str
) -> Settings:
    """Settings that name the algorithm and key folder the documented way: the environment."""
    monkeypatch.setenv("MARKETGRAPH_JWT_ALGORITHM", algorithm)
    monkeypatch.setenv("MARKETGRAPH_JWT_KEY_DIR", str(tmp_path / "keys"))
    return Settings(database_url=database_url, data_dir=tmp_path / "data", jwt_secret=None)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_the_newest_key_signs_and_older_keys_still_verify(
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    algorithm: str,
) -> None:
    await factories.create_user(engine, username="alice")
    settings = key_settings(monkeypatch, database_url, tmp_path, algorithm)
    old, new = new_key(algorithm), new_key(algorithm)
    write_key(tmp_path / "keys", "2024-01", old)
    async with serving(settings) as before_rotation:
        issued_before = (await login(before_rotation, "alice")).access
    assert jwt.get_unverified_header(issued_before) == {
        "alg": algorithm,
        "typ": "JWT",
        "kid": "2024-01",
    }
    assert set(verified_claims(issued_before, old, algorithm)) >= {"sub", "sid", "jti"}

    write_key(tmp_path / "keys", "2025-06", new)
    async with serving(settings) as rotated:
        assert (await viewer(rotated, issued_before))["username"] == "alice"
        issued_after = (await login(rotated, "alice")).access
    assert jwt.get_unverified_header(issued_after)["kid"] == "2025-06"
    verified_claims(issued_after, new, algorithm)

    (tmp_path / "keys" / "2024-01.pem").unlink()
    async with serving(settings) as retired:
        assert_unauthenticated(await post(retired, "{ viewer { id } }", token=issued_before))
        assert (await viewer(retired, issued_after))["username"] == "alice"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_only_the_configured_algorithm_and_keys_are_accepted(
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    algorithm: str,
) -> None:
    await factories.create_user(engine, username="alice")
    settings = key_settings(monkeypatch, database_url, tmp_path, algorithm)
    ours = new_key(algorithm)
    write_key(tmp_path / "keys", "k1", ours)
    other_algorithm = next(a for a in ALGORITHMS if a != algorithm)
    async with serving(settings) as client:
        claims = unverified_claims((await login(client, "alice")).access)
        # Re-signing the real claims with our key works; each forgery changes one thing.
        genuine = jwt.encode(claims, ours, algorithm=algorithm, headers={"kid": "k1"})
        assert (await viewer(client, genuine))["username"] == "alice"
        forgeries = {
            "a stranger's key": jwt.encode(
                claims, new_key(algorithm), algorithm=algorithm, headers={"kid": "k1"}
            ),
            "another algorithm": jwt.encode(
                claims, new_key(other_algorithm), algorithm=other_algorithm, headers={"kid": "k1"}
            ),
            "HS256 keyed with our public key": hs256_with_public_key(claims, "k1", ours),
            "alg none": jwt.encode(claims, "", algorithm="none", headers={"kid": "k1"}),
        }
        for name, token in forgeries.items():
            response = await post(client, "{ viewer { id } }", token=token)
            assert response.status_code == 401, name
            assert_unauthenticated(response)


def offline_settings(tmp_path: Path, **values: Any) -> Settings:
    """Settings for checks that end before any database is opened."""
    values.setdefault("jwt_secret", None)
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        data_dir=tmp_path / "data",
        **values,
    )


async def start(settings: Settings) -> None:
    """Build the app and run its lifespan (so its engine is disposed of)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        pass


async def test_production_mode_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(KeyConfigurationError, match="MARKETGRAPH_JWT_SECRET"):
        create_app(offline_settings(tmp_path, mode=Mode.PRODUCTION))

    assert not (tmp_path / "data").exists()
    await start(offline_settings(tmp_path, mode=Mode.PRODUCTION, jwt_secret=SecretStr("s" * 32)))


@pytest.mark.parametrize("mode", list(Mode))
async def test_asymmetric_algorithms_refuse_to_start_without_keys(
    tmp_path: Path, mode: Mode
) -> None:
    (tmp_path / "empty").mkdir()
    for key_dir in (None, tmp_path / "empty"):
        settings = offline_settings(tmp_path, mode=mode, jwt_algorithm="RS256", jwt_key_dir=key_dir)
        with pytest.raises(KeyConfigurationError):
            create_app(settings)


def test_a_secret_shorter_than_32_bytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        offline_settings(tmp_path, jwt_secret=SecretStr("s" * 31))


def _junk() -> bytes:
    return b"not a key\n"


def _public_key() -> bytes:
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _ed25519_key() -> bytes:
    return pem(ed25519.Ed25519PrivateKey.generate())


@pytest.mark.parametrize(
    "content", [_junk, _public_key, _ed25519_key], ids=["junk", "public-key", "ed25519-for-rs256"]
)
async def test_an_unusable_key_file_is_refused_at_start(
    tmp_path: Path, content: Callable[[], bytes]
) -> None:
    key_dir = tmp_path / "keys"
    key_dir.mkdir()
    (key_dir / "k1.pem").write_bytes(content())
    settings = offline_settings(tmp_path, jwt_algorithm="RS256", jwt_key_dir=key_dir)

    with pytest.raises(KeyConfigurationError):
        await start(settings)


async def test_development_keeps_a_generated_secret_in_the_data_dir(
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await factories.create_user(engine, username="alice")
    settings = Settings(database_url=database_url, data_dir=tmp_path / "dev", jwt_secret=None)

    with caplog.at_level(logging.WARNING, logger="auth.keys"):
        async with serving(settings) as first_run:
            token = (await login(first_run, "alice")).access
    assert "MARKETGRAPH_JWT_SECRET is not set" in caplog.text

    secret_file = tmp_path / "dev" / "jwt-secret"
    assert len(secret_file.read_bytes().strip()) >= 32
    assert secret_file.stat().st_mode & 0o777 == 0o600
    async with serving(settings) as restarted:
        assert (await viewer(restarted, token))["username"] == "alice"


def test_serve_in_production_without_a_secret_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MARKETGRAPH_")}
    env |= {"MARKETGRAPH_MODE": "production", "MARKETGRAPH_DATA_DIR": str(tmp_path / "state")}

    result = subprocess.run(
        [sys.executable, "-m", "marketgraph", "serve"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: production mode needs MARKETGRAPH_JWT_SECRET")
    assert not (tmp_path / "state" / "jwt-secret").exists()


async def test_no_header_on_a_key_configured_server_is_still_anonymous(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = key_settings(monkeypatch, database_url, tmp_path, "EdDSA")
    write_key(tmp_path / "keys", "k1", new_key("EdDSA"))
    async with serving(settings) as client:
        response = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"viewer": None}}
