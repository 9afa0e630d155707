"""Failed editor logins, counted per username and client, in memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LockOut:
    """Failed logins per (username, client), kept in memory: ``limit`` failures within ``seconds`` lock
    that pair out until ``seconds`` after the last failure. A success clears the pair."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> list[float]:
        since = self.clock() - self.seconds
        kept = [t for t in self._failures.get(key, []) if t > since]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def remaining(self, key: tuple[str, str]) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) < self.limit:
                return 0.0
            return max(0.0, recent[-1] + self.seconds - self.clock())

    def fail(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._recent(key)
            self._failures.setdefault(key, []).append(self.clock())

    def clear(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)
