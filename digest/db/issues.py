"""Issues: drafts and their status, approval, editors' overrides, and the one-sender lease on each issue.

Taking the lease is one conditional UPDATE ("set me as owner where nobody holds an unexpired lease, or
where the holder is the given dead process"), which both SQLite (one writer at a time) and PostgreSQL
(row lock, re-checked after a concurrent update) apply atomically; on PostgreSQL the row is first locked
with SELECT … FOR UPDATE so competing senders queue on it. What the lease means is in digest/lease.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from subscribers.clock import now

from ..errors import DigestError
from ..models import Article, Edit, Issue, IssueStatus, NewIssue, Section
from . import tables as t
from .archive import Archive

i, e = t.issues, t.issue_edits

PUBLISHED = (IssueStatus.SENDING, IssueStatus.SENT)
# Edits of these kinds are one per issue; the others are one per (kind, target).
ONE_PER_ISSUE = ("pin", "order", "subject", "preheader")

_BY_ID = select(i).where(i.c.id == bindparam("issue_id"))
_BY_WEEK = select(i).where(i.c.week == bindparam("week"))
_LEASE_UNTIL = bindparam("until", type_=i.c.lease_until.type)
_LEASE_AT = bindparam("at", type_=i.c.lease_until.type)
_TAKE_LEASE = (
    update(i)
    .where(
        i.c.id == bindparam("issue_id"),
        or_(i.c.lease_owner.is_(None), i.c.lease_until <= _LEASE_AT, i.c.lease_owner == bindparam("displace")),
    )
    .values(lease_owner=bindparam("owner"), lease_until=_LEASE_UNTIL)
)
_LOCK = select(i.c.id).where(i.c.id == bindparam("issue_id")).with_for_update()
_HOLDER = select(i.c.lease_owner, i.c.lease_until).where(i.c.id == bindparam("issue_id"))
_RENEW_LEASE = (
    update(i)
    .where(i.c.id == bindparam("issue_id"), i.c.lease_owner == bindparam("owner"))
    .values(lease_until=_LEASE_UNTIL)
)
_RELEASE_LEASE = (
    update(i)
    .where(i.c.id == bindparam("issue_id"), i.c.lease_owner == bindparam("owner"))
    .values(lease_owner=None, lease_until=None)
)


class Issues:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reading -----------------------------------------------------------------------------

    def get(self, issue_id: int) -> Issue | None:
        with self.engine.begin() as conn:
            row = conn.execute(_BY_ID, {"issue_id": issue_id}).first()
        return _issue(row._mapping) if row else None

    def of_week(self, week: str) -> Issue | None:
        with self.engine.begin() as conn:
            row = conn.execute(_BY_WEEK, {"week": week}).first()
        return _issue(row._mapping) if row else None

    def latest(self, statuses: tuple[str, ...] = PUBLISHED) -> Issue | None:
        """The issue in one of ``statuses`` with the latest period end."""
        q = select(i).where(i.c.status.in_(statuses)).order_by(i.c.period_end.desc())
        with self.engine.begin() as conn:
            row = conn.execute(q.limit(1)).first()
        return _issue(row._mapping) if row else None

    def with_status(self, statuses: tuple[str, ...] = PUBLISHED) -> list[Issue]:
        q = select(i).where(i.c.status.in_(statuses)).order_by(i.c.period_end.desc())
        with self.engine.begin() as conn:
            return [_issue(r._mapping) for r in conn.execute(q)]

    def first_skipped_start(self) -> datetime | None:
        """Where the oldest skipped week began: before any issue is sent, its articles still roll forward."""
        q = select(func.min(i.c.period_start)).where(i.c.status == IssueStatus.SKIPPED)
        with self.engine.begin() as conn:
            value = conn.execute(q).scalar()
        return value if isinstance(value, datetime) else None

    # -- drafts and status -------------------------------------------------------------------

    def save_draft(self, issue: NewIssue) -> Issue:
        """Insert or replace the week's draft; an issue that started sending is left as it is."""
        values = dict(
            subject=issue.subject,
            preheader=issue.preheader,
            period_start=issue.start,
            period_end=issue.end,
            content=json.dumps(_content(issue)),
            built_at=now(),
        )
        try:
            return self._save_draft(issue, values)
        except IntegrityError:  # another process built the same week at the same moment: replace its draft
            return self._save_draft(issue, values)

    def _save_draft(self, issue: NewIssue, values: dict[str, Any]) -> Issue:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(i.c.id, i.c.status, i.c.subject, i.c.content).where(i.c.week == issue.week)
            ).first()
            if row is None:
                inserted = conn.execute(i.insert().values(week=issue.week, status=IssueStatus.DRAFT, **values))
                issue_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            elif row.status not in (IssueStatus.DRAFT, IssueStatus.SKIPPED):
                raise DigestError(f"issue {issue.week} has already started sending; it is not rebuilt")
            else:
                issue_id = row.id
                changed = (row.subject, row.content) != (values["subject"], values["content"])
                extra: dict[str, Any] = {"approved_at": None} if changed else {}  # approval is of the content
                conn.execute(update(i).where(i.c.id == issue_id).values(status=IssueStatus.DRAFT, **extra, **values))
            saved = conn.execute(_BY_ID, {"issue_id": issue_id}).one()
        return _issue(saved._mapping)

    def delete_draft(self, week: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(i.delete().where(i.c.week == week, i.c.status == IssueStatus.DRAFT))

    def set_status(self, issue_id: int, status: IssueStatus) -> None:
        values: dict[str, Any] = {"status": status}
        if status == IssueStatus.SENDING:
            values["send_started_at"] = now()
        if status == IssueStatus.SENT:
            values["sent_at"] = now()
        with self.engine.begin() as conn:
            conn.execute(update(i).where(i.c.id == issue_id).values(**values))
            if status in PUBLISHED:  # its stories join the searchable archive, once
                row = conn.execute(_BY_ID, {"issue_id": issue_id}).first()
                if row is not None:
                    Archive(self.engine).record_issue(conn, _issue(row._mapping))

    # -- approval ----------------------------------------------------------------------------

    def approve(self, issue_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(i).where(i.c.id == issue_id).values(approved_at=now()))

    def sent_at(self, issue_id: int) -> datetime | None:
        with self.engine.begin() as conn:
            value = conn.execute(select(i.c.sent_at).where(i.c.id == issue_id)).scalar()
        return value if isinstance(value, datetime) else None

    def approved_at(self, issue_id: int) -> datetime | None:
        with self.engine.begin() as conn:
            value = conn.execute(select(i.c.approved_at).where(i.c.id == issue_id)).scalar()
        return value if isinstance(value, datetime) else None

    # -- editors' overrides ------------------------------------------------------------------

    def edits(self, week: str) -> list[Edit]:
        q = select(e).where(e.c.week == week).order_by(e.c.id)
        with self.engine.begin() as conn:
            return [Edit(kind=r.kind, target=r.target, value=r.value) for r in conn.execute(q)]

    def set_edit(self, week: str, edit: Edit) -> None:
        """Record an override; one per (kind, target): a newer one replaces it. Pin and order are one per issue."""
        key = (e.c.week == week) & (e.c.kind == edit.kind)
        if edit.kind not in ONE_PER_ISSUE:
            key = key & (e.c.target == edit.target)
        with self.engine.begin() as conn:
            conn.execute(e.delete().where(key))
            conn.execute(
                e.insert().values(week=week, kind=edit.kind, target=edit.target, value=edit.value, created_at=now())
            )

    def clear_edit(self, week: str, kind: str, target: str = "") -> int:
        q = e.delete().where(e.c.week == week, e.c.kind == kind)
        if target:
            q = q.where(e.c.target == target)
        with self.engine.begin() as conn:
            return int(conn.execute(q).rowcount)

    # -- the send lease ----------------------------------------------------------------------

    def take_lease(self, issue_id: int, owner: str, ttl: timedelta, displace: str | None = None) -> bool:
        """Make ``owner`` the lease holder unless another holds an unexpired lease; ``displace`` names a
        holder known to be gone, whose lease is taken over at once."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(_LOCK, {"issue_id": issue_id})
            at = now()
            done = conn.execute(
                _TAKE_LEASE, {"issue_id": issue_id, "owner": owner, "at": at, "until": at + ttl, "displace": displace}
            )
        return bool(done.rowcount)

    def lease_holder(self, issue_id: int) -> tuple[str | None, datetime | None]:
        with self.engine.begin() as conn:
            row = conn.execute(_HOLDER, {"issue_id": issue_id}).first()
        return (row[0], row[1]) if row else (None, None)

    def renew_lease(self, issue_id: int, owner: str, ttl: timedelta) -> bool:
        """False when ``owner`` no longer holds the lease."""
        with self.engine.begin() as conn:
            done = conn.execute(_RENEW_LEASE, {"issue_id": issue_id, "owner": owner, "until": now() + ttl})
        return bool(done.rowcount)

    def release_lease(self, issue_id: int, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(_RELEASE_LEASE, {"issue_id": issue_id, "owner": owner})


def _content(issue: NewIssue) -> dict[str, Any]:
    def art(a: Article) -> dict[str, Any]:
        d = asdict(a)
        d["published"] = a.published.isoformat()
        return d

    return {
        "title": issue.title,
        "overflow": issue.overflow,
        "pinned": issue.pinned,
        "subject_fixed": issue.subject_fixed,
        "preheader_fixed": issue.preheader_fixed,
        "preheader_about": list(issue.preheader_about),
        "sections": [
            {"topic": s.topic, "name": s.name, "articles": [art(a) for a in s.articles]} for s in issue.sections
        ],
    }


def _issue(row: Any) -> Issue:
    content = json.loads(row["content"])
    sections = tuple(
        Section(
            topic=s["topic"],
            name=s["name"],
            articles=tuple(
                Article(
                    **{
                        **a,
                        "published": datetime.fromisoformat(a["published"]),
                        "topics": tuple(a["topics"]),
                        "jurisdictions": tuple(a.get("jurisdictions", ())),
                        "also": tuple((source, url) for source, url in a.get("also", ())),
                    }
                )
                for a in s["articles"]
            ),
        )
        for s in content["sections"]
    )
    return Issue(
        id=row["id"],
        week=row["week"],
        title=content.get("title", ""),
        subject=row["subject"],
        preheader=row["preheader"],
        start=row["period_start"],
        end=row["period_end"],
        sections=sections,
        status=IssueStatus(row["status"]),
        overflow=content.get("overflow", 0),
        pinned=content.get("pinned"),
        subject_fixed=content.get("subject_fixed", False),
        preheader_fixed=content.get("preheader_fixed", False),
        preheader_about=tuple(content.get("preheader_about", ())),
    )
