"""Settings from ``CASEWORK_*`` environment variables; the only module that reads them."""

from __future__ import annotations

import os
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
        )

    def with_overrides(self, **changes: object) -> Self:
        return replace(self, **changes)  # type: ignore[arg-type]
