"""What happened to an issue: deliveries by outcome, readers who left after it, clicks that count.

``issue_report(digest, issue)`` reads the database once; ``as_rows`` / ``as_text`` / ``as_dict`` present it
(`digest report`, the admin's report page, the CSV export).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from subscribers.clock import now

from ..bounces.summary import groups
from ..db.feedback import Bounces
from ..db.reports import Outcomes
from ..issue.clicks import tally
from ..models import Issue

if TYPE_CHECKING:
    from ..facade import Digest


@dataclass(frozen=True)
class ArticleClicks:
    """One article of the issue, once however many sections show it, and the clicks counted on it."""

    article_id: int
    title: str
    topics: tuple[str, ...]  # the sections it is in
    source: str
    clicks: int


@dataclass(frozen=True)
class IssueReport:
    issue_id: int
    week: str
    subject: str
    status: str
    outcomes: Outcomes
    unsubscribed: int  # readers of this issue who left after it and before the next issue
    bounces: Bounces = field(default_factory=Bounces)  # by kind, from the one query `digest status` reads them with too
    complaints: int | None = None  # None: complaints are not recorded yet
    tracking: bool = False  # click tracking was on when the report was made
    per_subscriber: bool = False
    articles: list[ArticleClicks] = field(default_factory=list)
    clicks: int = 0  # clicks that count
    readers: int | None = None  # unique clickers; None when links do not name readers
    apart: dict[str, int] = field(default_factory=dict)  # clicks counted apart: head, scanner, burst, repeat
    opens: int | None = None  # None: opens are not tracked
    openers: int | None = None  # distinct readers who opened; None when the image does not name readers
    reasons: dict[str, int] = field(default_factory=dict)  # deliveries per reason group (bounces/summary.py)

    @property
    def per_topic(self) -> Counter[str]:
        """Clicks per section; an article in two sections counts in both (a link does not say which
        section it was followed from), so these may add up to more than the clicks counted."""
        out: Counter[str] = Counter()
        for a in self.articles:
            for topic in a.topics:
                out[topic] += a.clicks
        return out

    @property
    def per_source(self) -> Counter[str]:
        """Clicks per source: each article once, so these add up to the clicks counted on articles."""
        out: Counter[str] = Counter()
        for a in self.articles:
            out[a.source] += a.clicks
        return out


OPENS_CAVEAT = (
    "opens are inflated: Apple Mail Privacy Protection and image proxies (Gmail, Outlook, "
    "security gateways) fetch the image without the reader opening the message; read them as an "
    "upper bound, and prefer clicks"
)


def issue_report(digest: Digest, issue: Issue) -> IssueReport:
    db, tracking = digest.db, digest.settings.tracking
    outcomes = db.reports.outcomes(issue.id)
    started, _ = db.reports.send_times(issue.id)
    left = db.reports.left_after(issue.id, started, now()) if started else 0
    stored = db.clicks.of_issue(issue.id)
    counted = tally(stored, db.reports.delivered_at(issue.id), outcomes.last_delivery, len(issue.articles))
    per = counted.per_article
    articles = [
        ArticleClicks(
            a.id,
            a.title,
            tuple(s.name for s in issue.sections if any(x.id == a.id for x in s.articles)),
            a.source,
            per.get(a.id, 0),
        )
        for a in issue.articles
    ]
    feedback = db.feedback.issue(issue.id)
    named = tracking.per_subscriber or any(c.subscriber_id is not None for c in stored)
    opens, openers = db.clicks.opens(issue.id)
    shown = tracking.opens or opens > 0
    return IssueReport(
        issue.id,
        issue.week,
        issue.subject,
        str(issue.status),
        outcomes,
        left,
        bounces=feedback.bounces,
        complaints=feedback.complaints,
        tracking=tracking.clicks or bool(stored),
        per_subscriber=named,
        articles=articles,
        clicks=len(counted.counted),
        readers=counted.readers if named else None,
        apart=dict(sorted(counted.apart.items())),
        opens=opens if shown else None,
        openers=openers if shown and named else None,
        reasons=groups(db.feedback.issue(issue.id)),
    )


DELIVERY_LABELS = (
    ("recipients", "queued"),
    ("delivered", "delivered"),
    ("retried", "delivered after a deferral"),
    ("failed", "failed"),
    ("waiting", "still waiting"),
    ("skipped", "skipped (nothing in their topics)"),
)


BOUNCE_LABELS = (
    ("refused", "refused at send (5xx)"),
    ("hard", "hard, reported after delivery"),
    ("soft", "soft, reported after delivery"),
)


def as_rows(rep: IssueReport) -> list[tuple[str, str, int | str]]:
    """(section, name, value) rows: what the CSV holds, and the order of the text."""
    rows: list[tuple[str, str, int | str]] = [
        ("delivery", key, getattr(rep.outcomes, key)) for key, _ in DELIVERY_LABELS
    ]
    rows.append(("delivery", "complaints", "not recorded" if rep.complaints is None else rep.complaints))
    rows += [("bounces", label, getattr(rep.bounces, key)) for key, label in BOUNCE_LABELS]
    rows += [("what came back", name, n) for name, n in rep.reasons.items()]
    rows.append(("audience", "unsubscribed after this issue", rep.unsubscribed))
    if rep.opens is not None:
        rows.append(("opens", "opens (inflated, see the caveat)", rep.opens))
        rows.append(("opens", "unique openers", "not known" if rep.openers is None else rep.openers))
    if rep.tracking:
        rows.append(("clicks", "counted", rep.clicks))
        rows.append(("clicks", "unique readers", "not known" if rep.readers is None else rep.readers))
        rows += [("clicks apart", reason, n) for reason, n in rep.apart.items()]
        rows += [("article", f"{a.article_id} {a.title}", a.clicks) for a in rep.articles]
        rows += [("topic", k, n) for k, n in sorted(rep.per_topic.items())]
        rows += [("source", k, n) for k, n in sorted(rep.per_source.items())]
    return rows


def as_csv(rep: IssueReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["issue", "section", "name", "value"])
    for row in as_rows(rep):
        writer.writerow([rep.week, *row])
    return out.getvalue()


def as_dict(rep: IssueReport) -> dict[str, Any]:
    out = asdict(rep)
    out["per_topic"], out["per_source"] = dict(rep.per_topic), dict(rep.per_source)
    if rep.opens is not None:
        out["opens_caveat"] = OPENS_CAVEAT
    last = rep.outcomes.last_delivery
    out["outcomes"]["last_delivery"] = last.isoformat() if last else None
    return out


def as_text(rep: IssueReport) -> str:
    o = rep.outcomes
    lines = [f"issue {rep.week} ({rep.status}): {rep.subject}", "deliveries:"]
    lines += [f"  {label:<36} {getattr(o, key):>6}" for key, label in DELIVERY_LABELS]
    lines.append(f"  {'complaints':<36} {'not recorded' if rep.complaints is None else rep.complaints:>6}")
    lines.append(f"bounces: {rep.bounces.total}")
    lines += [f"  {label:<36} {getattr(rep.bounces, key):>6}" for key, label in BOUNCE_LABELS]
    if rep.reasons:
        lines.append("what came back, per reason:")
        lines += [f"  {name:<36} {n:>6}" for name, n in rep.reasons.items()]
    lines.append(f"unsubscribed after this issue (before the next): {rep.unsubscribed}")
    if rep.opens is not None:
        openers = "" if rep.openers is None else f" by {rep.openers} readers"
        lines += [f"opens: {rep.opens}{openers}", f"  note: {OPENS_CAVEAT}"]
    if not rep.tracking:
        lines.append("clicks: not tracked ([tracking] clicks = false)")
        return "\n".join(lines) + "\n"
    readers = "not known (per_subscriber = false)" if rep.readers is None else str(rep.readers)
    apart = ", ".join(f"{n} {k}" for k, n in rep.apart.items()) or "none"
    lines += [f"clicks: {rep.clicks} counted; unique readers: {readers}; counted apart: {apart}", "per article:"]
    lines += [f"  {a.clicks:>6}  {a.title} ({a.source})" for a in sorted(rep.articles, key=lambda a: -a.clicks)]
    lines.append("per topic (an article in two sections counts in both):")
    lines += [f"  {n:>6}  {k}" for k, n in rep.per_topic.most_common()]
    lines.append("per source:")
    lines += [f"  {n:>6}  {k}" for k, n in rep.per_source.most_common()]
    return "\n".join(lines) + "\n"
