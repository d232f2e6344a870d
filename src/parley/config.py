"""The one typed settings object.

Built by :func:`load_settings` (in ``create_app`` and each CLI command), never read at import time.
Sources, strongest first: explicit keyword arguments, ``PARLEY_*`` environment variables, the TOML
file named by ``PARLEY_CONFIG`` (or ``--config``), then the defaults below. ``parley.example.toml``
at the repository root documents every option.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Parley's configuration. Every field: a doc, a default, an env var ``PARLEY_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="PARLEY_",
        extra="forbid",
        validate_default=True,
    )

    # --- storage -------------------------------------------------------------------------------
    database_url: str = Field(
        "sqlite:///var/parley.db",
        description="sqlite:///path (relative to the working directory) or postgresql://user@host/db.",
    )
    data_dir: Path = Field(Path("var"), description="Directory for the SQLite file, secrets and models.")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite synchronous mode in WAL. FULL: a commit acknowledged to a client survives "
        "power loss; NORMAL survives process crashes only (faster).",
    )
    db_pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connection pool size per process.")
    db_max_overflow: int = Field(10, ge=0, le=200, description="Extra PostgreSQL connections under load.")
    redis_url: str | None = Field(
        None, description="redis://host:port/db. When set, cache, rate limits and live events are shared."
    )

    # --- server --------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `parley serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `parley serve` binds to.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes for `parley serve`.")
    write_turns: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="Readers' write requests (post, edit, delete, vote on, report a comment) a worker "
        "handles at once; the others wait for a turn on their thread. Unset: 2 on PostgreSQL (a stream "
        "of POSTs ran 28-51 % faster than without a limit), none on SQLite, whose writers queue for its "
        "write lock anyway. 0: no limit (docs/operations.md).",
    )
    machine_shared_state: bool = Field(
        False,
        description="Without redis_url, keep live events, rate limits and flood counts in a file beside "
        "the database that every process of this machine shares (on by itself when workers > 1; turn it "
        "on for several `parley serve` processes of one machine behind one proxy).",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL readers reach Parley at (links in statements, mails)."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Secret for signing cursors, cookies and links. Generated into data_dir when unset.",
        json_schema_extra={"secret": True},
    )
    ip_hash_key: SecretStr | None = Field(
        None,
        description="Key for hashing client IPs (never stored raw). Derived from secret_key when unset.",
        json_schema_extra={"secret": True},
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Networks whose X-Forwarded-For is believed (e.g. ['127.0.0.1/32']). Empty: none.",
    )
    max_request_bytes: int = Field(
        256 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest request body accepted (bytes)."
    )
    cookie_secure: bool | None = Field(
        None, description="Mark cookies Secure. Default: when public_url is https."
    )
    session_days: int = Field(30, ge=1, le=365, description="Lifetime of a login session.")
    default_site: str = Field("demo", description="Site slug used when a request names none.")
    default_locale: Literal["de", "en"] = Field("de", description="Language when nothing else decides.")
    log_level: str = Field("INFO", description="Python log level.")
    access_log: bool = Field(False, description="uvicorn access log (paths only; never bodies or IPs).")
    docs_enabled: bool = Field(True, description="Serve /api/v1/docs (the OpenAPI schema is always served).")
    gc_young_threshold: int = Field(
        50_000,
        ge=700,
        le=10_000_000,
        description="A served worker's garbage collector looks at new objects after this many "
        "allocations (Python's default: 700). Nearly everything a request makes is freed by reference "
        "counting; collecting less often spared ~0.35 ms of a POST at 64 connections "
        "(docs/performance.md).",
    )
    opentelemetry: bool = Field(
        False,
        description="FastAPI's own OpenTelemetry spans, metrics and logs, exported by the providers you "
        "configure (e.g. `opentelemetry-instrument parley serve`). Off: no request asks for them.",
    )

    # --- background work -------------------------------------------------------------------------
    jobs_in_process: bool = Field(
        True,
        description="Run background jobs in a thread of each app process (off when `parley worker` runs).",
    )
    jobs_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How often an idle job worker looks for work."
    )

    # --- limits and features -------------------------------------------------------------------
    rate_limits_enabled: bool = Field(True, description="Apply request rate limits (off only in benchmarks).")
    rate_limit_login: str = Field(
        "10/5m",
        description="Login attempts per e-mail address (N/period; period in s, m, h or d). Counted "
        "before the password is checked, whatever the outcome.",
    )
    rate_limit_login_ip: str = Field("30/10m", description="Login attempts per client address.")
    rate_limit_register_ip: str = Field("10/1h", description="Registrations per client address.")
    rate_limit_register_email: str = Field(
        "3/1h",
        description="Registrations per e-mail address (with confirmation on, each one mails that address; "
        "counted alike for taken and free addresses, so the limit tells nothing).",
    )
    rate_limit_vote: str = Field("120/1m", description="Votes per account.")
    rate_limit_report: str = Field(
        "20/10m", description="Reports per reporter (the account, else the client address)."
    )
    rate_limit_appeal: str = Field("10/1h", description="Appeals per account.")
    rate_limit_sso_ip: str = Field("60/10m", description="SSO token exchanges per client address.")
    rate_limit_guest_ip: str = Field(
        "60/10m",
        description="New guest identities (first posts without a session) per client address. How "
        "often anyone may post is the moderation policy's rate phase, per site.",
    )
    demo_enabled: bool = Field(True, description="Serve the demo article page at /.")

    # --- response cache, HTTP caching, compression, metrics --------------------------------------
    cache_enabled: bool = Field(
        True,
        description="Cache the public thread views (anonymous readers) in process, or in Redis when "
        "redis_url is set. Keys carry the thread's version, so writes are visible on the next read.",
    )
    cache_max_entries: int = Field(
        2000,
        ge=1,
        le=10_000_000,
        description="In-process cache (with Redis: each process's near copy of entries): most entries.",
    )
    cache_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        le=2**40,
        description="In-process cache (with Redis: each process's near copy): most bytes of responses kept.",
    )
    cache_ttl_seconds: int = Field(
        300, ge=1, le=86400, description="How long an entry lives (in process and in Redis)."
    )
    cache_recheck_seconds: float = Field(
        2.0,
        ge=0,
        le=60,
        description="How long a process answers a repeated anonymous read from the cache without "
        "asking the database, as long as no write was committed (the database's change stamp, shared "
        "by the processes of a machine, or through Redis). Bounds what the stamp cannot see; 0 turns "
        "this front of the cache off.",
    )
    http_max_age: int = Field(
        5, ge=0, le=86400, description="Cache-Control max-age of public thread views (browsers)."
    )
    http_s_maxage: int = Field(
        10, ge=0, le=86400, description="Cache-Control s-maxage of public thread views (CDNs, proxies)."
    )
    http_stale_while_revalidate: int = Field(
        30,
        ge=0,
        le=86400,
        description="Cache-Control stale-while-revalidate: a CDN may serve a stale thread this long "
        "while it fetches the new one.",
    )
    compress_min_bytes: int = Field(
        1024,
        ge=0,
        le=2**30,
        description="Responses at least this large go out compressed (Brotli or gzip) if the client "
        "accepts it.",
    )
    compress_brotli: bool = Field(
        True,
        description="Offer Brotli beside gzip. Cached thread views then store both (each made once per "
        "thread version); off saves that CPU where a CDN in front re-encodes anyway.",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token that may read /metrics from anywhere. Without it, only clients in "
        "metrics_networks may.",
        json_schema_extra={"secret": True},
    )
    metrics_networks: list[str] = Field(
        ["127.0.0.1/32", "::1/128"],
        description="Client networks that may read /metrics without a token (the client address as "
        "resolved through trusted_proxies). Empty: token only.",
    )

    # --- live updates (Server-Sent Events) ------------------------------------------------------
    live_heartbeat_seconds: float = Field(
        15.0, ge=0.05, le=300, description="Heartbeat on idle live streams, so proxies keep them open."
    )
    live_stream_seconds: float = Field(
        300.0,
        ge=0.1,
        le=86400,
        description="A live stream ends after this long and the browser reconnects with Last-Event-ID "
        "(spreads readers across restarts and instances).",
    )
    live_max_connections: int = Field(
        5000, ge=0, le=1_000_000, description="Open live streams per process (0: live updates off)."
    )

    # --- mail (notifications) ---------------------------------------------------------------------
    mail_backend: Literal["null", "smtp"] = Field(
        "null", description="How mail leaves: smtp (the settings below) or null (dropped, for development)."
    )
    smtp_host: str = Field("localhost", description="SMTP server host name.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port (587 submission, 465 TLS).")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        "starttls", description="none (plain, local relays only), starttls (port 587) or tls (port 465)."
    )
    smtp_user: str | None = Field(None, description="SMTP login name; no login when unset.")
    smtp_password: SecretStr | None = Field(
        None, description="SMTP password.", json_schema_extra={"secret": True}
    )
    smtp_timeout: float = Field(20.0, gt=0, le=300, description="Seconds to wait for the SMTP server.")
    mail_from: str = Field(
        "Parley <parley@localhost>", description="From address of every mail Parley sends."
    )
    registration_confirmation: Literal["auto", "required", "off"] = Field(
        "auto",
        description="Confirm a sign-up by e-mail before the account exists, so registration never tells "
        "who has an account. auto: required when mail_backend is smtp, off when it is null (mail is "
        "dropped, a confirmation could never arrive). required needs mail_backend smtp. off: accounts "
        "are created at once and a taken address is answered email_taken.",
    )

    # --- webhooks ------------------------------------------------------------------------------
    webhook_timeout: float = Field(10.0, gt=0, le=60, description="Seconds a webhook receiver has to answer.")
    webhook_max_attempts: int = Field(
        6, ge=1, le=20, description="Tries per delivery (with backoff 5 s, 20 s, 80 s, …) before it fails."
    )
    webhook_disable_after: int = Field(
        15, ge=1, le=1000, description="Failed attempts in a row after which a webhook is switched off."
    )
    webhook_allowed_networks: list[str] = Field(
        default_factory=list,
        description="Non-public networks webhooks may target anyway (e.g. ['10.0.5.0/24']). Loopback, "
        "private, link-local and other non-global addresses are refused unless listed here.",
    )

    # --- privacy -------------------------------------------------------------------------------
    ip_hash_retention_days: int = Field(
        30, ge=1, le=3650, description="Keyed IP hashes on comments and reports are erased after this."
    )
    rate_limit_retention_hours: int = Field(
        48, ge=1, le=8760, description="Idempotency records and used SSO token ids are purged after this."
    )

    # --- moderation workspace, statements and appeals -----------------------------------------------
    appeal_window_days: int = Field(
        183,
        ge=1,
        le=3650,
        description="How long after a decision its author may appeal it (DSA Art. 20: six months at least).",
    )

    @field_validator("trusted_proxies", "metrics_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for net in value:
            ipaddress.ip_network(net, strict=False)
        return value

    @field_validator(
        "rate_limit_login",
        "rate_limit_login_ip",
        "rate_limit_register_ip",
        "rate_limit_register_email",
        "rate_limit_vote",
        "rate_limit_report",
        "rate_limit_appeal",
        "rate_limit_sso_ip",
        "rate_limit_guest_ip",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from parley.ratelimit.rules import parse_rule

        parse_rule("setting", value)
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _check_webhook_networks(cls, value: list[str]) -> list[str]:
        for net in value:
            ipaddress.ip_network(net, strict=False)
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("database_url must start with sqlite:/// or postgresql://")
        return value

    @model_validator(mode="after")
    def _check_registration_confirmation(self) -> Settings:
        if self.registration_confirmation == "required" and self.mail_backend == "null":
            raise ValueError(
                "registration_confirmation = 'required' needs mail_backend = 'smtp': with the null "
                "backend no confirmation mail could ever arrive (use 'auto' or 'off')"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get("PARLEY_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)

    # --- derived -------------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlalchemy_url(self) -> str:
        url = self.database_url
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url

    @property
    def registration_confirms(self) -> bool:
        """Whether a sign-up waits for its e-mail confirmation (``registration_confirmation``)."""
        if self.registration_confirmation == "auto":
            return self.mail_backend == "smtp"
        return self.registration_confirmation == "required"

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")

    @cached_property
    def secret(self) -> bytes:
        """The signing secret: configured, or generated once and kept in ``data_dir``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_bytes().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48).encode()
        # create exclusively so two workers starting together agree on one secret
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as fh:
            fh.write(value)
        return value

    @cached_property
    def ip_key(self) -> bytes:
        if self.ip_hash_key is not None:
            return self.ip_hash_key.get_secret_value().encode()
        return b"ip:" + self.secret


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings; ``config_file`` (TOML) wins over ``PARLEY_CONFIG``."""
    if config_file is not None:
        path = Path(config_file)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        # keyword arguments outrank the environment, so only take file values the env does not set
        for key, value in data.items():
            if f"PARLEY_{key.upper()}" not in os.environ and key not in overrides:
                overrides[key] = value
    return Settings(**overrides)
