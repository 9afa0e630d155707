"""Editors' off-topic labels: each article excluded with the reason "off topic", as the topic filter saw it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from . import tables as t

lab = t.topic_labels


@dataclass(frozen=True)
class TopicLabel:
    week: str
    article_id: int | None
    title: str
    lead: str
    source: str
    scope: str
    reason: str
    labelled_at: datetime
    tags: tuple[str, ...] = ()  # feeds' tags are not stored with articles


class TopicLabels:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, label: TopicLabel) -> bool:
        """Keep ``label``; False when that article of that week is labelled already (the first label stays)."""
        row = {k: v for k, v in label.__dict__.items() if k != "tags"}
        try:
            with self.engine.begin() as conn:
                conn.execute(lab.insert().values(**row))
        except IntegrityError:
            return False
        return True

    def all(self) -> list[TopicLabel]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(lab).order_by(lab.c.id)).mappings().all()
        return [TopicLabel(**{k: v for k, v in row.items() if k != "id"}) for row in rows]
