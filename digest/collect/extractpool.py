"""Article pages to paragraphs on every core: decoding and trafilatura's extraction are pure Python and
hold the interpreter, so a collect with many thin entries hands its pages to worker processes; so are
sentence splitting and summarizing, which the collect hands over too (digest/articletext.py).

``ExtractionPool(workers)``: 1 works in this process; more starts that many processes (forkserver,
so no thread of the collect is copied) the first time some work needs them, and keeps them for the
rest of the collect. ``submit`` and ``call`` return at once, so the collect goes on with other sources
while a source's texts are read (digest/collect.py). Workers receive plain values (a page's bytes and
URL, an entry's HTML) and return plain values: nothing else.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import ParamSpec, TypeVar

from .extract import extract_paragraphs

P = ParamSpec("P")
R = TypeVar("R")


def page_paragraphs(body: bytes, url: str) -> list[str]:
    """One page: its bytes decoded as trafilatura does (declared or detected charset), then extracted."""
    from trafilatura.utils import decode_file

    return extract_paragraphs(str(decode_file(body)), url)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ExtractionPool:
    """Extracts pages and reads texts, in ``workers`` processes (0: one per core; 1: in this process)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or cores()
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._working = threading.Lock()

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Callable[[], R]:
        """Start ``fn(*args, **kwargs)`` in a worker (``fn`` a module's function, its arguments and result
        plain values); returns the function that waits for its result. With one worker, the work is done
        when that function is called, in the thread that calls it, one call at a time."""
        if self.workers <= 1:
            return lambda: self._in_process(fn, *args, **kwargs)
        future = self._executor_started().submit(fn, *args, **kwargs)
        return future.result

    def submit(self, pages: Sequence[tuple[bytes, str]]) -> Callable[[], list[list[str]]]:
        """Start extracting each (body, url); returns the function that waits for their paragraphs, in order.
        With one worker, the work is done when that function is called."""
        waits = [self.call(page_paragraphs, body, url) for body, url in pages]
        return lambda: [wait() for wait in waits]

    def _in_process(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._working:  # one worker: one text at a time, however many threads wait for theirs
            return fn(*args, **kwargs)

    def _executor_started(self) -> Executor:
        with self._lock:  # work is handed over from several threads
            if self._executor is None:
                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
            return self._executor

    def paragraphs(self, pages: Sequence[tuple[bytes, str]]) -> list[list[str]]:
        """The paragraphs of each (body, url), in order."""
        return self.submit(pages)()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
