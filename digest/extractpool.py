"""Article pages to paragraphs on every core: decoding and trafilatura's extraction are pure Python and
hold the interpreter, so a collect with many thin entries hands its pages to worker processes.

``ExtractionPool(workers)``: 1 extracts in this process; more starts that many processes (forkserver,
so no thread of the collect is copied) the first time a batch of pages needs them, and keeps them for the
rest of the collect. ``submit`` returns at once, so the collect starts on the next source while a
source's pages are extracted (digest/collect.py). Workers receive the page's bytes and URL and return
paragraphs: nothing else.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor

from .extract import extract_paragraphs


def page_paragraphs(body: bytes, url: str) -> list[str]:
    """One page: its bytes decoded as trafilatura does (declared or detected charset), then extracted."""
    from trafilatura.utils import decode_file

    return extract_paragraphs(str(decode_file(body)), url)


def _page(args: tuple[bytes, str]) -> list[str]:
    return page_paragraphs(*args)


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ExtractionPool:
    """Extracts batches of pages, in ``workers`` processes (0: one per core; 1: in this process)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or cores()
        self._executor: Executor | None = None
        self._lock = threading.Lock()  # pages are submitted from the fetching threads

    def submit(self, pages: Sequence[tuple[bytes, str]]) -> Callable[[], list[list[str]]]:
        """Start extracting each (body, url); returns the function that waits for their paragraphs, in order.
        With one worker, the work is done when that function is called."""
        if self.workers <= 1:
            return lambda: [page_paragraphs(body, url) for body, url in pages]
        with self._lock:
            if self._executor is None:
                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
                self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
            executor = self._executor
        futures = [executor.submit(_page, page) for page in pages]
        return lambda: [f.result() for f in futures]

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
