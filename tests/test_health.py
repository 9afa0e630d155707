"""The operator's side: /healthz, /readyz, Prometheus metrics on `digest serve` and the daemon, JSON logs."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from werkzeug.test import TestResponse

from digest.facade import Digest
from digest.ops.health import readiness
from digest.ops.logjson import JSONFormatter
from digest.ops.metrics import NAMES, serve_metrics
from subscribers.clock import now

from .support.admin import admin_app, login
from .support.data import ROOT
from .support.sending import DIGEST, prepared
from .support.web import live_server, make_app, make_settings


def scrape(text_: str) -> dict[str, float]:
    """Each sample of a scrape, parsed by prometheus_client: {'name{label=value}': value}."""
    out = {}
    for family in text_string_to_metric_families(text_):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def json_of(resp: TestResponse) -> Any:
    """The response's JSON body; a response without one fails the test here."""
    body = resp.get_json()
    assert body is not None, resp.text
    return body


def test_healthz_answers_without_touching_the_database(tmp_path: Path) -> None:
    app = make_app(make_settings(tmp_path))
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200 and resp.text == "ok\n"


def test_readyz_needs_a_recent_collect_and_a_current_schema(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = make_app(settings, READYZ_CACHE_SECONDS=0)
    client = app.test_client()
    d: Digest = app.extensions["digest"].digest

    before = client.get("/readyz")
    assert before.status_code == 503
    checks = {c["name"]: c for c in json_of(before)["checks"]}
    assert checks["database"]["ok"] and checks["schema"]["ok"]
    assert not checks["collect"]["ok"] and "digest daemon" in checks["collect"]["detail"]

    d.db.sources.record_fetch("https://feeds.example/a.xml", "A", error="timed out")  # tried: the daemon runs
    ready = client.get("/readyz")
    assert ready.status_code == 200 and json_of(ready)["ready"] is True

    later = readiness(d.db.health, "1h", clock=lambda: now() + timedelta(hours=3, minutes=1))
    assert [c.ok for c in later] == [True, True, False] and "more than 3 h" in later[2].detail

    with d.db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001_schema'"))
    behind = client.get("/readyz")
    assert behind.status_code == 503
    schema = {c["name"]: c for c in json_of(behind)["checks"]}["schema"]
    assert not schema["ok"] and "digest db upgrade" in schema["detail"]


def test_readyz_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    app = make_app(settings)
    d: Digest = app.extensions["digest"].digest
    d.db.health.engine.dispose()
    (tmp_path / "digest.db").unlink()
    (tmp_path / "digest.db").mkdir()  # a folder where the file was: SQLite cannot open it
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    (check,) = json_of(resp)["checks"]
    assert check["name"] == "database" and not check["ok"] and "DIGEST_DATABASE_URL" in check["detail"]


def test_readyz_keeps_its_answer_for_a_moment(tmp_path: Path) -> None:
    app = make_app(make_settings(tmp_path), READYZ_CACHE_SECONDS=3600)
    d: Digest = app.extensions["digest"].digest
    client = app.test_client()
    assert client.get("/readyz").status_code == 503  # no collect yet
    d.db.sources.record_fetch("https://feeds.example/a.xml", "A")
    assert client.get("/readyz").status_code == 503, "the kept answer, not a new read"
    app.config["READYZ_CACHE_SECONDS"] = 0
    assert client.get("/readyz").status_code == 200


@pytest.mark.postgres
def test_readyz_tells_a_stranger_nothing_of_where_the_database_is(
    tmp_path: Path, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(make_settings(tmp_path, database_url=pg_url))
    d: Digest = app.extensions["digest"].digest
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the server is gone
    d.db.health.engine.dispose()
    d.db.health.engine = create_engine(f"postgresql+psycopg://digest_reader@127.0.0.1:{port}/digest_private_name")
    with caplog.at_level(logging.ERROR, logger="digest.ops.health"):
        resp = app.test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503 and isinstance(body, dict) and body["checks"][0]["name"] == "database"
    for secret in ("127.0.0.1", str(port), "digest_private_name", "digest_reader", "psycopg"):
        assert secret not in resp.text
    assert "127.0.0.1" in caplog.text and str(port) in caplog.text, "the operator finds the reason in the log"


def test_metrics_of_a_real_send_scraped_over_waitress_and_parsed(tmp_path: Path) -> None:
    with live_server(tmp_path) as live:
        d = live.digest
        other = prepared(live.settings.database_url, tmp_path, None, 5)  # same database, the outbox folder
        try:
            rep = other.deliver()
        finally:
            other.close()
        assert rep.sent == 5
        d.db.sources.record_fetch("https://feeds.example/a.xml", "A")
        d.db.sources.record_fetch("https://feeds.example/b.xml", "B", error="HTTP 500")

        resp = requests.get(f"{live.base}/metrics", timeout=5)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain; version=")
        got = scrape(resp.text)
        assert got["digest_up"] == 1 and got["digest_schema_current"] == 1
        assert got["digest_messages_sent_total"] == 5 and got["digest_messages_failed_total"] == 0
        assert got["digest_outbox_depth"] == 0
        assert got["digest_sources"] == 2 and got["digest_sources_failed"] == 1
        assert abs(got["digest_last_success_timestamp_seconds{job=collect}"] - now().timestamp()) < 60
        assert "digest_last_success_timestamp_seconds{job=build}" in got
        names = {f.name for f in text_string_to_metric_families(resp.text)}
        assert {n.removesuffix("_total") for n in NAMES} <= names

        relayed = requests.get(f"{live.base}/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=5)
        assert relayed.status_code == 404  # a proxy on this machine relays strangers: not for them


@pytest.mark.parametrize("accept", ["", "text/plain;version=1.0.0", "application/openmetrics-text;version=1.0.0"])
def test_metrics_send_one_content_type_with_one_charset_as_the_daemon_port_does(tmp_path: Path, accept: str) -> None:
    client = make_app(make_settings(tmp_path)).test_client()
    resp = client.get("/metrics", headers={"Accept": accept} if accept else {})
    (sent,) = resp.headers.getlist("Content-Type")
    assert sent.count("charset=") == 1
    d = prepared(f"sqlite:///{tmp_path}/daemon.db", tmp_path, None, 1)
    server, thread = serve_metrics(d.db.health, 0)
    try:
        asked = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/metrics", headers={"Accept": accept})
        with urllib.request.urlopen(asked, timeout=5) as port:
            assert port.headers.get_all("Content-Type") == [sent]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        d.close()


def test_metrics_for_a_signed_in_editor_only_when_not_local(tmp_path: Path) -> None:
    app = admin_app(make_settings(tmp_path))
    client = app.test_client()
    far = {"REMOTE_ADDR": "198.51.100.7"}
    assert client.get("/metrics", environ_base=far).status_code == 404
    login(client)
    assert client.get("/metrics", environ_base=far).status_code == 200


def test_the_daemons_metrics_server_counts_deferred_and_waiting_messages(tmp_path: Path) -> None:
    d = prepared(f"sqlite:///{tmp_path}/digest.db", tmp_path, None, 3)
    try:
        d.deliver()
        with d.db.begin() as conn:  # one message waits for a retry, as after a 4xx
            conn.execute(text("UPDATE deliveries SET status = 'deferred', attempts = 1 WHERE id = 1"))
        server, thread = serve_metrics(d.db.health, 0)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as resp:
                got = scrape(resp.read().decode())
        finally:
            server.shutdown()
            server.server_close()
        thread.join(5)
    finally:
        d.close()
    assert got["digest_messages_sent_total"] == 2 and got["digest_messages_deferred_total"] == 1
    assert got["digest_outbox_depth"] == 1


def test_json_log_lines_carry_the_message_and_extra_fields() -> None:
    import logging

    record = logging.LogRecord("digest.collect.stage", logging.WARNING, __file__, 1, "source %s failed", ("A",), None)
    record.source = "A"
    line = json.loads(JSONFormatter().format(record))
    assert line["level"] == "warning" and line["logger"] == "digest.collect.stage"
    assert line["message"] == "source A failed" and line["source"] == "A" and line["time"].endswith("+00:00")


@pytest.mark.slow
def test_log_format_json_writes_one_object_per_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path}/digest.db"}
    env.pop("DIGEST_CONFIG", None)
    done = subprocess.run(
        [*DIGEST, "--log-format", "json", "-v", "collect"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)


def test_the_daemon_stops_with_the_fix_when_its_metrics_port_is_taken(tmp_path: Path) -> None:
    import socket

    from click.testing import CliRunner

    from digest.cli import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = CliRunner().invoke(
            cli, ["daemon", "--metrics-port", str(port)], env={"DIGEST_DATABASE_URL": f"sqlite:///{tmp_path}/digest.db"}
        )
    assert done.exit_code == 2 and f"--metrics-port {port}" in done.output and "free port" in done.output
