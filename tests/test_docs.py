"""The documentation tells the truth: its generated parts match their sources, its links and nav hold,
the README's tour shows what the first run prints, and the architecture page's graph is the imports'."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.cli.reference import (
    BEGIN,
    END,
    PAGES,
    cli_reference,
    config_reference,
    every_command,
    graph_reference,
    help_text,
    main,
    with_generated,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def generated_part(page: str) -> str:
    text = (DOCS / page).read_text(encoding="utf-8")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip() + "\n"


def block_after(text: str, heading: str, fence: str = "```text") -> str:
    """The first fenced block of ``fence`` after ``heading``, without its fences."""
    return text.split(heading, 1)[1].split(fence + "\n", 1)[1].split("\n```", 1)[0]


def test_the_configuration_page_is_generated_from_the_declarations() -> None:
    assert generated_part("configuration.md") == config_reference(), "run: python -m digest.cli.reference"


def test_the_cli_page_shows_every_commands_live_help() -> None:
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = every_command(cli)
    assert {("run",), ("send",), ("issue", "exclude"), ("subscribers", "import"), ("db", "upgrade")} <= set(commands)
    for path in [(), *commands]:
        heading = "## " + " ".join(("digest", *path)) + "\n"
        assert heading in page, f"docs/cli.md has no section for {heading.strip()}"
        shown = block_after(page, heading)
        assert shown == help_text(path).rstrip(), f"docs/cli.md differs from `digest {' '.join(path)} --help`"
    assert generated_part("cli.md") == cli_reference(), "run: python -m digest.cli.reference"


def test_the_generator_rewrites_a_stale_page_and_check_says_so(tmp_path: Path) -> None:
    for name in PAGES:
        page = (DOCS / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(with_generated(page, "an older reference\n"), encoding="utf-8")
    assert main(["--docs", str(tmp_path), "--check"]) == 1
    assert "an older reference" in (tmp_path / "configuration.md").read_text(encoding="utf-8"), "--check wrote nothing"
    assert main(["--docs", str(tmp_path)]) == 0
    for name in PAGES:
        assert (tmp_path / name).read_text(encoding="utf-8") == (DOCS / name).read_text(encoding="utf-8")
    assert main(["--docs", str(tmp_path), "--check"]) == 0


def nav_pages() -> list[str]:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8").split("\nnav:\n", 1)[1]
    return re.findall(r"^\s+- [^:]+: (\S+\.md)$", nav, re.M)


def test_every_page_is_in_the_nav_and_every_nav_entry_is_a_page() -> None:
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(nav_pages()) == pages
    for name in ("topics.md", "jurisdictions.md", "archive.md", "bounces.md", "security.md", "performance.md"):
        assert name in pages, "other pages link to this name"


def test_the_readmes_links_to_the_docs_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#]+)(?:#([^)]+))?\)", readme)
    assert len(links) >= 10
    for path, anchor in links:
        assert (ROOT / path).is_file(), path
        if anchor:
            headings = re.findall(r"^#+ (.+)$", (ROOT / path).read_text(encoding="utf-8"), re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{path} has no heading for #{anchor}"


def test_the_readme_is_short_and_the_install_page_repeats_its_first_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 250
    first = re.findall(r"```sh\n(.*?)\n```", readme, re.S)[0]
    install = (DOCS / "install.md").read_text(encoding="utf-8")
    assert re.findall(r"```sh\n(.*?)\n```", install, re.S)[0] == first
    real_list = block_after(install, "## Setting up a real list", "```sh")
    assert "pip install -q ip-digest" not in real_list, "no registry serves ip-digest: install from the checkout"


def as_pattern(shown: str) -> str:
    """A line the README shows as a regular expression: … stands for anything, a week for any week."""
    return ".*".join(re.escape(part) for part in shown.split("…")).replace(r"2026\-W49", r"\d{4}-W\d\d")


@pytest.mark.slow
def test_the_readme_tour_shows_what_the_first_run_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tour = block_after((ROOT / "README.md").read_text(encoding="utf-8"), "**The first command.**")
    monkeypatch.chdir(tmp_path)
    for key in ("SMTP_HOST", "DIGEST_DATABASE_URL", "DIGEST_CONFIG", "DIGEST_SECRET_KEY", "DIGEST_OUTBOX"):
        monkeypatch.delenv(key, raising=False)
    runs = re.split(r"^\$ \.venv/bin/digest (.*)$", tour, flags=re.M)[1:]
    assert len(runs) == 4, "two commands, each with what it prints"
    for command, shown in zip(runs[::2], runs[1::2], strict=True):
        result = CliRunner().invoke(cli, command.split(" "))
        assert result.exit_code == 0, result.output
        printed = result.output.strip().splitlines()
        expected = shown.strip().splitlines()
        assert len(printed) == len(expected), (command, printed)
        for line, want in zip(printed, expected, strict=True):
            assert re.fullmatch(as_pattern(want), line), (line, want)


def test_the_architecture_page_shows_the_import_graph() -> None:
    assert generated_part("architecture.md") == graph_reference(), "run: python -m digest.cli.reference"
