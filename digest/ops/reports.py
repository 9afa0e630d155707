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
from ..db.reports import Outcomes
from ..issue.clicks import tally
from ..models import Issue

if TYPE_CHECKING:
    from ..facade import Digest


@dataclass(frozen=True)
class ArticleClicks:
    article_id: int
    title: str
    topic: str
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
        return _sum(self.articles, "topic")

    @property
    def per_source(self) -> Counter[str]:
        return _sum(self.articles, "source")


OPENS_CAVEAT = (
    "opens are inflated: Apple Mail Privacy Protection and image proxies (Gmail, Outlook, "
    "security gateways) fetch the image without the reader opening the message; read them as an "
    "upper bound, and prefer clicks"
)


def _sum(articles: list[ArticleClicks], key: str) -> Counter[str]:
    out: Counter[str] = Counter()
    for a in articles:
        out[getattr(a, key)] += a.clicks
    return out


def issue_report(digest: Digest, issue: Issue) -> IssueReport:
    db, tracking = digest.db, digest.settings.tracking
    outcomes = db.reports.outcomes(issue.id)
    started, _ = db.reports.send_times(issue.id)
    left = db.reports.left_after(issue.id, started, now()) if started else 0
    stored = db.clicks.of_issue(issue.id)
    counted = tally(stored, db.reports.delivered_at(issue.id), outcomes.last_delivery, len(issue.articles))
    per = counted.per_article
    articles = [
        ArticleClicks(a.id, a.title, s.name, a.source, per.get(a.id, 0)) for s in issue.sections for a in s.articles
    ]
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
        complaints=db.reports.complaints(issue.id),
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
    ("bounced", "bounced (5xx)"),
    ("waiting", "still waiting"),
    ("skipped", "skipped (nothing in their topics)"),
)


def as_rows(rep: IssueReport) -> list[tuple[str, str, int | str]]:
    """(section, name, value) rows: what the CSV holds, and the order of the text."""
    rows: list[tuple[str, str, int | str]] = [
        ("delivery", key, getattr(rep.outcomes, key)) for key, _ in DELIVERY_LABELS
    ]
    rows.append(("delivery", "complaints", "not recorded" if rep.complaints is None else rep.complaints))
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
    lines.append("per topic:")
    lines += [f"  {n:>6}  {k}" for k, n in rep.per_topic.most_common()]
    lines.append("per source:")
    lines += [f"  {n:>6}  {k}" for k, n in rep.per_source.most_common()]
    return "\n".join(lines) + "\n"
