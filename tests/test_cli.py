"""The command line as a whole: every command documents itself, and asking for help stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from digest.cli import cli
from digest.cli.reference import every_command

HEAVY = (
    "trafilatura",
    "premailer",
    "sqlalchemy",
    "apscheduler",
    "feedparser",
    "requests",
    "flask",
    "jinja2",
    "email_validator",
    "rapidfuzz",
)


def test_every_command_has_help_with_an_example() -> None:
    commands = every_command(cli)
    assert {("run",), ("send",), ("issue", "exclude"), ("subscribers", "import"), ("db", "upgrade")} <= set(commands)
    for path in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Example:" in result.output, path


def test_help_imports_none_of_the_heavy_parts() -> None:
    code = (
        "import json, sys\nfrom digest.cli import main\nsys.argv = ['digest', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.splitlines()[-1]) == []


def test_a_command_ends_without_sweeping_what_it_loaded() -> None:
    """The interpreter's last sweep for reference cycles through every loaded module cost about 0.15 s at
    the end of each command; main() freezes what is left, so the sweep has nothing to walk."""
    code = (
        "import gc, sys\nfrom digest.cli import main\nsys.argv = ['digest', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.get_freeze_count() > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "True"


CHEAP = (
    "trafilatura",
    "premailer",
    "apscheduler",
    "feedparser",
    "requests",
    "flask",
    "jinja2",
    "alembic",
    "digest.facade",
    "digest.issue.render",
    "digest.collect.extract",
    "digest.collect.sources",
)
COLLECTING = (  # and the bounce reader's
    "digest.bounces.parse",
    "trafilatura",
    "feedparser",
    "pysbd",
    "flask",
    "alembic",
    "digest.collect.stage",
    "digest.collect.extract",
    "digest.collect.sources",
)


def imported(argv: list[str], among: tuple[str, ...], tmp_path: Path) -> tuple[list[str], list[str]]:
    """What ``digest ARGV`` printed, and which of ``among`` it imported, on the SQLite file in tmp_path."""
    code = (
        f"import json, sys\nfrom digest.cli import main\nsys.argv = {['digest', *argv]!r}\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {among!r} if m in sys.modules)))"
    )
    env = {**os.environ, "DIGEST_DATABASE_URL": f"sqlite:///{tmp_path / 'digest.db'}"}
    env.pop("SMTP_HOST", None)
    lines = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=tmp_path
    ).stdout.splitlines()
    return lines[:-1], json.loads(lines[-1])


def test_subscribers_add_imports_only_the_database_and_the_audience(tmp_path: Path) -> None:
    first, _ = imported(["subscribers", "add", "bob@example.org"], CHEAP, tmp_path)  # makes the database
    assert first == ["added bob@example.org"]
    out, heavy = imported(["subscribers", "add", "ann@example.org", "--topics", "patents"], CHEAP, tmp_path)
    assert out == ["added ann@example.org"]
    assert heavy == []


def test_send_imports_neither_the_collect_nor_the_migrations(tmp_path: Path) -> None:
    """A send renders and delivers: the fetcher, parser and extractor are the collect's, the returned-mail
    parser the bounce reader's, and a database already at the newest revision needs no Alembic."""
    imported(["subscribers", "add", "bob@example.org"], (), tmp_path)
    _, heavy = imported(["send"], COLLECTING, tmp_path)
    assert heavy == []
