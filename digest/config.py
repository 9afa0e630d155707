"""Settings: digest.toml plus the environment (and a .env file), read once and passed down frozen."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from .errors import ConfigError
from .timespec import parse_duration, parse_timezone, parse_weekly
from .topics import DEFAULT_TOPICS, Topic, extend_topics

SAMPLES = Path(__file__).parent / "samples"
SECURITIES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str


@dataclass(frozen=True)
class FetchConfig:
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    deadline: float = 30.0
    max_bytes: int = 5_000_000
    workers: int = 8
    page_workers: int = 4


@dataclass(frozen=True)
class SMTPConfig:
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = None
    security: str = "starttls"
    timeout: float = 30.0
    max_per_connection: int = 100   # messages before the connection is closed and reopened
    max_attempts: int = 5            # tries per message on 4xx replies, drops and timeouts
    retry_seconds: float = 5.0       # first retry delay; doubles each time (with jitter), at most 10 min
    dkim_key_file: Path | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None


@dataclass(frozen=True)
class ScheduleConfig:
    timezone: str = "UTC"
    collect_every: str = "1h"
    build: str | None = None
    send: str = "mon 07:00"
    grace: str = "2d"
    require_approval: bool = False
    editors: tuple[str, ...] = ()
    min_articles: int = 1


@dataclass(frozen=True)
class Settings:
    title: str = "IP Protection Weekly"
    sender: str = "IP Digest <digest@localhost>"
    base_url: str = "http://127.0.0.1:8000"
    reply_to: str | None = None
    unsubscribe_mailto: str | None = None
    list_id: str | None = None
    summary_words: int = 60
    max_html_bytes: int = 100_000
    templates_dir: Path | None = None
    outbox_dir: Path = Path("outbox")
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[Topic, ...] = DEFAULT_TOPICS
    fetch: FetchConfig = field(default_factory=FetchConfig)
    smtp: SMTPConfig = field(default_factory=SMTPConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    database_url: str = "sqlite:///digest.db"
    secret_key: str | None = None
    config_path: Path | None = None

    @property
    def list_id_header(self) -> str:
        if self.list_id:
            return self.list_id
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
        return f"{self.title} <weekly.{host}>"

    @property
    def uses_samples(self) -> bool:
        return all(Path(s.url).parent == SAMPLES for s in self.sources)


def sample_sources() -> tuple[SourceConfig, ...]:
    return (
        SourceConfig("IP Wire (sample)", str(SAMPLES / "ipwire.xml")),
        SourceConfig("Patent Notes (sample)", str(SAMPLES / "patentnotes.atom")),
    )


_NEWSLETTER_KEYS = {
    "title": str, "sender": str, "base_url": str, "reply_to": str, "unsubscribe_mailto": str,
    "list_id": str, "summary_words": int, "max_html_bytes": int, "templates": str, "outbox": str,
}
_FETCH_KEYS = {
    "connect_timeout": (int, float), "read_timeout": (int, float), "deadline": (int, float),
    "max_bytes": int, "workers": int, "page_workers": int,
}
_SCHEDULE_KEYS = {
    "timezone": str, "collect_every": str, "build": str, "send": str, "grace": str,
    "require_approval": bool, "editors": list, "min_articles": int,
}
_TOP_KEYS = {"newsletter", "fetch", "sources", "topics", "schedule"}


def _check_table(where: str, name: str, table: Any, known: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(where, name, "must be a table, like [" + name + "]")
    for key, value in table.items():
        if key not in known:
            raise ConfigError(where, f"{name}.{key}", f"unknown key; known keys are {', '.join(sorted(known))}")
        expected = known[key]
        if isinstance(value, bool) and expected is not bool:
            raise ConfigError(where, f"{name}.{key}", f"expected {_type_name(expected)}, got {value!r}")
        if not isinstance(value, expected):
            raise ConfigError(where, f"{name}.{key}", f"expected {_type_name(expected)}, got {value!r}")
    return dict(table)


def _type_name(expected: Any) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    names = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
             "list": "a list"}
    return " or ".join(names.get(t.__name__, t.__name__) for t in types)


def _check_schedule(where: str, sched: dict[str, Any]) -> None:
    """Validate [schedule] in place (editors become a tuple of normalized addresses)."""
    from subscribers.validation import InvalidAddress, normalize_email

    checks = {"timezone": parse_timezone, "collect_every": parse_duration, "grace": parse_duration,
              "build": parse_weekly, "send": parse_weekly}
    for key, check in checks.items():
        if key in sched:
            try:
                check(sched[key])
            except ValueError as exc:
                raise ConfigError(where, f"schedule.{key}", str(exc)) from None
    editors = []
    for i, raw in enumerate(sched.get("editors", [])):
        try:
            editors.append(normalize_email(str(raw)))
        except InvalidAddress as exc:
            raise ConfigError(where, f"schedule.editors[{i}]", f"{raw!r}: {exc}") from None
    if "editors" in sched:
        sched["editors"] = tuple(editors)
    if sched.get("min_articles", 1) < 1:
        raise ConfigError(where, "schedule.min_articles", "must be 1 or more")
    if sched.get("require_approval") and not sched.get("build"):
        raise ConfigError(where, "schedule.build", "required when require_approval = true: the draft is built "
                          "(and sent to the editors) at this time, before the send, e.g. build = \"fri 12:00\"")
    if sched.get("require_approval") and not editors:
        raise ConfigError(where, "schedule.editors", "required when require_approval = true: "
                          "the addresses that receive the draft to approve, e.g. editors = [\"ed@example.org\"]")


def _sources(where: str, raw: Any, base: Path) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(where, "sources", "must be an array of tables: [[sources]] with name and url")
    out = []
    for i, item in enumerate(raw):
        key = f"sources[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(where, key, "must be a table with name and url")
        unknown = set(item) - {"name", "url"}
        if unknown:
            raise ConfigError(where, f"{key}.{sorted(unknown)[0]}", "unknown key; a source has name and url")
        url = item.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError(where, f"{key}.url", "missing; give the feed's http(s) URL or a file path")
        url = url.strip()
        if "://" not in url and not Path(url).is_absolute():
            url = str((base / url).resolve())
        name = item.get("name", url)
        if not isinstance(name, str):
            raise ConfigError(where, f"{key}.name", "must be a string")
        out.append(SourceConfig(name=name, url=url))
    return tuple(out)


def _env_int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError("environment", key, f"expected a whole number, got {raw!r}") from None


def _smtp(env: Mapping[str, str]) -> SMTPConfig:
    security = (env.get("SMTP_SECURITY") or "starttls").strip().lower()
    if security not in SECURITIES:
        raise ConfigError("environment", "SMTP_SECURITY", f"must be one of {', '.join(SECURITIES)}, got {security!r}")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    return SMTPConfig(
        host=env.get("SMTP_HOST") or None,
        port=_env_int(env, "SMTP_PORT", default_port),
        username=env.get("SMTP_USERNAME") or None,
        password=env.get("SMTP_PASSWORD") or None,
        security=security,
        timeout=float(_env_int(env, "SMTP_TIMEOUT", 30)),
        max_per_connection=_env_positive(env, "SMTP_MAX_PER_CONNECTION", 100),
        max_attempts=_env_positive(env, "SMTP_MAX_ATTEMPTS", 5),
        retry_seconds=_env_float(env, "SMTP_RETRY_SECONDS", 5.0),
        **_dkim(env),
    )


def _env_positive(env: Mapping[str, str], key: str, default: int) -> int:
    value = _env_int(env, key, default)
    if value < 1:
        raise ConfigError("environment", key, f"must be 1 or more, got {value}")
    return value


def _env_float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError("environment", key, f"expected a number of seconds, got {raw!r}") from None
    if value < 0:
        raise ConfigError("environment", key, f"must be 0 or more, got {raw!r}")
    return value


def _dkim(env: Mapping[str, str]) -> dict[str, Any]:
    keys = ("DKIM_KEY_FILE", "DKIM_SELECTOR", "DKIM_DOMAIN")
    given = {k: (env.get(k) or "").strip() for k in keys}
    if not any(given.values()):
        return {}
    missing = [k for k in keys if not given[k]]
    if missing:
        raise ConfigError("environment", missing[0], "DKIM signing needs DKIM_KEY_FILE, DKIM_SELECTOR and DKIM_DOMAIN")
    path = Path(given["DKIM_KEY_FILE"])
    if not path.is_file():
        raise ConfigError("environment", "DKIM_KEY_FILE", f"no such file: {path}; give the PEM private key's path")
    return {"dkim_key_file": path, "dkim_selector": given["DKIM_SELECTOR"], "dkim_domain": given["DKIM_DOMAIN"]}


def read_environment(cwd: Path | None = None) -> dict[str, str]:
    """The process environment over the values of a .env file in the working directory."""
    env_file = (cwd or Path.cwd()) / ".env"
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
    values.update(os.environ)
    return values


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read digest.toml (or ``path``, or $DIGEST_CONFIG) and the environment into Settings.

    With no file at all, the bundled sample sources are used.
    """
    env = dict(read_environment() if env is None else env)
    explicit = path or (Path(env["DIGEST_CONFIG"]) if env.get("DIGEST_CONFIG") else None)
    config_path = explicit or Path("digest.toml")
    data: dict[str, Any] = {}
    if config_path.exists():
        where = str(config_path)
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(where, "(syntax)", f"not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(where, "(encoding)", "the file must be UTF-8") from None
    elif explicit is not None:
        raise ConfigError(str(explicit), "(file)", "no such file; pass an existing digest.toml with --config")
    where = str(config_path)
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(where, key, f"unknown section; known sections are {', '.join(sorted(_TOP_KEYS))}")
    news = _check_table(where, "newsletter", data.get("newsletter", {}), _NEWSLETTER_KEYS)
    fetch = _check_table(where, "fetch", data.get("fetch", {}), _FETCH_KEYS)
    sched = _check_table(where, "schedule", data.get("schedule", {}), _SCHEDULE_KEYS)
    base = config_path.resolve().parent
    sources = _sources(where, data["sources"], base) if "sources" in data else sample_sources()
    try:
        topics = extend_topics(DEFAULT_TOPICS, data.get("topics", []))
    except ValueError as exc:
        raise ConfigError(where, "topics", str(exc)) from None
    for key in ("summary_words", "max_html_bytes"):
        if key in news and news[key] <= 0:
            raise ConfigError(where, f"newsletter.{key}", "must be a positive number")
    base_url = str(news.get("base_url", Settings.base_url)).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(where, "newsletter.base_url", "must start with https:// (or http:// for local testing)")
    _check_schedule(where, sched)
    templates = news.pop("templates", None)
    outbox = news.pop("outbox", None) or env.get("DIGEST_OUTBOX") or "outbox"
    news["base_url"] = base_url
    return Settings(
        **news,
        templates_dir=(base / templates) if templates else None,
        outbox_dir=Path(outbox),
        sources=sources,
        topics=topics,
        fetch=FetchConfig(**fetch),
        smtp=_smtp(env),
        schedule=ScheduleConfig(**sched),
        database_url=env.get("DIGEST_DATABASE_URL") or "sqlite:///digest.db",
        secret_key=env.get("DIGEST_SECRET_KEY") or None,
        config_path=config_path if config_path.exists() else None,
    )
