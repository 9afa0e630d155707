"""The library the CLI, the daemon and the web app share: collect, build, preview, send, run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from subscribers.model import Subscriber
from subscribers.store import SubscriberStore
from subscribers.tokens import Tokens

from .collect import CollectReport, collect
from .compose import compose, period, week_key
from .config import Settings
from .deliver import DeliveryReport, deliver
from .errors import NothingToSend, UsageError
from .mailer import Envelope, OutboxTransport, SMTPTransport, Transport, build_message
from .models import Issue
from .render import Personal, Rendered, Renderer, personalize
from .store import Store
from .topics import Taxonomy

log = logging.getLogger(__name__)

SAMPLE = Personal(name="Ada Lovelace", email="ada@example.org", unsubscribe_url="#unsubscribe-preview",
                  preferences_url="#preferences-preview")


@dataclass
class Preview:
    html: Path
    text: Path


class Digest:
    """One newsletter: its settings, store, audience and renderer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self.subscribers = SubscriberStore(self.store.engine)
        self.tokens = Tokens(self.store.secret_key(settings.secret_key))
        self.taxonomy = Taxonomy(settings.topics)
        self.renderer = Renderer(settings.base_url, settings.templates_dir, settings.max_html_bytes)

    def close(self) -> None:
        self.store.close()

    # -- stages ------------------------------------------------------------------------------

    def collect(self) -> CollectReport:
        return collect(self.settings, self.store)

    def build(self, when: datetime | None = None) -> Issue:
        """Compose (or recompose) the draft of the week of ``when``; NothingToSend when it has no article."""
        when = when or datetime.now(UTC)
        week = week_key(when)
        existing = self.store.issue(week=week)
        if existing is not None and existing.status != "draft":
            log.info("issue %s has started sending; it is not rebuilt", week)
            return existing
        last = self.store.latest_issue()
        start, end = period(when, last.end if last else None)
        skipped = None if last else self.store.first_skipped_start()
        if skipped is not None and skipped < start:  # weeks skipped before the first issue roll forward
            start = skipped
        issue = compose(self.store.articles_between(start, end), self.taxonomy, title=self.settings.title,
                        when=end, start=start)
        if issue is None:
            if existing is not None:
                self.store.delete_draft(week)
            raise NothingToSend(f"no new IP articles since {start:%d %b %Y %H:%M} UTC: no issue this week")
        return self.store.save_draft(issue)

    def current_issue(self) -> Issue:
        """The issue to send: the newest that is a draft or has started sending."""
        issue = self.store.latest_issue(("draft", "sending", "sent"))
        if issue is None:
            raise NothingToSend("no issue has been built yet; run `digest build` first")
        return issue

    def transport(self) -> Transport:
        if self.settings.smtp.host:
            return SMTPTransport(self.settings.smtp)
        return OutboxTransport(self.outbox_folder(self.current_issue()))

    def outbox_folder(self, issue: Issue) -> Path:
        return self.settings.outbox_dir / issue.week

    def links(self, sub: Subscriber) -> Personal:
        base = self.settings.base_url
        return Personal(
            name=sub.name, email=sub.email,
            unsubscribe_url=f"{base}/unsubscribe/{self.tokens.make('unsubscribe', sub.id)}",
            preferences_url=f"{base}/preferences/{self.tokens.make('preferences', sub.id)}",
        )

    def message(self, variant: Rendered, who: Personal, subject_prefix: str = "") -> Envelope:
        html, text = personalize(variant, who)
        s = self.settings
        return build_message(
            sender=s.sender, to_email=who.email, to_name=who.name, subject=subject_prefix + variant.subject,
            text=text, html=html, list_id=s.list_id_header, unsubscribe_url=who.unsubscribe_url,
            unsubscribe_mailto=s.unsubscribe_mailto, reply_to=s.reply_to,
        )

    def send(self, issue: Issue | None = None, transport: Transport | None = None,
             should_stop: Callable[[], bool] | None = None) -> DeliveryReport:
        issue = issue or self.current_issue()
        cache: dict[frozenset[str], Rendered | None] = {}
        known = {t.slug for t in self.taxonomy.topics}

        def variant_for(topics: frozenset[str]) -> Rendered | None:
            key = frozenset(topics & known) or frozenset()
            if key not in cache:
                cache[key] = self.renderer.render(issue, key or None)
            return cache[key]

        def message_for(sub: Subscriber, variant: Rendered) -> Envelope:
            return self.message(variant, self.links(sub))

        if self.subscribers.counts().get("active", 0) == 0:
            raise NothingToSend("no active subscribers; add some with `digest subscribers add` or `import`")
        return deliver(issue, self.store, self.subscribers, transport or self.transport(), variant_for, message_for,
                       should_stop=should_stop)

    def preview(self, out_dir: Path | None = None, topics: frozenset[str] | None = None) -> Preview:
        """The draft as a subscriber sees it, written as HTML and text files."""
        issue = self.current_issue()
        variant = self.renderer.render(issue, topics)
        if variant is None:
            raise UsageError("nothing in this issue for the chosen topics")
        html, text = personalize(variant, SAMPLE)
        folder = out_dir or self.outbox_folder(issue)
        folder.mkdir(parents=True, exist_ok=True)
        paths = Preview(html=folder / "preview.html", text=folder / "preview.txt")
        paths.html.write_text(html, encoding="utf-8")
        paths.text.write_text(text, encoding="utf-8")
        return paths

    def send_test(self, addresses: list[str], transport: Transport | None = None) -> int:
        """The draft to the given addresses only: '[TEST]' in the subject, never recorded."""
        from subscribers.validation import InvalidAddress, normalize_email

        issue = self.current_issue()
        variant = self.renderer.render(issue)
        assert variant is not None
        sent = 0
        transport = transport or (SMTPTransport(self.settings.smtp) if self.settings.smtp.host
                                  else OutboxTransport(self.outbox_folder(issue) / "tests"))
        try:
            for raw in addresses:
                try:
                    email = normalize_email(raw)
                except InvalidAddress as exc:
                    raise UsageError(f"--to {raw!r}: {exc}") from None
                who = Personal(name="", email=email, unsubscribe_url=f"{self.settings.base_url}/unsubscribe/test",
                               preferences_url=f"{self.settings.base_url}/preferences/test")
                result = transport.send(self.message(variant, who, "[TEST] "))
                if not result.ok:
                    log.warning("test to %s refused: %d %s", email, result.code, result.text)
                else:
                    sent += 1
        finally:
            transport.close()
        return sent
