"""The one place that speaks HTTP to receivers: a POST with a timeout, reduced to what the
delivery log keeps (status code or error, and latency)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

USER_AGENT = "casework-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Transport:
    """One per delivering thread: keeps connections to receivers alive between posts."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
        started = time.perf_counter()
        try:
            # Receivers are not followed elsewhere: a redirect is an answer, not a new address.
            with self.session.post(
                url,
                data=body,
                headers={**headers, "user-agent": USER_AGENT},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                return Outcome(response.status_code, None, _ms(started))
        except requests.Timeout:
            return Outcome(None, f"no answer within {timeout:g} s", _ms(started))
        except requests.RequestException as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))

    def close(self) -> None:
        self.session.close()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
