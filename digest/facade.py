"""The library the CLI, the daemon and the web app share: collect, build, edit, preview, check, deliver, test."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from subscribers.clock import now
from subscribers.tokens import Tokens, suppression_hash

from .bounces.verp import Verp
from .collect.jurisdictions import Jurisdictions, jurisdictions
from .collect.topics import Taxonomy
from .config import Settings
from .db import Database
from .db.feedback import Applied, IssueFeedback, Refusal
from .db.labels import TopicLabel
from .delivery.outbox import DeliveryReport, Progress, SendOptions, deliver
from .delivery.transport import Transport, make_transport, remove_files_of
from .errors import DraftChanged, NoDraft, NothingToSend, NotPublic, SourceError, UsageError
from .issue.checks import UNCHECKED, UNPUBLISHED, Finding, check_links, check_rendered, links, own_links
from .issue.clicks import Links, tracked, with_open_image
from .issue.compose import compose, period, variant, week_key
from .issue.editing import apply_edits
from .issue.message import IssueMessages, Letterhead
from .issue.render import Personal, Rendered, Renderer, personalize
from .models import Article, Click, Edit, Issue, IssueStatus

if TYPE_CHECKING:
    from .bounces.mailbox import Box
    from .bounces.policy import BounceEvent
    from .bounces.run import BounceReport
    from .collect.stage import CollectReport
    from .db.archive import Hit
    from .delivery.notices import NoticeOutbox
    from .issue.archive import Filters

log = logging.getLogger(__name__)

# The reader of every preview (files and the editor's pages): links that lead nowhere, no one's tokens.
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


@dataclass
class Preheader:
    """One preheader of the draft and the readers who get it."""

    text: str
    custom: bool  # the editor's, for readers who get every story it speaks of
    readers: int
    choices: list[str]  # their topic choices ("every topic", "designs", …)


class Digest:
    """One newsletter: its settings, database, audience and renderer."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database(settings.database_url)
        self.subscribers = self.db.subscribers  # the audience (subscribers/): its own store and rules
        self.sessions = self.db.sessions  # the editors' signed-in sessions
        self.health = self.db.health  # the read-only counts that /readyz and /metrics show
        self.secret_key = self.db.meta.secret_key(settings.secret_key)
        self.tokens = Tokens(self.secret_key)
        self.taxonomy = Taxonomy(settings.topics)
        self.renderer = Renderer(
            settings.base_url, settings.templates_dir, settings.max_html_bytes, settings.utm_source
        )

    def close(self) -> None:
        self.db.close()

    def notice_outbox(self) -> NoticeOutbox:
        """Sign-up mail (confirmations, "already subscribed") through the database, sent by a thread of its own."""
        from .delivery.notices import NoticeOutbox, Notifier
        from .issue.message import NoticeMessages

        s = self.settings
        return NoticeOutbox(self.db.notices, Notifier(NoticeMessages(self.renderer.env, Letterhead.of(s), s.title), s))

    # -- issues, as the CLI and the web side read them ----------------------------------------

    def issue(self, issue_id: int) -> Issue | None:
        return self.db.issues.get(issue_id)

    def issue_of_week(self, week: str) -> Issue | None:
        return self.db.issues.of_week(week)

    def latest_issue(self, statuses: tuple[str, ...]) -> Issue | None:
        return self.db.issues.latest(statuses)

    def issues(self, statuses: tuple[str, ...]) -> list[Issue]:
        return self.db.issues.with_status(statuses)

    def edits(self, issue: Issue) -> list[Edit]:
        """The editor's overrides recorded on ``issue``'s week."""
        return self.db.issues.edits(issue.week)

    def excluded(self, issue: Issue) -> list[Article]:
        """The articles of ``issue``'s period that the editor left out."""
        ids = {e.target for e in self.edits(issue) if e.kind == "exclude"}
        return [a for a in self.db.articles.between(issue.start, issue.end) if str(a.id) in ids]

    # -- what came back: feedback, clicks and opens ---------------------------------------------

    def recent_feedback(self, limit: int = 5) -> list[tuple[str, IssueFeedback]]:
        """Per issue sent (newest first): deliveries, bounces, complaints and unsubscribes."""
        return self.db.feedback.recent(limit)

    def search_archive(self, text: str = "", **filters: Unpack[Filters]) -> list[Hit]:
        """The stories of sent issues that match (digest.issue.archive.search), newest sent first."""
        from .issue import archive

        return archive.search(self.db, text, **filters)

    def complete_archive(self) -> None:
        """Work out the register numbers of archived stories an upgrade copied in without them."""
        from .issue import archive

        archive.complete(self.db)

    def refusals(self) -> list[Refusal]:
        """Refusals about our side (IP, domain, content, size, rate) of the last days, per provider, reason
        and code: the operator's alert, never a reader's fault."""
        return self.db.feedback.refusals()

    def apply_feedback(self, event: BounceEvent) -> Applied:
        """Apply one bounce or complaint (from a webhook) under the configured soft-bounce policy."""
        from .bounces.policy import Policy  # the bounce reader's rules: no send or page needs them

        b = self.settings.bounces
        return self.db.feedback.apply(event, Policy(b.soft_limit, b.soft_days, b.match_recipient))

    def first_use(self, source: str, nonce: str) -> bool:
        """True the first time ``nonce`` is seen from ``source`` (a replayed webhook is refused)."""
        return self.db.feedback.first_use(source, nonce)

    def record_click(self, issue: Issue, click: Click) -> None:
        self.db.clicks.record(issue.id, click)

    def record_open(self, issue: Issue, subscriber_id: int | None, at: datetime) -> None:
        self.db.clicks.record_open(issue.id, subscriber_id, at)

    # -- the operator's views -------------------------------------------------------------------

    def sources_seen(self) -> list[dict[str, Any]]:
        """Each source as last fetched: name, url, last success, last error."""
        return self.db.sources.rows()

    def articles_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(source, published) of every article stored since ``since``, for the dashboard's chart."""
        return self.db.dashboard.articles_since(since)

    def audience_history(self) -> list[Any]:
        """The subscribers' sign-up and leaving times, for the dashboard's audience chart."""
        return self.db.dashboard.audience()

    # -- erasure -----------------------------------------------------------------------------

    def forget(self, email: str) -> bool:
        """Erase a person: their records (``Database.forget``), their mail waiting or written to the outbox
        folders (issues, tests, confirmations); a hash of the address stays so that imports and `subscribers
        add` skip it. False if the address is not stored."""
        address = email.lower()
        erased = self.db.forget(address, self.suppression_hashes(address)[0])
        if erased is None:
            return False
        files = remove_files_of(self.settings.outbox_dir, address)
        log.info("erased subscriber %d and %d of their files in the outbox folders", erased, files)
        return True

    def suppression_hashes(self, email: str) -> tuple[str, str]:
        """(the hash the suppression list keeps of a normalised address, the one it kept before the list had
        its own salt: HMAC under the secret key, still matched so that older entries keep working)."""
        return suppression_hash(self._suppression_salt, email), self.tokens.address_hash(email)

    @functools.cached_property
    def _suppression_salt(self) -> str:
        return self.db.meta.suppression_salt()

    def erased_among(self, emails: list[str]) -> set[str]:
        """Which of these (normalised) addresses were erased on request."""
        return self.db.erased_among(emails, self.settings.secret_key)

    # -- stages ------------------------------------------------------------------------------

    def collect(self) -> CollectReport:
        """Fetch every source once; also prunes what the [privacy] and [tracking] settings say not to keep."""
        from .collect.stage import (
            collect,  # the fetcher, parser and extractor: only the commands that collect load them
        )

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
        self.read_jurisdictions()
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

    def find_draft(self) -> Issue | None:
        """The draft being edited (the newest issue not yet sent), or None."""
        return self.db.issues.latest((IssueStatus.DRAFT,))

    @functools.cached_property
    def jurisdictions(self) -> Jurisdictions:
        """The jurisdictions table with digest.toml's terms (built on first use: it takes a moment)."""
        return jurisdictions(self.settings.jurisdictions)

    def read_jurisdictions(self) -> int:
        """Read the jurisdictions of articles stored before they were read (from their title, summary and
        source: their tags were not kept); how many were read."""
        done = 0
        while batch := self.db.articles.unread():
            self.db.articles.set_jurisdictions(
                [
                    (aid, self.jurisdictions.detect(title, summary, source=source))
                    for aid, title, summary, source in batch
                ]
            )
            done += len(batch)
        if done:
            log.info("jurisdictions read for %d articles stored before they were", done)
        return done

    def draft(self) -> Issue:
        """The draft; NoDraft, saying why, when there is none."""
        issue = self.find_draft()
        if issue is None:
            raise NoDraft(self.no_draft())
        return issue

    def approve(self, week: str | None = None, *, expected: Callable[[Issue], bool] | None = None) -> Issue:
        """Approve the draft (or the issue of ``week``) for sending: the one place an issue is approved.

        ``expected``: the caller's check that this is the draft it showed (the web's version token)."""
        issue = self.db.issues.of_week(week) if week else self.find_draft()
        if issue is None:
            raise UsageError(f"no issue {week}" if week else "no draft to approve; run `digest build` first")
        if issue.status != IssueStatus.DRAFT:
            raise UsageError(f"issue {issue.week} is {issue.status}; only a draft is approved")
        if expected is not None and not expected(issue):
            raise DraftChanged("the draft changed since it was shown; look at it again")
        self.db.issues.approve(issue.id)
        return issue

    def approved_at(self, issue: Issue) -> datetime | None:
        """When ``issue`` was approved; None when it was not."""
        return self.db.issues.approved_at(issue.id)

    def reach(self, issue: Issue) -> int:
        """How many subscribers a send of ``issue`` would mail: mailable, with something in the topics they
        follow (the rule of IssueMessages.template, applied once per distinct selection)."""
        known = frozenset(t.slug for t in self.taxonomy.topics)
        return sum(
            n
            for topics, n in self.subscribers.mailable_selections()
            if variant(issue, (topics & known) or None) is not None
        )

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
            if edit.kind == "preheader" and edit.target:
                in_issue = {str(a.id) for a in draft.articles}
                missing = [n for n in edit.target.split(",") if n not in in_issue]
                if missing:
                    raise UsageError(
                        f"article {', '.join(missing)} is not in issue {draft.week}; see `digest issue show`"
                    )
            self.db.issues.set_edit(draft.week, edit)
        if clear is not None:
            self.db.issues.clear_edit(draft.week, *clear)
        return self.build(draft.end)

    def label_off_topic(self, article_id: int, reason: str) -> None:
        """Keep an article the editor excluded as off topic, as the topic filter saw it (bench/topics.py
        --editor-labels measures the filter against these)."""
        draft = self.draft()
        article = next((a for a in self._all_articles(draft) if a.id == article_id), None)
        if article is None:
            return
        scope = next((src.scope for src in self.settings.sources if src.name == article.source), "general")
        label = TopicLabel(draft.week, article.id, article.title, article.summary, article.source, scope, reason, now())
        if self.db.topic_labels.add(label):
            log.info("article %d kept as an off-topic label", article.id)

    def preheaders(self, issue: Issue) -> list[Preheader]:
        """Which readers get which preheader: for each preheader, how many active readers get it, the topic
        choices they made, and whether it is the editor's."""
        from .issue.compose import keeps_promise

        known = frozenset(t.slug for t in self.taxonomy.topics)
        by_choice: dict[frozenset[str], int] = {}
        for topics, n in self.subscribers.mailable_selections():
            wanted = topics & known
            by_choice[wanted] = by_choice.get(wanted, 0) + n
        out: dict[tuple[str, bool], Preheader] = {}
        for choice, n in sorted(by_choice.items(), key=lambda kv: sorted(kv[0])):
            mine = variant(issue, choice or None)
            if mine is None:
                continue
            custom = keeps_promise(issue, [s for s in (mine.lead, *mine.sections) if s])
            got = out.setdefault((mine.preheader, custom), Preheader(mine.preheader, custom, 0, []))
            got.readers += n
            got.choices.append(", ".join(sorted(choice)) or "every topic")
        return sorted(out.values(), key=lambda p: (not p.custom, -p.readers))

    def known_topics(self, topics: frozenset[str]) -> frozenset[str]:
        """``topics`` when each is a topic of the taxonomy; else a UsageError naming the unknown ones."""
        known = [t.slug for t in self.taxonomy.topics]
        unknown = sorted(topics - set(known))
        if unknown:
            raise UsageError(f"unknown topic {', '.join(map(repr, unknown))}; the topics are: {', '.join(known)}")
        return topics

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

        No gate and no lease: sending an issue is digest.ops.sender's ``Sender``, which calls this.

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

    def preview(
        self,
        out_dir: Path | None = None,
        topics: frozenset[str] | None = None,
        issue: Issue | None = None,
        places: frozenset[str] | None = None,
    ) -> Preview:
        """``issue`` (default: the current one) as a subscriber of ``topics`` and the jurisdictions
        ``places`` sees it, written as HTML and text files (default: into that issue's outbox folder). The
        reader is ``SAMPLE``, an invented one, as on the editor's pages: a preview file is passed around, and
        a real subscriber's links in it would work."""
        issue = issue or self.current_issue()
        variant = self.renderer.render(issue, topics, places)
        if variant is None:
            raise UsageError("nothing in this issue for the chosen topics and jurisdictions")
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
            from .collect.sources import Fetcher, fetch_all

            own = set(own_links(links(variant), self.renderer.web_url(self.current_issue())))
            urls = [u for u in links(variant) if u not in own]
            fetcher = Fetcher.for_settings(self.settings)
            try:
                got = fetch_all(fetcher, [(u, {}) for u in urls], self.settings.fetch.page_workers)
            finally:
                fetcher.close()
            findings.extend(
                check_links(
                    [
                        *(
                            (
                                u,
                                UNCHECKED
                                if isinstance(r, NotPublic)
                                else r.reason
                                if isinstance(r, SourceError)
                                else None,
                            )
                            for u, r in zip(urls, got, strict=True)
                        ),
                        *((u, UNPUBLISHED) for u in sorted(own)),
                    ]
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
                raise UsageError(f"{raw!r} is not an email address: {exc}") from None
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
