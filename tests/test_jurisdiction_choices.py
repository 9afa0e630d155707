"""Readers choose jurisdictions as they choose topics: `subscribers add --jurisdictions`, the import's
`jurisdictions` column, the sign-up form, the preferences page and /api/subscribe; bad codes are refused
with a message that names them, and none chosen means all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from digest.cli import cli
from digest.config import Settings

from .support.web import csrf_from, digest_of, make_app


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIGEST_DATABASE_URL", f"sqlite:///{tmp_path}/digest.db")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "a test key, not a secret")
    yield CliRunner()


def shown(runner: CliRunner, email: str) -> list[str]:
    result = runner.invoke(cli, ["subscribers", "show", email, "--json"])
    assert result.exit_code == 0, result.output
    places: list[str] = json.loads(result.stdout)["jurisdictions"]
    return places


def test_subscribers_add_takes_jurisdictions_and_refuses_unknown_codes(runner: CliRunner) -> None:
    done = runner.invoke(cli, ["subscribers", "add", "ann@example.org", "--jurisdictions", "UPC, eu"])
    assert done.exit_code == 0, done.output
    assert shown(runner, "ann@example.org") == ["eu", "upc"]
    plain = runner.invoke(cli, ["subscribers", "add", "bob@example.org"])
    assert plain.exit_code == 0 and shown(runner, "bob@example.org") == []  # none: all
    text = runner.invoke(cli, ["subscribers", "show", "bob@example.org"]).stdout
    assert "jurisdictions: all jurisdictions" in text
    refused = runner.invoke(cli, ["subscribers", "add", "cy@example.org", "--jurisdictions", "uk"])
    assert refused.exit_code == 2 and "--jurisdictions" in refused.output and "'uk'" in refused.output
    assert runner.invoke(cli, ["subscribers", "show", "cy@example.org", "--json"]).exit_code != 0


def test_the_import_reads_a_jurisdictions_column_and_names_each_bad_row(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "list.csv").write_text(
        'email,topics,jurisdictions\nann@example.org,patents,"upc,eu"\nbob@example.org,,\ncy@example.org,,uk\n',
        encoding="utf-8",
    )
    done = runner.invoke(cli, ["subscribers", "import", "list.csv", "--consent", "signed up at a fair"])
    assert done.exit_code == 1, done.output  # a rejected row makes the import's exit status 1
    assert "list.csv:4: rejected 'cy@example.org': unknown jurisdiction 'uk'" in done.output
    assert shown(runner, "ann@example.org") == ["eu", "upc"] and shown(runner, "bob@example.org") == []
    exported = runner.invoke(cli, ["subscribers", "export"]).stdout.splitlines()
    assert exported[0].endswith(",jurisdictions") and exported[1].endswith(',"eu,upc"')


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = make_app(settings)
    yield app
    digest_of(app).close()


def test_the_form_the_preferences_page_and_the_api_store_jurisdictions(app: Flask, client: FlaskClient) -> None:
    page = client.get("/subscribe").get_data(as_text=True)
    for code in ("us", "eu", "upc", "gb", "de", "cn"):
        assert f'name="jurisdictions" value="{code}"' in page
    data = {"csrf_token": csrf_from(page), "email": "form@example.org", "jurisdictions": ["upc", "eu", "xx"]}
    assert client.post("/subscribe", data=data).status_code == 200
    d = digest_of(app)
    sub = d.subscribers.by_email("form@example.org")
    assert sub is not None and sub.jurisdictions == {"upc", "eu"}  # an unknown code is dropped

    url = f"/preferences/{d.tokens.make('preferences', sub.id)}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="upc" checked' in page and 'value="us">' in page
    saved = client.post(url, data={"csrf_token": csrf_from(page), "topics": ["patents"], "jurisdictions": ["de"]})
    assert saved.status_code == 200
    sub = d.subscribers.by_email("form@example.org")
    assert sub is not None and sub.jurisdictions == {"de"} and sub.topics == {"patents"}
    assert [e.detail for e in d.subscribers.history(sub.id) if e.kind == "topics_changed"][-1] == "jurisdictions: de"
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf_from(page), "topics": ["patents"]})
    sub = d.subscribers.by_email("form@example.org")
    assert sub is not None and sub.jurisdictions == frozenset()  # nothing ticked: all

    ok = client.post("/api/subscribe", json={"email": "api@example.org", "jurisdictions": ["US", "int"]})
    assert ok.status_code == 202
    api = d.subscribers.by_email("api@example.org")
    assert api is not None and api.jurisdictions == {"us", "int"}
    bad = client.post("/api/subscribe", json={"email": "bad@example.org", "jurisdictions": ["uk"]})
    assert bad.status_code == 400 and "uk" in bad.get_json()["error"]
    wrong = client.post("/api/subscribe", json={"email": "bad@example.org", "jurisdictions": "upc"})
    assert wrong.status_code == 400 and d.subscribers.by_email("bad@example.org") is None
