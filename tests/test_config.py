from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from digest.cli import cli
from digest.config import SAMPLES, environment_variables, load_settings
from digest.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_the_bundled_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.sources and all(Path(s.url).parent == SAMPLES for s in settings.sources)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'digest.db'}"
    assert settings.smtp.host is None and settings.smtp.security == "starttls"


def test_sources_topics_and_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[newsletter]
title = "Brand Weekly"
base_url = "https://digest.example.org/"
summary_words = 40

[[sources]]
name = "Wire"
url = "https://wire.example/feed/"

[[sources]]
url = "feeds/local.xml"

[[topics]]
name = "Standard-essential patents"
tags = ["sep", "frand"]
""",
    )
    s = load_settings(
        path, env={"SMTP_HOST": "mx.example.org", "SMTP_SECURITY": "ssl", "DIGEST_DATABASE_URL": "sqlite:///x.db"}
    )
    assert s.title == "Brand Weekly" and s.base_url == "https://digest.example.org" and s.summary_words == 40
    assert [x.name for x in s.sources] == ["Wire", str(tmp_path / "feeds/local.xml")]
    assert s.sources[1].url == str(tmp_path / "feeds" / "local.xml")
    assert any(t.name == "Standard-essential patents" for t in s.topics)
    assert (s.smtp.host, s.smtp.port, s.smtp.security) == ("mx.example.org", 465, "ssl")
    assert s.database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[newsletter]\ntitel = 'x'\n", "newsletter.titel"),
        ("[newsletter]\nsummary_words = 'sixty'\n", "newsletter.summary_words"),
        ("[newsletter]\nbase_url = 'digest.example.org'\n", "newsletter.base_url"),
        ("[[sources]]\nname = 'no url'\n", "sources[0].url"),
        ("[[sources]]\nurl = 'https://x.example/feed'\nfrequency = 3\n", "sources[0].frequency"),
        ("[mailer]\nhost = 'x'\n", "mailer"),
        ("[[topics]]\ntags = ['x']\n", "topics"),
        ("[newsletter\n", "(syntax)"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert err.value.key == key
    assert str(path) in str(err.value)


def test_bad_environment_value_is_named() -> None:
    with pytest.raises(ConfigError, match="SMTP_SECURITY"):
        load_settings(None, env={"SMTP_SECURITY": "tls"})
    with pytest.raises(ConfigError, match="SMTP_PORT"):
        load_settings(None, env={"SMTP_PORT": "twenty-five"})


def test_cli_exits_2_naming_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[newsletter]\nsendr = 'x@example.org'\n")
    result = CliRunner().invoke(cli, ["collect"])
    assert result.exit_code == 2
    assert "digest.toml" in result.output and "newsletter.sendr" in result.output


def test_missing_explicit_config_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "build"])
    assert result.exit_code == 2 and "nope.toml" in result.output


def test_a_wrong_type_names_the_file_the_key_and_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "[fetch]\nread_timeout = 'x'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert str(err.value) == f"{path}: fetch.read_timeout: expected a number, got 'x'"
    path = write(tmp_path, "[fetch]\nworkers = 0\n")
    with pytest.raises(ConfigError, match=r"fetch\.workers: must be 1 or more, got 0"):
        load_settings(path, env={})


def test_environment_values_are_checked_by_their_declaration(tmp_path: Path) -> None:
    smtp = load_settings(None, env={"SMTP_TIMEOUT": "2.5", "SMTP_SECURITY": " SSL "}).smtp
    assert (smtp.timeout, smtp.security, smtp.port) == (2.5, "ssl", 465)
    with pytest.raises(ConfigError) as err:
        load_settings(None, env={"SMTP_TIMEOUT": "soon"})
    assert str(err.value) == "environment: SMTP_TIMEOUT: expected a number, got 'soon'"
    with pytest.raises(ConfigError, match="SMTP_TIMEOUT: must be more than 0"):
        load_settings(None, env={"SMTP_TIMEOUT": "0"})
    with pytest.raises(ConfigError, match="SMTP_SECURITY: expected one of starttls, ssl, none, got 'tls'"):
        load_settings(None, env={"SMTP_SECURITY": "tls"})
    outbox = load_settings(None, env={"DIGEST_OUTBOX": str(tmp_path / "out")}).outbox_dir
    assert outbox == tmp_path / "out"


def test_a_path_passed_wins_over_digest_config(tmp_path: Path) -> None:
    path = write(tmp_path, "[newsletter]\ntitle = 'Passed'\n")
    other = tmp_path / "other.toml"
    other.write_text("[newsletter]\ntitle = 'Named'\n", encoding="utf-8")
    assert load_settings(None, env={"DIGEST_CONFIG": str(other)}).title == "Named"
    settings = load_settings(path, env={"DIGEST_CONFIG": str(other)})
    assert (settings.title, settings.config_path) == ("Passed", path)


def test_the_editor_account_is_part_of_the_settings() -> None:
    assert not load_settings(None, env={}).admin.enabled
    admin = load_settings(None, env={"DIGEST_ADMIN_USER": " editor ", "DIGEST_ADMIN_PASSWORD_HASH": "scrypt:x$y"}).admin
    assert admin.enabled and (admin.user, admin.password_hash) == ("editor", "scrypt:x$y")


def test_env_example_lists_every_variable_with_its_default() -> None:
    documented = dotenv_values(Path(__file__).parent.parent / ".env.example")
    declared = environment_variables()
    assert sorted(set(documented) - set(declared)) == [], "in .env.example but read by no setting"
    assert sorted(set(declared) - set(documented)) == [], "a setting missing from .env.example"
    assert {k: documented[k] or "" for k in declared} == declared


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    from digest.config import read_environment

    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    env = read_environment(tmp_path)
    settings = load_settings(
        tmp_path / "digest.toml",
        env={k: v for k, v in env.items() if not k.startswith(("SMTP_", "DIGEST_", "DKIM_"))}
        | {"DIGEST_SECRET_KEY": env["DIGEST_SECRET_KEY"]},
    )
    assert [s.name for s in settings.sources] == ["IP Wire"] and not settings.uses_samples
    assert len(env["DIGEST_SECRET_KEY"]) >= 32
    again = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_paths_follow_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --config, the database, the outbox, .env and relative paths belong to the file's folder."""
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    site.mkdir()
    elsewhere.mkdir()
    (site / "digest.toml").write_text(
        '[newsletter]\ntemplates = "mine"\n\n[[sources]]\nname = "a"\nurl = "feed.xml"\n', encoding="utf-8"
    )
    (site / ".env").write_text("DIGEST_SECRET_KEY=from-the-site-folder\n", encoding="utf-8")
    (elsewhere / ".env").write_text("DIGEST_SECRET_KEY=from-the-wrong-folder\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    for key in ("DIGEST_DATABASE_URL", "DIGEST_OUTBOX", "DIGEST_SECRET_KEY", "DIGEST_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    s = load_settings(site / "digest.toml")
    assert s.database_url == f"sqlite:///{site.resolve() / 'digest.db'}"
    assert s.outbox_dir == site.resolve() / "outbox"
    assert s.templates_dir == site.resolve() / "mine"
    assert s.sources[0].url == str(site.resolve() / "feed.xml")
    assert s.secret_key == "from-the-site-folder"


@pytest.mark.parametrize(
    "args", [["subscribers", "list"], ["subscribers", "export"], ["status"], ["report"], ["report", "2026-W10"]]
)
def test_reading_commands_never_create_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("DIGEST_DATABASE_URL", "DIGEST_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert f"no database at {tmp_path.resolve() / 'digest.db'}" in result.output
    assert not (tmp_path / "digest.db").exists()


def test_a_missing_digest_config_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_CONFIG", str(tmp_path / "nope.toml"))
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 2 and "DIGEST_CONFIG" in result.output


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("ssl", 465), ("none", 25)])
def test_a_copied_env_example_leaves_the_port_to_the_security(security: str, port: int) -> None:
    env = {k: v or "" for k, v in dotenv_values(Path(__file__).parent.parent / ".env.example").items()}
    env["SMTP_SECURITY"] = security
    assert load_settings(env=env).smtp.port == port


def test_an_smtp_table_says_where_smtp_settings_live(tmp_path: Path) -> None:
    (tmp_path / "digest.toml").write_text('[smtp]\nhost = "mail.example.org"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"smtp: the mail server's settings live in the environment or in \.env"):
        load_settings(tmp_path / "digest.toml", env={})


def test_counts_take_the_singular_for_one() -> None:
    from digest.models import counted

    assert [counted(n, "article") for n in (0, 1, 2)] == ["0 articles", "1 article", "2 articles"]


def test_the_docs_example_shows_every_key_the_config_accepts() -> None:
    from dataclasses import fields

    from digest.config import SECTIONS
    from digest.configspec import spec_of

    page = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    block = page.split("## An example", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    missing = []
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            spec = spec_of(f)
            if spec is None or not spec.toml:
                continue
            key = f.name if spec.toml is True else spec.toml
            if f"{key} =" not in block:
                missing.append(f"{section}.{key}")
    assert missing == []


def test_the_web_table_sets_the_sign_up_rate_limits(tmp_path: Path) -> None:
    path = write(tmp_path, '[web]\nsubscribe_limit_client = "100 per second"\n')
    web = load_settings(path, env={}).web
    assert (web.subscribe_limit_client, web.subscribe_limit_address) == ("100 per second", "3 per hour; 10 per day")


@pytest.mark.parametrize("key", ["sender", "reply_to"])
@pytest.mark.parametrize("value", ["IP Digest", "digest at example.org", "a@example.org, b@example.org", "x@"])
def test_a_sender_that_is_not_an_address_stops_naming_the_key(tmp_path: Path, key: str, value: str) -> None:
    path = write(tmp_path, f'[newsletter]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(path, env={})
    assert raised.value.key == f"newsletter.{key}" and raised.value.exit_code == 2
    result = CliRunner().invoke(cli, ["--config", str(path), "status"])
    assert result.exit_code == 2
    assert f"newsletter.{key}: " in result.output and "email address" in result.output


@pytest.mark.parametrize(
    "value", ["IP Digest <digest@example.org>", "digest@example.org", '\\"Ann, editor\\" <a@x.org>']
)
def test_a_sender_with_or_without_a_display_name_is_accepted(tmp_path: Path, value: str) -> None:
    assert load_settings(write(tmp_path, f'[newsletter]\nsender = "{value}"\n'), env={}).sender


def test_init_env_explains_the_same_values_as_env_example(tmp_path: Path) -> None:
    from digest.envfile import EXAMPLE

    example = (Path(__file__).parent.parent / ".env.example").read_text(encoding="utf-8")
    assert example == EXAMPLE, "regenerate .env.example from digest/envfile.py (or the other way round)"
    assert variables(example) == environment_variables(), "a default in .env.example differs from its setting's"
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    written = (tmp_path / "site" / ".env").read_text(encoding="utf-8")
    # Line for line the same explanations; only the variables are commented out, and the secret key is set.
    for mine, theirs in zip(written.splitlines()[1:], example.splitlines()[1:], strict=True):
        if theirs.startswith("DIGEST_SECRET_KEY="):
            assert mine.startswith("DIGEST_SECRET_KEY=") and len(mine) > len("DIGEST_SECRET_KEY=") + 30
        elif theirs.startswith("#") or not theirs:
            assert mine == theirs
        else:
            assert mine == f"# {theirs}"
    loaded = dotenv_values(tmp_path / "site" / ".env")
    assert set(loaded) == {"DIGEST_SECRET_KEY"}


def variables(text: str) -> dict[str, str]:
    """NAME -> value of each NAME=value line of ``text``, commented out ("# NAME=value") or not."""
    found = (re.match(r"([A-Z][A-Z0-9_]*)=(.*)$", line.removeprefix("# ")) for line in text.splitlines())
    return {m[1]: m[2] for m in found if m is not None}
