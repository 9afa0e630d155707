"""The web side under test: settings on a temporary database, the app for Flask's test client, the app under
waitress on a loopback port, and what its pages and mails carry."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from digest.config import Settings
from digest.delivery.notices import drain
from digest.facade import Digest
from digest.web import Web, create_app

from .smtp import read_eml

BASE = "http://digest.example.org"


def make_settings(tmp_path: Path, **changes: object) -> Settings:
    """Settings on tmp_path/digest.db and tmp_path/outbox, with a secret key and BASE; ``changes`` override."""
    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path}/digest.db",
        "outbox_dir": tmp_path / "outbox",
        "secret_key": "a test key, not a secret",
        "base_url": BASE,
        "sender": "IP Digest <digest@example.org>",
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def make_app(settings: Settings, **config: Any) -> Flask:
    """The app in testing mode (for Flask's test client)."""
    return create_app(settings, config={"TESTING": True, **config})


def digest_of(app: Flask) -> Digest:
    """The Digest the app works on."""
    w: Web = app.extensions["digest"]
    return w.digest


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def outbox_mail(settings: Settings, email: str) -> EmailMessage | None:
    """The confirmation mail written to the outbox folder for ``email``, if any (once queued mail is sent)."""
    drain()
    path = settings.outbox_dir / "confirmations" / f"{email}.eml"
    return read_eml(path) if path.exists() else None


@dataclass
class Live:
    """The web app under waitress on a loopback port, with its settings and Digest."""

    base: str
    settings: Settings
    app: Flask

    @property
    def digest(self) -> Digest:
        return digest_of(self.app)


@contextmanager
def live_server(tmp_path: Path, config: dict[str, Any] | None = None, **changes: object) -> Iterator[Live]:
    """Serve ``create_app`` with waitress in a thread; base_url is the real loopback address; ``config``
    overrides Flask settings."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(tmp_path, base_url=base, **changes)
    app = create_app(settings, config=config)
    server = create_server(
        app, sockets=[sock], threads=2, ident="ip-digest-test", clear_untrusted_proxy_headers=False
    )  # as `digest serve`
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Live(base, settings, app)
    finally:
        # Close the sockets from inside the server's own loop (closing them from here races its select()).
        # When the loop has already ended and closed everything, its trigger is closed too: nothing to do.
        with contextlib.suppress(OSError):
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(10)
        assert not thread.is_alive(), "waitress did not stop"
        server.task_dispatcher.shutdown()
        digest_of(app).close()


def serve_process(port: int, cwd: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    """`digest serve --port PORT` as a child process, its output piped (text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "digest", "serve", "--port", str(port), *extra],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_serve(proc: subprocess.Popen[str]) -> str:
    """SIGTERM to a `digest serve` child; checks that it stopped cleanly and returns what it printed."""
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "serve: stopped" in out and "Traceback" not in err
    return out
