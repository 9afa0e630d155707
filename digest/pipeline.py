"""The library the CLI, the daemon and the web app share: collect, build, preview, send, run."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from subscribers.clock import now
from subscribers.model import Subscriber
from subscribers.tokens import Tokens

from .checks import Finding, check_links, check_rendered, links
from .collect import CollectReport, collect
from .compose import compose, period, week_key
from .config import Settings
from .db import Database
from .deliver import DeliveryReport, Progress, SendOptions, deliver
from .editing import Edit, apply_edits
from .errors import NothingToSend, SourceError, UsageError
from .mailer import Envelope, Transport, build_message, make_transport
from .message import DKIMSigner, MessageTemplate
from .models import Article, Issue
from .render import Personal, Rendered, Renderer, personalize
from .sources import Fetcher, fetch_all
from .topics import Taxonomy

log = logging.getLogger(__name__)

SAMPLE = Personal(name="Ada Lovelace", email="ada@example.org", unsubscribe_url="#unsubscribe-preview",
                  preferences_url="#preferences-preview")


@dataclass
class Preview:
    html: Path
    text: Path


class Digest:
    """One newsletter: its settings, database, audience and renderer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.subscribers = self.db.subscribers
        self.tokens = Tokens(self.db.meta.secret_key(settings.secret_key))
        self.taxonomy = Taxonomy(settings.topics)
        self.renderer = Renderer(settings.base_url, settings.templates_dir, settings.max_html_bytes)

    def close(self) -> None:
        self.db.close()

    # -- stages ------------------------------------------------------------------------------

    def collect(self) -> CollectReport:
        return collect(self.settings, self.db)

    def build(self, when: datetime | None = None) -> Issue:
        """Compose (or recompose) the draft of the week of ``when``; NothingToSend when it has no article."""
        when = when or now()
        week = week_key(when)
        existing = self.db.issues.of_week(week)
        if existing is not None and existing.status != "draft":
            log.info("issue %s has started sending; it is not rebuilt", week)
            return existing
        last = self.db.issues.latest()
        start, end = period(when, last.end if last else None)
        skipped = None if last else self.db.issues.first_skipped_start()
        if skipped is not None and skipped < start:  # weeks skipped before the first issue roll forward
            start = skipped
        issue = compose(self.db.articles.between(start, end), self.taxonomy, title=self.settings.title,
                        when=end, start=start)
        if issue is not None:
            issue = apply_edits(issue, self.db.issues.edits(week))
        if issue is None or not issue.sections:
            if existing is not None:
                self.db.issues.delete_draft(week)
            raise NothingToSend(f"no new IP articles since {start:%d %b %Y %H:%M} UTC: no issue this week")
        return self.db.issues.save_draft(issue)

    def draft(self) -> Issue:
        issue = self.db.issues.latest(("draft",))
        if issue is None:
            raise NothingToSend("there is no draft; run `digest build` first")
        return issue

    def edit(self, edit: Edit | None = None, *, clear: tuple[str, str] | None = None) -> Issue:
        """Record an editor's override on the draft (or clear one) and recompose the draft with it."""
        draft = self.draft()
        if edit is not None:
            if edit.kind in ("exclude", "title", "summary", "pin") and not any(
                    str(a.id) == edit.target for a in self._all_articles(draft)):
                raise UsageError(f"article {edit.target} is not in issue {draft.week}; see `digest issue show`")
            self.db.issues.set_edit(draft.week, edit)
        if clear is not None:
            self.db.issues.clear_edit(draft.week, *clear)
        return self.build(draft.end)

    def _all_articles(self, draft: Issue) -> list[Article]:
        start = draft.start
        return self.db.articles.between(start, draft.end)

    def current_issue(self) -> Issue:
        """The issue to send: the newest that is a draft or has started sending."""
        issue = self.db.issues.latest(("draft", "sending", "sent"))
        if issue is None:
            raise NothingToSend("no issue has been built yet; run `digest build` first")
        return issue

    def transport(self) -> Transport:
        return make_transport(self.settings.smtp, self.outbox_folder(self.current_issue()))

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

    def signer(self) -> DKIMSigner | None:
        smtp = self.settings.smtp
        if smtp.dkim_key_file and smtp.dkim_selector and smtp.dkim_domain:
            return DKIMSigner(smtp.dkim_key_file, smtp.dkim_selector, smtp.dkim_domain)
        return None

    def template(self, variant: Rendered, subject_prefix: str = "") -> MessageTemplate:
        """The byte template of one issue variant: built once, filled per subscriber in microseconds."""
        s = self.settings
        return MessageTemplate(variant, sender=s.sender, list_id=s.list_id_header, subject_prefix=subject_prefix,
                               unsubscribe_mailto=s.unsubscribe_mailto, reply_to=s.reply_to, signer=self.signer())

    def send_options(self, concurrency: int = 4, rate: float | None = None) -> SendOptions:
        smtp = self.settings.smtp
        return SendOptions(concurrency=concurrency, rate=rate, max_attempts=smtp.max_attempts,
                           retry_seconds=smtp.retry_seconds)

    def send(self, issue: Issue | None = None, transport: Transport | None = None, *,
             options: SendOptions | None = None, progress: Progress | None = None,
             should_stop: Callable[[], bool] | None = None) -> DeliveryReport:
        """Deliver ``issue`` (default: the current one) through the outbox; resumable.

        With ``transport`` given, that one connection is used (concurrency 1); otherwise each worker
        opens its own (``options.concurrency`` of them)."""
        issue = issue or self.current_issue()
        options = options or self.send_options()
        templates: dict[frozenset[str], MessageTemplate | None] = {}
        lock = threading.Lock()
        known = {t.slug for t in self.taxonomy.topics}

        def template_for(topics: frozenset[str]) -> MessageTemplate | None:
            key = frozenset(topics & known)
            found = templates.get(key, False)
            if found is False:
                with lock:
                    if key not in templates:
                        variant = self.renderer.render(issue, key or None)
                        templates[key] = self.template(variant) if variant is not None else None
                found = templates[key]
            return found  # type: ignore[return-value]

        def message_for(sub: Subscriber) -> Envelope | None:
            template = template_for(sub.topics)
            return template.fill(self.links(sub)) if template is not None else None

        if self.subscribers.counts().get("active", 0) == 0:
            raise NothingToSend("no active subscribers; add some with `digest subscribers add` or `import`")
        if transport is not None:
            options = replace(options, concurrency=1)
            given = transport
            return deliver(issue, self.db, lambda: given, message_for, options, progress, should_stop=should_stop)
        return deliver(issue, self.db, self.transport, message_for, options, progress, should_stop=should_stop)

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

    def check(self, topics: frozenset[str] | None = None, with_links: bool = False) -> list[Finding]:
        """The editor's checks on the draft's variant for ``topics``."""
        variant = self.renderer.render(self.current_issue(), topics)
        if variant is None:
            raise UsageError("nothing in this issue for the chosen topics")
        findings = check_rendered(variant)
        if with_links:
            urls = links(variant)
            fetcher = Fetcher(self.settings.fetch)
            try:
                got = fetch_all(fetcher, [(u, {}) for u in urls], self.settings.fetch.page_workers)
            finally:
                fetcher.close()
            findings.append(check_links((u, r.reason if isinstance(r, SourceError) else None)
                                        for u, r in zip(urls, got, strict=True)))
        return findings

    def send_test(self, addresses: list[str], transport: Transport | None = None) -> int:
        """The draft to the given addresses only: '[TEST]' in the subject, never recorded."""
        from subscribers.validation import InvalidAddress, normalize_email

        issue = self.current_issue()
        variant = self.renderer.render(issue)
        assert variant is not None
        sent = 0
        transport = transport or make_transport(self.settings.smtp, self.outbox_folder(issue) / "tests")
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
