"""A preview is personalised for an invented reader: no subscriber's working links are in the file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from digest.cli import cli
from digest.facade import SAMPLE, Digest
from subscribers.tokens import BadToken

from .support.data import WHEN, article
from .support.web import make_settings


def _tokens_in(text: str, digest: Digest) -> list[int]:
    """The subscriber ids that the unsubscribe and preferences tokens found in ``text`` name."""
    named = []
    for purpose, token in re.findall(r"/(unsubscribe|preferences)/([A-Za-z0-9_.\-]+)", text):
        try:
            named.append(digest.tokens.read(purpose, token))
        except BadToken:
            continue
    return named


def test_digest_preview_and_run_previews_name_no_subscriber(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    d = Digest(settings)
    for n in (1, 2):
        assert d.db.articles.add(article(n, "patents", f"Patent ruling number {n}", WHEN - timedelta(days=1)))
    d.build(WHEN)
    first, _ = d.subscribers.add("first.reader@example.com", "First Reader")
    d.subscribers.add("second.reader@example.com", "Second Reader")
    paths = d.preview()
    for path in (paths.html, paths.text):
        content = path.read_text(encoding="utf-8")
        assert "first.reader@example.com" not in content and "First Reader" not in content
        assert _tokens_in(content, d) == []
        assert SAMPLE.unsubscribe_url in content
    # the real messages of the same issue do carry a working link for their reader, read the same way
    message = d.issue_messages(d.current_issue()).for_subscriber(first)
    assert message is not None
    assert first.id in _tokens_in(message.data.decode("utf-8", "replace").replace("=\r\n", ""), d)


def test_the_preview_command_writes_the_sample_reader(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    d = Digest(settings)
    assert d.db.articles.add(article(1, "patents", "Patent ruling number 1", WHEN - timedelta(days=1)))
    d.build(WHEN)
    d.subscribers.add("first.reader@example.com", "First Reader")
    d.close()
    (tmp_path / "digest.toml").write_text(
        '[newsletter]\ntitle = "T"\nsender = "T <t@example.org>"\nbase_url = "https://digest.example.org"\n'
        '[[sources]]\nname = "x"\nurl = "x.xml"\n',
        encoding="utf-8",
    )
    env = {"DIGEST_DATABASE_URL": settings.database_url, "DIGEST_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "digest.toml"), "preview", "--out", str(tmp_path / "p")], env=env
    )
    assert result.exit_code == 0, result.output
    html = (tmp_path / "p" / "preview.html").read_text(encoding="utf-8")
    assert "first.reader@example.com" not in html and SAMPLE.unsubscribe_url in html
