"""Settings from ``CASEWORK_*`` environment variables; the only module that reads them."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Self


@dataclass(frozen=True)
class Settings:
    database_url: str
    bpmn_dir: Path
    data_dir: Path
    script_cpu_seconds: float = 2.0
    host: str = "127.0.0.1"
    port: int = 8000
    timer_poll_seconds: float = 1.0
    timer_max_attempts: int = 5
    webhook_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    secret_key: str = ""
    secure_cookies: bool = False
    log_format: str = "text"
    no_demo: bool = False
    time_zone: str = "America/Chicago"  # the agency's: how pages show and read times
    metrics_token: str = ""  # a bearer token that lets a scraper read /metrics from anywhere
    metrics_public: bool = False  # /metrics for anyone, as behind a proxy that guards it
    # Where `casework serve` and `casework worker` keep their metrics, added up at /metrics
    # (empty: <data dir>/metrics).
    metrics_dir: str = ""
    # Email: no host, no email (notifications wait, unsent). security: none, starttls or ssl.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "casework@localhost"
    mail_poll_seconds: float = 5.0
    digest_hour: int = 7  # the daily digest goes at this hour, the agency's time
    public_url: str = ""  # the address links in emails and calendars point to
    max_document_bytes: int = 25 * 1024 * 1024  # a document kept on a case, at most
    # Delivered webhook rows are deleted this many days after delivery (0: kept for good).
    outbox_keep_days: int = 30
    # The hour (agency's time) the worker does what records retention has due (-1: never;
    # `casework retention --perform` only).
    retention_hour: int = 3

    @property
    def shared_metrics_dir(self) -> Path:
        return Path(self.metrics_dir) if self.metrics_dir else self.data_dir / "metrics"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CASEWORK_DATA_DIR", "var"))
        default_db = f"sqlite:///{(data_dir / 'casework.sqlite3').as_posix()}"
        return cls(
            database_url=env.get("CASEWORK_DATABASE_URL", default_db),
            bpmn_dir=Path(env.get("CASEWORK_BPMN_DIR", "bpmn")),
            data_dir=data_dir,
            script_cpu_seconds=float(env.get("CASEWORK_SCRIPT_CPU_SECONDS", "2")),
            host=env.get("CASEWORK_HOST", "127.0.0.1"),
            port=int(env.get("CASEWORK_PORT", "8000")),
            timer_poll_seconds=float(env.get("CASEWORK_TIMER_POLL_SECONDS", "1")),
            timer_max_attempts=int(env.get("CASEWORK_TIMER_MAX_ATTEMPTS", "5")),
            webhook_poll_seconds=float(env.get("CASEWORK_WEBHOOK_POLL_SECONDS", "1")),
            webhook_timeout_seconds=float(env.get("CASEWORK_WEBHOOK_TIMEOUT_SECONDS", "10")),
            secret_key=env.get("CASEWORK_SECRET_KEY", ""),
            secure_cookies=env.get("CASEWORK_SECURE_COOKIES", "false").lower() == "true",
            log_format=env.get("CASEWORK_LOG_FORMAT", "text"),
            no_demo=env.get("CASEWORK_NO_DEMO", "false").lower() == "true",
            time_zone=env.get("CASEWORK_TIME_ZONE", "America/Chicago"),
            metrics_token=env.get("CASEWORK_METRICS_TOKEN", ""),
            metrics_public=env.get("CASEWORK_METRICS_PUBLIC", "false").lower() == "true",
            metrics_dir=env.get("CASEWORK_METRICS_DIR", ""),
            smtp_host=env.get("CASEWORK_SMTP_HOST", ""),
            smtp_port=int(env.get("CASEWORK_SMTP_PORT", "25")),
            smtp_security=env.get("CASEWORK_SMTP_SECURITY", "none"),
            smtp_user=env.get("CASEWORK_SMTP_USER", ""),
            smtp_password=env.get("CASEWORK_SMTP_PASSWORD", ""),
            mail_from=env.get("CASEWORK_MAIL_FROM", "casework@localhost"),
            mail_poll_seconds=float(env.get("CASEWORK_MAIL_POLL_SECONDS", "5")),
            digest_hour=int(env.get("CASEWORK_DIGEST_HOUR", "7")),
            public_url=env.get("CASEWORK_PUBLIC_URL", ""),
            max_document_bytes=int(env.get("CASEWORK_MAX_DOCUMENT_MB", "25")) * 1024 * 1024,
            outbox_keep_days=int(env.get("CASEWORK_OUTBOX_KEEP_DAYS", "30")),
            retention_hour=int(env.get("CASEWORK_RETENTION_HOUR", "3")),
        )

    @property
    def base_url(self) -> str:
        """Where people reach casework: CASEWORK_PUBLIC_URL, or the address it serves."""
        return self.public_url or f"http://{self.host}:{self.port}"

    def session_secret(self) -> str:
        """The key that signs session cookies: CASEWORK_SECRET_KEY, or one kept in the data
        folder (created once) so that an embedded install survives restarts."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def with_overrides(self, **changes: object) -> Self:
        return replace(self, **changes)  # type: ignore[arg-type]
