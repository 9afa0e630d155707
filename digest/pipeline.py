"""The library the CLI, the daemon and the web app share: collect, build, edit, preview, check, deliver, test."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from subscribers.clock import now
from subscribers.tokens import Tokens

from .bounces.verp import Verp
from .checks import UNCHECKED, Finding, check_links, check_rendered, links
from .clicks import Links, tracked, with_open_image
from .compose import compose, period, week_key
from .config import Settings
from .db import Database
from .deliver import DeliveryReport, Progress, SendOptions, deliver
from .editing import Edit, apply_edits
from .errors import NoDraft, NothingToSend, NotPublic, SourceError, UsageError
from .message import IssueMessages, Letterhead
from .models import Article, Issue, IssueStatus
from .render import Personal, Rendered, Renderer, personalize
from .topics import Taxonomy
from .transport import Transport, make_transport

if TYPE_CHECKING:
    from .bounces.mailbox import Box
    from .bounces.run import BounceReport
    from .collect import CollectReport

log = logging.getLogger(__name__)

SAMPLE = Personal(
    name="Ada Lovelace",
    email="ada@example.org",
    unsubscribe_url="#unsubscribe-preview",
    preferences_url="#preferences-preview",
)


@dataclass
class Preview:
    html: Path
    text: Path


class Digest:
    """One newsletter: its settings, database, audience and renderer."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self.subscribers = self.db.subscribers
        self.tokens = Tokens(self.db.meta.secret_key(settings.secret_key))
        self.taxonomy = Taxonomy(settings.topics)
        self.renderer = Renderer(
            settings.base_url, settings.templates_dir, settings.max_html_bytes, settings.utm_source
        )

    def close(self) -> None:
        self.db.close()

    # -- erasure -----------------------------------------------------------------------------

    def forget(self, email: str) -> bool:
        """Erase a person's data, keeping a keyed hash of the address so imports skip it; False if unknown."""
        return self.db.forget(email, self.tokens.address_hash(email.lower()))

    def erased_among(self, emails: list[str]) -> set[str]:
        """Which of these (normalised) addresses were erased on request."""
        hashes = {self.tokens.address_hash(e): e for e in emails}
        return {hashes[h] for h in self.subscribers.suppressed_among(list(hashes))}

    # -- stages ------------------------------------------------------------------------------

    def collect(self) -> CollectReport:
        """Fetch every source once; also prunes what the [privacy] and [tracking] settings say not to keep."""
        from .collect import collect  # the fetcher, parser and extractor: only the commands that collect load them

        report = collect(self.settings, self.db)
        self.prune()
        self.forget_old_tracking()
        return report

    def forget_old_tracking(self, when: datetime | None = None) -> int:
        """Delete click and open rows older than [tracking] retention_days (run with every collect)."""
        days = self.settings.tracking.retention_days
        gone = self.db.clicks.forget_before((when or now()) - timedelta(days=days))
        if gone:
            log.info("deleted %d click and open records older than %d days", gone, days)
        return gone

    def prune(self, at: datetime | None = None) -> tuple[int, int]:
        """Delete finished deliveries older than keep_delivery_days and blank consent IPs and user agents
        older than keep_consent_ip_days; (deliveries deleted, records blanked)."""
        at, keep = at or now(), self.settings.privacy
        gone = self.db.deliveries.prune(at - timedelta(days=keep.keep_delivery_days))
        blanked = self.subscribers.forget_consent_addresses(at - timedelta(days=keep.keep_consent_ip_days))
        if gone or blanked:
            log.info("privacy: %d old deliveries deleted, %d consent IPs blanked", gone, blanked)
        return gone, blanked

    def build(self, when: datetime | None = None) -> Issue:
        """Compose (or recompose) the draft of the week of ``when``; NothingToSend when it has no article."""
        when = when or now()
        week = week_key(when)
        existing = self.db.issues.of_week(week)
        if existing is not None and existing.status != IssueStatus.DRAFT:
            log.info("issue %s has started sending; it is not rebuilt", week)
            return existing
        last = self.db.issues.latest()
        start, end = period(when, last.end if last else None)
        skipped = None if last else self.db.issues.first_skipped_start()
        if skipped is not None and skipped < start:  # weeks skipped before the first issue roll forward
            start = skipped
        issue = compose(
            self.db.articles.between(start, end), self.taxonomy, title=self.settings.title, when=end, start=start
        )
        if issue is not None:
            issue = apply_edits(issue, self.db.issues.edits(week))
        if issue is None or not issue.sections:
            if existing is not None:
                self.db.issues.delete_draft(week)
            raise NothingToSend(f"no new IP articles since {start:%d %b %Y %H:%M} UTC: no issue this week")
        return self.db.issues.save_draft(issue)

    def draft(self) -> Issue:
        issue = self.db.issues.latest((IssueStatus.DRAFT,))
        if issue is None:
            raise NoDraft(self.no_draft())
        return issue

    def no_draft(self) -> str:
        """Why there is no draft: the last issue went out (and since when the next one collects), or none yet."""
        last = self.db.issues.latest((IssueStatus.SENT,))
        if last is None:
            return "there is no draft; run `digest build` first"
        sent = self.db.issues.sent_at(last.id)
        when = f" on {sent:%Y-%m-%d}" if sent else ""
        return (
            f"{last.week} was sent{when}; the next draft collects articles from {last.end:%Y-%m-%d %H:%M} UTC "
            "(`digest build` makes it)"
        )

    def edit(self, edit: Edit | None = None, *, clear: tuple[str, str] | None = None) -> Issue:
        """Record an editor's override on the draft (or clear one) and recompose the draft with it."""
        draft = self.draft()
        if edit is not None:
            if edit.kind in ("exclude", "title", "summary", "pin") and not any(
                str(a.id) == edit.target for a in self._all_articles(draft)
            ):
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
        issue = self.db.issues.latest((IssueStatus.DRAFT, IssueStatus.SENDING, IssueStatus.SENT))
        if issue is None:
            raise NothingToSend("no issue has been built yet; run `digest build` first")
        return issue

    def transport(self, issue: Issue) -> Transport:
        """How ``issue`` goes out: SMTP when SMTP_HOST is set, else .eml files in that issue's own folder."""
        return make_transport(self.settings.smtp, self.outbox_folder(issue))

    def outbox_folder(self, issue: Issue) -> Path:
        return self.settings.outbox_dir / issue.week

    def issue_messages(self, issue: Issue) -> IssueMessages:
        """The messages of ``issue``: its variants rendered once each, then filled per subscriber."""
        s = self.settings
        reader = finish = None
        if s.tracking.clicks or s.tracking.opens:
            links = self.click_links()
            issue = tracked(issue, links) if s.tracking.clicks else issue
            reader = functools.partial(links.reader, issue.id) if s.tracking.per_subscriber else None
        if s.tracking.opens:
            finish = functools.partial(_with_image, links.open_url(issue.id))
        return IssueMessages(
            issue,
            self.renderer,
            Letterhead.of(s),
            self.tokens,
            s.base_url,
            (t.slug for t in self.taxonomy.topics),
            reader=reader,
            finish=finish,
            verp=self.verp(),
        )

    def click_links(self) -> Links:
        s = self.settings
        return Links(self.db.meta.secret_key(s.secret_key), s.base_url, s.tracking.per_subscriber)

    def bounces(self, box: Box | None = None) -> BounceReport:
        """Read the bounce mailbox of [bounces] (or ``box``) once and apply what came back."""
        from .bounces.mailbox import open_box
        from .bounces.policy import Policy
        from .bounces.run import process

        b = self.settings.bounces
        return process(box or open_box(b), self.db, self.verp(), Policy(b.soft_limit, b.soft_days, b.match_recipient))

    def verp(self) -> Verp | None:
        """The VERP addresses of `bounce_address` in digest.toml, or None when it is not set."""
        if not self.settings.bounce_address:
            return None
        return Verp(self.db.meta.secret_key(self.settings.secret_key), self.settings.bounce_address)

    def send_options(
        self, concurrency: int = 4, rate: float | None = None, processes: int | None = None
    ) -> SendOptions:
        """``processes``: worker processes sharing the connections. The default is 1 (threads only): a
        process with other threads at work (the daemon, the web server) must not fork while they may hold
        SQLite connections, since a child that closes an inherited descriptor drops the parent's locks on
        the file. `digest send` and `digest run`, one thread until the send starts, ask for one per core."""
        smtp = self.settings.smtp
        return SendOptions(
            concurrency=concurrency,
            processes=processes or 1,
            rate=rate,
            max_attempts=smtp.max_attempts,
            retry_seconds=smtp.retry_seconds,
        )

    def deliver(
        self,
        issue: Issue | None = None,
        transport: Transport | None = None,
        *,
        options: SendOptions | None = None,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> DeliveryReport:
        """The deliver stage for ``issue`` (default: the current one): through the outbox; resumable.

        No gate and no lease: sending an issue is digest.sending's ``Sender``, which calls this.

        With ``transport`` given, that one connection is used (concurrency 1); otherwise each worker
        opens its own (``options.concurrency`` of them)."""
        issue = issue or self.current_issue()
        options = options or self.send_options()
        messages = self.issue_messages(issue)
        if self.subscribers.mailable_count() == 0:
            raise NothingToSend(
                "no subscriber to send to (none is active and unpaused); add some with "
                "`digest subscribers add` or `import`"
            )
        if transport is not None:
            options = replace(options, concurrency=1)
            given = transport
            return deliver(
                issue, self.db, lambda: given, messages.for_subscriber, options, progress, should_stop=should_stop
            )
        return deliver(
            issue,
            self.db,
            lambda: self.transport(issue),
            messages.for_subscriber,
            options,
            progress,
            should_stop=should_stop,
        )

    def preview_reader(self, issue: Issue) -> Personal:
        """Who a preview greets: the first active subscriber, or an invented reader while there is none."""
        from subscribers.model import SubscriberStatus

        first = next(iter(self.subscribers.iter(status=SubscriberStatus.ACTIVE)), None)
        return self.issue_messages(issue).personal(first) if first is not None else SAMPLE

    def preview(
        self, out_dir: Path | None = None, topics: frozenset[str] | None = None, issue: Issue | None = None
    ) -> Preview:
        """``issue`` (default: the current one) as a subscriber sees it, written as HTML and text files
        (default: into that issue's outbox folder)."""
        issue = issue or self.current_issue()
        variant = self.renderer.render(issue, topics)
        if variant is None:
            raise UsageError("nothing in this issue for the chosen topics")
        html, text = personalize(variant, self.preview_reader(issue))
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
            from .sources import Fetcher, fetch_all

            urls = links(variant)
            fetcher = Fetcher.for_settings(self.settings)
            try:
                got = fetch_all(fetcher, [(u, {}) for u in urls], self.settings.fetch.page_workers)
            finally:
                fetcher.close()
            findings.append(
                check_links(
                    (u, UNCHECKED if isinstance(r, NotPublic) else r.reason if isinstance(r, SourceError) else None)
                    for u, r in zip(urls, got, strict=True)
                )
            )
        return findings

    def send_test(self, addresses: list[str], transport: Transport | None = None, issue: Issue | None = None) -> int:
        """``issue`` (default: the current one) to the given addresses only: '[TEST]' in the subject, never
        recorded; without SMTP, written to the tests folder inside that issue's outbox folder."""
        from subscribers.validation import InvalidAddress, normalize_email

        issue = issue or self.current_issue()
        messages = self.issue_messages(issue)
        emails = []
        for raw in addresses:
            try:
                emails.append(normalize_email(raw))
            except InvalidAddress as exc:
                raise UsageError(f"--to {raw!r}: {exc}") from None
        sent = 0
        transport = transport or make_transport(self.settings.smtp, self.outbox_folder(issue) / "tests")
        try:
            for email in emails:
                result = transport.send(messages.for_test(email))
                if not result.ok:
                    log.warning("test to %s refused: %d %s", email, result.code, result.text)
                else:
                    sent += 1
        finally:
            transport.close()
        return sent


def _with_image(url: str, variant: Rendered) -> Rendered:
    return replace(variant, html=with_open_image(variant.html, url))
