"""Editors' changes to a draft, kept as overrides so a rebuild keeps them (pure), and the table of editing
actions that both the CLI (`digest issue …`) and the editor's web pages are made from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from ..errors import UsageError
from ..models import Article, Edit, Issue, NewIssue, Section
from .compose import variant

KINDS = ("exclude", "title", "summary", "pin", "order", "subject", "preheader")


def _edit_article(article: Article, titles: dict[str, str], summaries: dict[str, str]) -> Article:
    key = str(article.id)
    return replace(article, title=titles.get(key, article.title), summary=summaries.get(key, article.summary))


def apply_edits(issue: NewIssue, edits: Iterable[Edit]) -> NewIssue:
    """The issue with exclusions, text edits, the pinned top story and section order applied."""
    edits = list(edits)
    excluded = {e.target for e in edits if e.kind == "exclude"}
    titles = {e.target: e.value for e in edits if e.kind == "title"}
    summaries = {e.target: e.value for e in edits if e.kind == "summary"}
    pinned = next((e.target for e in edits if e.kind == "pin"), None)
    order = next((e.value.split(",") for e in edits if e.kind == "order"), [])
    secs: list[Section] = []
    for sec in issue.sections:
        arts = [_edit_article(a, titles, summaries) for a in sec.articles if str(a.id) not in excluded]
        arts.sort(key=lambda a: str(a.id) != pinned)
        if arts:
            secs.append(replace(sec, articles=tuple(arts)))
    rank = {slug: i for i, slug in enumerate(order)}
    secs.sort(key=lambda s: rank.get(s.topic, len(rank)))
    if pinned is not None:
        secs.sort(key=lambda s: all(str(a.id) != pinned for a in s.articles))
    custom_subject = next((e.value for e in edits if e.kind == "subject"), None)
    custom_preheader = next((e.value for e in edits if e.kind == "preheader"), None)
    about = next((e.target for e in edits if e.kind == "preheader"), "")
    edited = replace(
        issue,
        sections=tuple(secs),
        pinned=int(pinned) if pinned and pinned.isdigit() else None,
        subject_fixed=bool(custom_subject),
        preheader_fixed=bool(custom_preheader),
        subject=custom_subject or "",
        preheader=custom_preheader or "",
        preheader_about=tuple(int(i) for i in about.split(",") if i.isdigit()),
    )
    whole = variant(edited)
    return edited if whole is None else replace(edited, subject=whole.subject, preheader=whole.preheader)


def changes(before: NewIssue, after: NewIssue, excluded_before: int = 0, excluded_after: int = 0) -> list[str]:
    """What an edit changed in the draft, in words an editor reads: the subject, the preheader, the
    articles in and out, titles, summaries, the top story and the section order. Empty: nothing changed."""
    out = []
    old = {a.id: a for a in before.articles}
    new = {a.id: a for a in after.articles}
    out += [f"left out #{i}: {a.title}" for i, a in old.items() if i not in new]
    out += [f"brought back #{i}: {a.title}" for i, a in new.items() if i not in old]
    for i in old.keys() & new.keys():
        if old[i].title != new[i].title:
            out.append(f"title of #{i}: {old[i].title!r} -> {new[i].title!r}")
        if old[i].summary != new[i].summary:
            out.append(f"summary of #{i}: {old[i].summary!r} -> {new[i].summary!r}")
    if before.pinned != after.pinned:
        out.append(f"top story: {'#' + str(after.pinned) if after.pinned else 'the automatic one'}")
    order_before, order_after = [s.topic for s in before.sections], [s.topic for s in after.sections]
    if order_before != order_after and set(order_before) == set(order_after):
        out.append(f"section order: {', '.join(order_after)}")
    if before.subject != after.subject:
        out.append(f"subject: {before.subject!r} -> {after.subject!r}")
    if before.preheader != after.preheader:
        out.append(f"preheader: {before.preheader!r} -> {after.preheader!r}")
    if excluded_before != excluded_after and not any(line.startswith(("left out", "brought back")) for line in out):
        out.append(f"excluded articles: {excluded_before} -> {excluded_after}")
    return out


# -- the editing actions: one table for the CLI's `digest issue …` commands and the editor's web forms -------


@dataclass(frozen=True)
class Param:
    """One input of an action: the CLI argument and the web form field called ``name``."""

    name: str
    metavar: str
    help: str
    number: bool = False  # a whole number: an article's number
    numbers: bool = False  # article numbers, comma-separated
    optional: bool = False  # may be left out: a CLI option rather than an argument
    option: str = ""  # the CLI option's name when optional (default: the name)
    choices: tuple[str, ...] = ()
    max_length: int = 0


class Effect(StrEnum):
    RECORD = "record"  # record the override; an empty text clears it instead
    CLEAR = "clear"  # clear the override (of the target article, or the one of its kind)
    MOVE = "move"  # move a section one place up or down: records the new section order
    RESET = "reset"  # clear every override of the kind named by the target


@dataclass(frozen=True)
class Change:
    """What an action does to the stored overrides: record one, clear some, or both."""

    record: Edit | None = None
    clear: tuple[str, str] | None = None


ARTICLE = Param("article", "ARTICLE", "the article's number, as `digest issue show` lists it", number=True)
TOPIC = Param("topic", "TOPIC", "a section's topic, as `digest issue show` lists it in brackets")
DIRECTION = Param("direction", "DIRECTION", "up or down", choices=("up", "down"))
TOPICS = Param("value", "TOPICS", "topics, comma-separated", max_length=500)
STORIES = Param(
    "stories",
    "ARTICLES",
    "the numbers of the articles the text speaks of, comma-separated, as `digest issue show` lists them; "
    "readers who do not get all of them keep their own preheader (none named: the whole issue)",
    numbers=True,
    optional=True,
)
KIND = Param("kind", "KIND", f"one of {', '.join(KINDS)}", choices=KINDS)
REASON = Param(
    "value",
    "REASON",
    "why, in a few words; 'off topic' keeps the article as a label for the topic filter",
    max_length=200,
    optional=True,
    option="reason",
)


def is_off_topic(reason: str) -> bool:
    """Whether an exclusion's reason says the article is not IP news ("off topic", "Off-topic", "offtopic")."""
    return "".join(ch for ch in reason.casefold() if ch.isalpha()) == "offtopic"


def text(max_length: int) -> Param:
    return Param("value", "TEXT", f"a text of at most {max_length} characters", max_length=max_length)


@dataclass(frozen=True)
class Action:
    """One editing action: ``name`` is the CLI command and the web's /admin/draft/edit/<name>."""

    name: str
    kind: str  # the override it records or clears (RESET: the target names it)
    effect: Effect
    help: str
    example: str
    target: Param | None = None
    value: Param | None = None

    def change(self, issue: Issue, target: str = "", value: str = "") -> Change:
        """The change this action makes to ``issue``'s overrides; UsageError when an input is wrong."""
        target = self._checked(self.target, target.strip(), required=not (self.target and self.target.optional))
        value = self._checked(self.value, " ".join(value.split()), required=False)
        if self.effect is Effect.CLEAR:
            return Change(clear=(self.kind, target))
        if self.effect is Effect.RESET:
            return Change(clear=(target, ""))
        if self.effect is Effect.MOVE:
            return Change(
                Edit(self.kind, value=",".join(_moved([s.topic for s in issue.sections], target, value, issue.week)))
            )
        if self.value is not None and not self.value.optional and not value:
            return Change(clear=(self.kind, "" if self.target and self.target.optional else target))
        if self.value is TOPICS:
            value = ",".join(t.strip() for t in value.split(",") if t.strip())
        return Change(Edit(self.kind, target, value))

    def _checked(self, param: Param | None, given: str, required: bool = True) -> str:
        if param is None:
            return ""
        if not given:
            if required or param.choices:
                raise UsageError(f"`{self.name}` needs {param.metavar}: {param.help}")
            return ""
        if param.numbers:
            given = ",".join(n.strip().lstrip("#") for n in given.split(",") if n.strip())
            if not all(n.isdigit() for n in given.split(",")):
                raise UsageError(f"{param.metavar} must be {param.help}, not {given!r}")
        if param.number and not given.isdigit():
            raise UsageError(f"{param.metavar} must be {param.help}, not {given!r}")
        if param.choices and given not in param.choices:
            raise UsageError(f"{param.metavar} must be one of {', '.join(param.choices)}, not {given!r}")
        if param.max_length and len(given) > param.max_length:
            raise UsageError(
                f"{self.name} takes at most {param.max_length} characters; this one has {len(given)}: shorten it"
            )
        return given


def _moved(order: list[str], topic: str, direction: str, week: str) -> list[str]:
    if topic not in order:
        raise UsageError(f"topic {topic!r} is not a section of issue {week}; its sections: {', '.join(order)}")
    i = order.index(topic)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    return order


ACTIONS: Mapping[str, Action] = {
    a.name: a
    for a in (
        Action(
            "exclude",
            "exclude",
            Effect.RECORD,
            "Leave an article out of the issue; with --reason 'off topic' it is kept as a label for the topic filter.",
            "digest issue exclude 12 --reason 'off topic'",
            target=ARTICLE,
            value=REASON,
        ),
        Action(
            "restore",
            "exclude",
            Effect.CLEAR,
            "Bring back an excluded article.",
            "digest issue restore 12",
            target=ARTICLE,
        ),
        Action(
            "pin",
            "pin",
            Effect.RECORD,
            "Make an article the top story (first, and named in the subject).",
            "digest issue pin 7",
            target=ARTICLE,
        ),
        Action("unpin", "pin", Effect.CLEAR, "Unpin the top story.", "digest issue unpin"),
        Action(
            "title",
            "title",
            Effect.RECORD,
            "Replace an article's title (an empty text brings back the original).",
            "digest issue title 7 'Jury awards $12m over smart thermostats'",
            target=ARTICLE,
            value=text(500),
        ),
        Action(
            "summary",
            "summary",
            Effect.RECORD,
            "Replace an article's summary (an empty text brings back the original).",
            "digest issue summary 7 'A Texas jury found two patents infringed.'",
            target=ARTICLE,
            value=text(3000),
        ),
        Action(
            "move",
            "order",
            Effect.MOVE,
            "Move a section one place up or down.",
            "digest issue move counterfeits up",
            target=TOPIC,
            value=DIRECTION,
        ),
        Action(
            "order",
            "order",
            Effect.RECORD,
            "Order the sections: topic slugs, comma-separated; the rest follow.",
            "digest issue order counterfeits,patents",
            value=TOPICS,
        ),
        Action(
            "subject",
            "subject",
            Effect.RECORD,
            "Set the subject line (an empty text: the automatic one).",
            "digest issue subject 'IP Protection Weekly: the fakes issue'",
            value=text(300),
        ),
        Action(
            "preheader",
            "preheader",
            Effect.RECORD,
            "Set the preheader, the line inboxes show after the subject and the email opens with (an empty "
            "text: the automatic one). Name the stories it speaks of: readers who do not get them all keep "
            "their own preheader, counted from their stories.",
            "digest issue preheader --stories 3,7 'Customs seize fakes, and a court blocks pirate streams'",
            target=STORIES,
            value=text(300),
        ),
        Action(
            "reset",
            "",
            Effect.RESET,
            "Drop every override of one kind (e.g. the custom subject).",
            "digest issue reset subject",
            target=KIND,
        ),
    )
}


class Editor(Protocol):
    """What ``perform`` needs: the draft, and a way to record or clear an override on it."""

    def draft(self) -> Issue: ...

    def edit(self, edit: Edit | None = None, *, clear: tuple[str, str] | None = None) -> Issue: ...

    def label_off_topic(self, article_id: int, reason: str) -> None: ...


def perform(editor: Editor, name: str, target: str = "", value: str = "") -> Issue:
    """Run the editing action ``name`` on the draft; the draft recomposed with it."""
    action = ACTIONS.get(name)
    if action is None:
        raise UsageError(f"there is no edit called {name!r}; the edits are: {', '.join(ACTIONS)}")
    change = action.change(editor.draft(), target, value)
    issue = editor.edit(change.record, clear=change.clear)
    if action.kind == "exclude" and change.record is not None and is_off_topic(change.record.value):
        editor.label_off_topic(int(change.record.target), change.record.value)
    return issue
