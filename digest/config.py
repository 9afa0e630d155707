"""Settings: digest.toml plus the environment (and a .env file), read once and passed down frozen."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

from dotenv import dotenv_values

from .configspec import ENVIRONMENT, environment_defaults, read_env, read_table, setting
from .errors import ConfigError
from .taxonomy import DEFAULT_TOPICS, Jurisdiction, Topic, extend_topics
from .timespec import parse_duration, parse_timezone, parse_weekly

SAMPLES = Path(__file__).parent / "samples"
# the samples' article links, on example domains, answered from the pages bundled with them: never fetched
SAMPLE_PAGES: Mapping[str, Path] = {"https://ipwire.example/2026/": SAMPLES / "articles"}
Security = Literal["starttls", "ssl", "none"]
DEFAULT_PORTS: Mapping[str, int] = {"starttls": 587, "ssl": 465, "none": 25}


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with https:// (or http:// for local testing)")
    return value.rstrip("/")


def _editor(value: str) -> str:
    from subscribers.validation import normalize_email  # email-validator is slow to import; only when needed

    return normalize_email(value)


def _existing_file(value: Path) -> None:
    if not value.is_file():
        raise ValueError(f"no such file: {value}; give the PEM private key's path")


SCOPES = ("general", "ip")  # [[sources]] scope: a newswire's entries need IP evidence, a specialist's less


def _scope(value: object) -> None:
    if value not in SCOPES:
        raise ValueError(f'must be "ip" (a specialist IP source) or "general" (the default), not {value!r}')


@dataclass(frozen=True)
class SourceConfig:
    """One [[sources]] entry."""

    name: str = setting("", toml=True)  # the source's name in the email; empty: its URL
    url: str = setting("", toml=True)
    scope: str = setting("general", toml=True, check=_scope)  # "ip": a specialist source; "general": needs evidence


def _jurisdiction_code(value: str) -> str:
    from .taxonomy import is_code  # pycountry: loaded only when the file names jurisdictions

    code = value.strip().lower()
    if not is_code(code):
        raise ValueError(
            f"{value!r} is not a jurisdiction code; use an ISO 3166 alpha-2 code (us, de, gb) or eu, upc, int"
        )
    return code


@dataclass(frozen=True)
class JurisdictionConfig:
    """One [[jurisdictions]] entry: more terms that name a jurisdiction."""

    name: str = setting("", toml=True)  # what readers see, e.g. "Unified Patent Court"
    code: str = setting("", toml=True, convert=_jurisdiction_code)  # ISO 3166 alpha-2 lower case, eu, upc or int
    terms: tuple[str, ...] = setting((), toml=True)  # words that name it in a story, e.g. ["UPC"]


@dataclass(frozen=True)
class FetchConfig:
    """[fetch]: how feeds and article pages are downloaded."""

    connect_timeout: float = setting(5.0, toml=True, above=0)  # seconds to open a connection
    read_timeout: float = setting(15.0, toml=True, above=0)  # seconds to wait for the next bytes
    deadline: float = setting(30.0, toml=True, above=0)  # seconds for a whole feed or page, however slow it comes
    max_bytes: int = setting(5_000_000, toml=True, minimum=1)  # a feed or page larger than this is cut off
    workers: int = setting(8, toml=True, minimum=1)  # feeds fetched at once
    page_workers: int = setting(4, toml=True, minimum=1)  # article pages fetched (and extracted) at once
    # hosts on a private network (or this machine) that pages may come from, besides the sources' hosts
    allow_hosts: tuple[str, ...] = setting((), toml=True)
    extract_workers: int = setting(0, toml=True, minimum=0)  # processes reading texts; 0: one per core


@dataclass(frozen=True)
class SMTPConfig:
    """The mail server, from the environment; with no host, messages go to the outbox folder."""

    host: str | None = setting(None, env="SMTP_HOST")  # the mail server; empty: .eml files in the outbox folder
    # empty: 587 for starttls, 465 for ssl, 25 for none (set by __post_init__ from DEFAULT_PORTS)
    port: int = setting(cast(int, None), env="SMTP_PORT", minimum=1)
    username: str | None = setting(None, env="SMTP_USERNAME")  # AUTH is used when a username is set
    password: str | None = setting(None, env="SMTP_PASSWORD")  # the AUTH password
    # starttls (certificates verified), ssl (implicit TLS), none (plain, for a trusted local relay only)
    security: Security = setting("starttls", env="SMTP_SECURITY")
    timeout: float = setting(30.0, env="SMTP_TIMEOUT", above=0)  # seconds to wait for the mail server
    max_per_connection: int = setting(100, env="SMTP_MAX_PER_CONNECTION", minimum=1)  # then reconnect
    # MAIL, RCPT and DATA in one write when the server offers PIPELINING (RFC 2920); false: one at a time
    pipelining: bool = setting(True, env="SMTP_PIPELINING")
    max_attempts: int = setting(5, env="SMTP_MAX_ATTEMPTS", minimum=1)  # tries per message on 4xx, drops, timeouts
    retry_seconds: float = setting(5.0, env="SMTP_RETRY_SECONDS", minimum=0)  # doubles per try (jitter), <= 10 min
    # DKIM signing (the dkim extra) needs all three or none
    dkim_key_file: Path | None = setting(None, env="DKIM_KEY_FILE", check=_existing_file)  # the PEM private key
    dkim_selector: str | None = setting(None, env="DKIM_SELECTOR")  # the public key is at SELECTOR._domainkey.DOMAIN
    dkim_domain: str | None = setting(None, env="DKIM_DOMAIN")  # the signing domain

    def __post_init__(self) -> None:
        if self.port is None:
            object.__setattr__(self, "port", DEFAULT_PORTS[self.security])


@dataclass(frozen=True)
class ScheduleConfig:
    """[schedule]: when the daemon collects, builds and sends."""

    timezone: str = setting("UTC", toml=True, check=parse_timezone)  # an IANA name, e.g. "Europe/Berlin"
    collect_every: str = setting("1h", toml=True, check=parse_duration)  # a duration: 90s, 30m, 1h, 2d, 1h30m
    build: str | None = setting(None, toml=True, check=parse_weekly)  # build the draft ahead of the send: "fri 12:00"
    # day names, not numbers; without build, the send job collects and builds first
    send: str = setting("mon 07:00", toml=True, check=parse_weekly)
    grace: str = setting("2d", toml=True, check=parse_duration)  # a send missed while down runs once within this
    require_approval: bool = setting(False, toml=True)  # send only after `digest approve` (needs build, editors)
    editors: tuple[str, ...] = setting((), toml=True, convert=_editor)  # get the draft as a test when it is built
    min_articles: int = setting(1, toml=True, minimum=1)  # fewer: the week is skipped, its articles roll forward


def _bounce_address(value: str) -> None:
    local, at, domain = value.rpartition("<")[2].rstrip(">").partition("@")
    if not at or not local or "." not in domain or "+" in local:
        raise ValueError(
            "must be a plain address without '+', like bounces@example.org (it becomes "
            "bounces+<token>@example.org per message)"
        )


def _mailbox_address(value: str) -> None:
    """One address, bare or with a display name ("IP Digest <digest@example.org>"), checked by email-validator
    (syntax only: no DNS lookup)."""
    from email.utils import getaddresses

    from email_validator import EmailNotValidError, validate_email

    found = getaddresses([value])
    if len(found) != 1 or not found[0][1]:
        raise ValueError(f'must be one email address, like "IP Digest <digest@example.org>"; got {value!r}')
    try:
        validate_email(found[0][1], check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise ValueError(
            f'{value!r} is not an email address ({exc}); write it like "IP Digest <digest@example.org>"'
        ) from None


def _mailbox(value: str) -> None:
    if not value.startswith(("imaps://", "imap://", "pop3s://", "maildir:", "mbox:")):
        raise ValueError(
            "must start with imaps://, imap:// (STARTTLS), pop3s://, maildir: or mbox:, e.g. "
            "imaps://bounces@mail.example.org/INBOX or maildir:/var/mail/bounces"
        )


Processed = Literal["move", "delete"]


@dataclass(frozen=True)
class BouncesConfig:
    """[bounces]: where bounce and complaint mail arrives, and what it does to the list."""

    # where bounces arrive: imaps://user@host/INBOX, imap:// (STARTTLS), pop3s://, maildir:/path or mbox:/path
    mailbox: str | None = setting(None, toml=True, check=_mailbox)
    password: str | None = setting(None, env="BOUNCE_PASSWORD")  # the mailbox's password (IMAP, POP3)
    every: str = setting("15m", toml=True, check=parse_duration)  # how often the daemon reads the mailbox
    processed: Processed = setting("move", toml=True)  # move read mail to `folder`, or delete it
    folder: str = setting("Processed", toml=True)  # where "move" puts read mail (IMAP, Maildir; an mbox beside it)
    soft_limit: int = setting(3, toml=True, minimum=1)  # soft bounces that mark a subscriber bounced
    soft_days: int = setting(30, toml=True, minimum=1)  # … within this many days, with no delivery between
    # true only for relays that strip VERP: a report's recipient then picks among the deliveries of the
    # Message-ID it returns (never beyond them)
    match_recipient: bool = setting(False, toml=True)


@dataclass(frozen=True)
class WebhooksConfig:
    """The ESPs' event webhooks of `digest serve` under /webhooks/; each is off while its secret is unset."""

    ses_topic_arn: str = setting("", env="SES_TOPIC_ARN")  # the SNS topic(s) of SES events, comma-separated
    postmark_user: str = setting("", env="POSTMARK_WEBHOOK_USER")  # basic auth of the Postmark webhook
    postmark_password: str = setting("", env="POSTMARK_WEBHOOK_PASSWORD")  # … and its password
    mailgun_signing_key: str = setting("", env="MAILGUN_WEBHOOK_SIGNING_KEY")  # Mailgun's HTTP webhook signing key
    sendgrid_public_key: str = setting("", env="SENDGRID_WEBHOOK_PUBLIC_KEY")  # base64, as SendGrid shows it


@dataclass(frozen=True)
class TrackingConfig:
    """[tracking]: what the program counts about readers (nothing, by default)."""

    clicks: bool = setting(False, toml=True)  # article links through /r/<signed token>, counted
    per_subscriber: bool = setting(False, toml=True)  # the click links name the reader: unique clickers
    opens: bool = setting(False, toml=True)  # an image per message; proxies and Mail Privacy Protection inflate it
    retention_days: int = setting(180, toml=True, minimum=1)  # click and open rows older than this are deleted


@dataclass(frozen=True)
class PrivacyConfig:
    """[privacy]: how long personal data that is no longer needed is kept (pruned on every collect)."""

    keep_delivery_days: int = setting(365, toml=True, minimum=30)  # finished delivery rows (who got which issue)
    keep_consent_ip_days: int = setting(730, toml=True, minimum=1)  # IP and user agent of sign-ups and confirmations


@dataclass(frozen=True)
class WebConfig:
    """[web]: the sign-up rate limits of `digest serve` (flask-limiter strings, kept in memory per process)."""

    subscribe_limit_client: str = setting("10 per minute; 60 per hour", toml=True)  # per client address
    subscribe_limit_address: str = setting("3 per hour; 10 per day", toml=True)  # per address signed up


@dataclass(frozen=True)
class AdminConfig:
    """The editor's account for the pages under /admin of `digest serve` (off while either is empty)."""

    user: str = setting("", env="DIGEST_ADMIN_USER")  # the editor's username
    password_hash: str = setting("", env="DIGEST_ADMIN_PASSWORD_HASH")  # from `digest admin-hash`

    @property
    def enabled(self) -> bool:
        return bool(self.user and self.password_hash)


@dataclass(frozen=True)
class Settings:
    """Everything the program is told: [newsletter] of digest.toml, its other tables, and the environment."""

    title: str = setting("IP Protection Weekly", toml=True)  # the newsletter's name, in subjects and pages
    sender: str = setting("IP Digest <digest@localhost>", toml=True, check=_mailbox_address)  # From: of every message
    # where `digest serve` answers: the links in emails (unsubscribe, preferences, web version)
    base_url: str = setting("http://127.0.0.1:8000", toml=True, convert=_base_url)
    reply_to: str | None = setting(None, toml=True, check=_mailbox_address)  # Reply-To: of every issue
    unsubscribe_mailto: str | None = setting(None, toml=True)  # a mailto: in List-Unsubscribe besides the link
    # envelope senders become bounces+<signed token>@example.org (VERP); empty: the sender's address
    bounce_address: str | None = setting(None, toml=True, check=_bounce_address)
    list_id: str | None = setting(None, toml=True)  # List-Id:; empty: the title and base_url's host
    summary_words: int = setting(60, toml=True, minimum=1)  # whole sentences up to this many words
    # article links get utm_source, utm_medium=email and utm_campaign
    utm_source: str | None = setting(None, toml=True)
    max_html_bytes: int = setting(100_000, toml=True, minimum=1)  # the HTML part's budget; the rest links to the web
    # your own email templates, same names as templates/; relative to the config file's folder
    templates_dir: Path | None = setting(None, toml="templates")
    # .eml files and previews when no SMTP_HOST is set; digest.toml's outbox wins over DIGEST_OUTBOX
    outbox_dir: Path = setting(Path("outbox"), toml="outbox", env="DIGEST_OUTBOX")
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[Topic, ...] = DEFAULT_TOPICS
    jurisdictions: tuple[Jurisdiction, ...] = ()  # [[jurisdictions]]: terms added to the built-in table
    fetch: FetchConfig = field(default_factory=FetchConfig)
    smtp: SMTPConfig = field(default_factory=SMTPConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    web: WebConfig = field(default_factory=WebConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    bounces: BouncesConfig = field(default_factory=BouncesConfig)
    webhooks: WebhooksConfig = field(default_factory=WebhooksConfig)
    # SQLAlchemy URL; PostgreSQL: postgresql+psycopg://user:password@host/db (the postgres extra)
    database_url: str = setting("sqlite:///digest.db", env="DIGEST_DATABASE_URL")
    # signs the links in emails and the forms' CSRF; empty: a random key kept in the database
    secret_key: str | None = setting(None, env="DIGEST_SECRET_KEY")
    # the digest.toml to read; empty: ./digest.toml, else the bundled sample sources
    config_path: Path | None = setting(None, env="DIGEST_CONFIG")

    @property
    def list_id_header(self) -> str:
        if self.list_id:
            return self.list_id
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
        return f"{self.title} <weekly.{host}>"

    @property
    def uses_samples(self) -> bool:
        return bool(self.sources) and all(Path(s.url).parent == SAMPLES for s in self.sources)


def sample_sources() -> tuple[SourceConfig, ...]:
    return (
        SourceConfig("IP Wire (sample)", str(SAMPLES / "ipwire.xml")),
        SourceConfig("Patent Notes (sample)", str(SAMPLES / "patentnotes.atom")),
    )


SECTIONS: Mapping[str, type] = {
    "newsletter": Settings,
    "fetch": FetchConfig,
    "schedule": ScheduleConfig,
    "tracking": TrackingConfig,
    "privacy": PrivacyConfig,
    "bounces": BouncesConfig,
    "web": WebConfig,
}
_TOP_KEYS = {*SECTIONS, "sources", "topics", "jurisdictions"}


def _check_schedule(where: str, sched: ScheduleConfig) -> None:
    """The rules between [schedule]'s keys (each key alone is checked by its declaration)."""
    if sched.require_approval and not sched.build:
        raise ConfigError(
            where,
            "schedule.build",
            "required when require_approval = true: the draft is built "
            '(and sent to the editors) at this time, before the send, e.g. build = "fri 12:00"',
        )
    if sched.require_approval and not sched.editors:
        raise ConfigError(
            where,
            "schedule.editors",
            "required when require_approval = true: "
            'the addresses that receive the draft to approve, e.g. editors = ["ed@example.org"]',
        )


def _sources(where: str, raw: Any, base: Path) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError(where, "sources", "must be an array of tables: [[sources]] with name and url")
    out = []
    for i, item in enumerate(raw):
        key = f"sources[{i}]"
        values = read_table(SourceConfig, where, key, item)
        url = values.get("url", "").strip()
        if not url:
            raise ConfigError(where, f"{key}.url", "missing; give the feed's http(s) URL or a file path")
        if "://" not in url and not Path(url).is_absolute():
            url = str((base / url).resolve())
        out.append(SourceConfig(name=values.get("name", url), url=url, scope=values.get("scope", "general")))
    return tuple(out)


def _jurisdictions(where: str, raw: Any) -> tuple[Jurisdiction, ...]:
    if not isinstance(raw, list):
        raise ConfigError(
            where, "jurisdictions", "must be an array of tables: [[jurisdictions]] with name, code, terms"
        )
    out = []
    for i, item in enumerate(raw):
        key = f"jurisdictions[{i}]"
        values = read_table(JurisdictionConfig, where, key, item)
        if not values.get("code"):
            raise ConfigError(where, f"{key}.code", 'missing; give the code the terms name, e.g. code = "upc"')
        terms = tuple(t for t in values.get("terms", ()) if t.strip())
        if not terms:
            raise ConfigError(where, f"{key}.terms", 'give at least one term, e.g. terms = ["Unified Patent Court"]')
        out.append(Jurisdiction(code=values["code"], name=values.get("name", "").strip(), terms=terms))
    return tuple(out)


def _smtp(env: Mapping[str, str]) -> SMTPConfig:
    values = read_env(SMTPConfig, env)
    dkim = {"dkim_key_file": "DKIM_KEY_FILE", "dkim_selector": "DKIM_SELECTOR", "dkim_domain": "DKIM_DOMAIN"}
    missing = [var for name, var in dkim.items() if name not in values]
    if len(missing) not in (0, len(dkim)):
        raise ConfigError(ENVIRONMENT, missing[0], "DKIM signing needs DKIM_KEY_FILE, DKIM_SELECTOR and DKIM_DOMAIN")
    return SMTPConfig(**values)


def environment_variables() -> dict[str, str]:
    """Every environment variable the settings read, with its default as written in .env.example."""
    return environment_defaults(Settings)


def read_environment(cwd: Path | None = None) -> dict[str, str]:
    """The process environment over the values of a .env file in the working directory."""
    env_file = (cwd or Path.cwd()) / ".env"
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
    values.update(os.environ)
    return values


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read digest.toml (or ``path``, or $DIGEST_CONFIG) and the environment into Settings.

    The .env file, the default database and outbox, and relative paths in the file belong to the config
    file's folder (the working directory when there is no file). With no file at all, the bundled sample
    sources are used.
    """
    if env is None:
        named_path = path or (Path(os.environ["DIGEST_CONFIG"]) if os.environ.get("DIGEST_CONFIG") else None)
        env = read_environment(named_path.resolve().parent if named_path else None)
    env = dict(env)
    from_env = read_env(Settings, env)
    named = from_env.pop("config_path", None)  # $DIGEST_CONFIG, unless a path is passed
    explicit = path or named
    config_path = explicit or Path("digest.toml")
    where = str(config_path)
    data: dict[str, Any] = {}
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(where, "(syntax)", f"not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(where, "(encoding)", "the file must be UTF-8") from None
    elif explicit is not None:
        source = "--config" if path and os.environ.get("DIGEST_CONFIG") != str(path) else "DIGEST_CONFIG"
        raise ConfigError(where, "(file)", f"no such file (named by {source}); pass an existing digest.toml")
    for key in data:
        if key == "smtp":
            raise ConfigError(
                where,
                "smtp",
                "the mail server's settings live in the environment or in .env beside "
                "this file (SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_SECURITY), "
                "not in digest.toml; move them there and delete the [smtp] table",
            )
        if key not in _TOP_KEYS:
            raise ConfigError(where, key, f"unknown section; known sections are {', '.join(sorted(_TOP_KEYS))}")
    tables = {name: read_table(cls, where, name, data.get(name, {})) for name, cls in SECTIONS.items()}
    base = config_path.resolve().parent
    sources = _sources(where, data["sources"], base) if "sources" in data else sample_sources()
    try:
        topics = extend_topics(DEFAULT_TOPICS, data.get("topics", []))
    except ValueError as exc:
        raise ConfigError(where, "topics", str(exc)) from None
    jurisdictions = _jurisdictions(where, data["jurisdictions"]) if "jurisdictions" in data else ()
    schedule = ScheduleConfig(**tables["schedule"])
    _check_schedule(where, schedule)
    news = {**from_env, **tables["newsletter"]}
    if news.get("templates_dir"):
        news["templates_dir"] = base / news["templates_dir"]
    if "outbox_dir" in tables["newsletter"] or "outbox_dir" not in news:
        news["outbox_dir"] = base / news.get("outbox_dir", Path("outbox"))
    news.setdefault("database_url", f"sqlite:///{base / 'digest.db'}")
    return Settings(
        **news,
        sources=sources,
        topics=topics,
        jurisdictions=jurisdictions,
        fetch=FetchConfig(**tables["fetch"]),
        smtp=_smtp(env),
        schedule=schedule,
        admin=AdminConfig(**read_env(AdminConfig, env)),
        tracking=TrackingConfig(**tables["tracking"]),
        privacy=PrivacyConfig(**tables["privacy"]),
        web=WebConfig(**tables["web"]),
        bounces=BouncesConfig(**tables["bounces"], **read_env(BouncesConfig, env)),
        webhooks=WebhooksConfig(**read_env(WebhooksConfig, env)),
        config_path=config_path if config_path.exists() else None,
    )
