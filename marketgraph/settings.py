"""Configuration from `MARKETGRAPH_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class Mode(StrEnum):
    """Whether the server runs for a developer or for the public."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Every knob of marketgraph; each field is `MARKETGRAPH_<NAME>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="MARKETGRAPH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    mode: Mode = Mode.DEVELOPMENT
    data_dir: Path = Path("data")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the SQLite file marketgraph.db in data_dir.",
    )
    read_replica_url: str = Field(
        default="",
        description="PostgreSQL URL that queries read from; mutations use the primary.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    shutdown_drain_seconds: float = Field(
        default=0, ge=0, description="On SIGTERM, serve this long with /readyz 503 first."
    )
    shutdown_timeout_seconds: int = Field(
        default=30, ge=1, description="Then how long requests in flight may take to finish."
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=30.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)

    jwt_algorithm: Literal["HS256", "EdDSA", "RS256"] = "HS256"
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 key, at least 32 bytes; generated in development."
    )
    jwt_key_dir: Path | None = Field(
        default=None,
        description="EdDSA/RS256: a folder of <kid>.pem private keys; the last kid signs.",
    )
    jwt_issuer: str = "marketgraph"
    jwt_audience: str = "marketgraph"
    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)

    # Query limits, checked before any resolver runs; 0 switches one off.
    max_depth: int = Field(default=12, ge=0)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=10_000, ge=0)
    max_cost: int = Field(default=50_000, ge=0, description="Nodes a query may return.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=0, description="413 above; 0: no limit.")

    rate_limit_points: int = Field(
        default=5000, ge=0, description="Points per caller per window; 0: no rate limit."
    )
    rate_limit_window_seconds: int = Field(default=3600, ge=1)

    # The HTTP endpoint.
    introspection: bool | None = Field(
        default=None, description="Allow __schema/__type; unset: on in development only."
    )
    field_suggestions: bool | None = Field(
        default=None, description='"Did you mean …?" in errors; unset: development only.'
    )
    graphiql: bool | None = Field(
        default=None, description="Serve GraphiQL to browsers; unset: development only."
    )
    cors_origins: list[str] = Field(
        default=[], description='Origins allowed by CORS, as JSON: ["https://app.example"].'
    )
    persisted_query_cache_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1, description="Characters of APQ documents kept per worker."
    )
    trusted_documents: Path | None = Field(
        default=None, description="A manifest {hash: document}; when set, only these run."
    )
    cache_max_age: int = Field(
        default=60, ge=0, description="max-age of anonymous GETs of persisted queries."
    )
    load_ahead: bool = Field(
        default=True, description="Load what a list's nodes follow once per list (graph/ahead.py)."
    )
    document_cache_size: int = Field(
        default=256, ge=0, description="Parsed, validated documents kept per worker; 0: none."
    )
    compiled_execution: bool = Field(
        default=True, description="Run the queries graph/compiled supports without Strawberry."
    )

    # The cyclic garbage collector of a serving worker (marketgraph/runtime.py).
    gc_threshold: int = Field(
        default=50_000, ge=0, description="Allocations between young collections; 0: Python's."
    )
    gc_freeze: bool = Field(
        default=True, description="Exempt what start-up allocated from every collection."
    )

    # Subscriptions over websockets (graphql-transport-ws).
    subscription_init_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a socket may wait before connection_init."
    )
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    max_sockets_per_caller: int = Field(
        default=10,
        ge=0,
        description="Websockets one user or anonymous address may keep open per worker; 0: any.",
    )
    subscription_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Events a subscriber may fall behind before its socket is closed.",
    )

    @field_validator("database_url", "read_replica_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL: {value!r}") from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"unsupported driver {url.drivername!r}; use one of {', '.join(SUPPORTED_DRIVERS)}"
            )
        return value

    @field_validator("read_replica_url")
    @classmethod
    def _replica_of_postgresql(cls, value: str, info: ValidationInfo) -> str:
        primary = info.data.get("database_url", "")
        if value and not (_is_postgresql(value) and primary and _is_postgresql(primary)):
            raise ValueError(
                "a read replica needs PostgreSQL for both MARKETGRAPH_DATABASE_URL and the "
                "replica; SQLite is one file with nothing to replicate to"
            )
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes")
        return value

    @property
    def introspection_allowed(self) -> bool:
        """Whether __schema and __type may be queried."""
        return self._development_unless(self.introspection)

    @property
    def field_suggestions_shown(self) -> bool:
        """Whether validation errors suggest similar names (which leaks the schema)."""
        return self._development_unless(self.field_suggestions)

    @property
    def graphiql_enabled(self) -> bool:
        """Whether browsers get GraphiQL at the endpoint."""
        return self._development_unless(self.graphiql)

    def _development_unless(self, choice: bool | None) -> bool:
        return self.mode is Mode.DEVELOPMENT if choice is None else choice

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'marketgraph.db').resolve()}"


def _is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
