"""What the web side does with the audience: subscribe (double opt-in), confirm, unsubscribe, preferences.

Every operation that comes from a link takes the link's signed token; a tampered, expired or unknown
token raises BadToken. Nothing here tells a caller whether an address was already on the list: a
sign-up always ends in "check your inbox", whatever the address's status. A sign-up never changes a
stored address: one that had left (unsubscribed, bounced, complained) gets a confirmation link, and
only that link, made after it left, brings it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .model import OPTED_OUT, Change, Subscriber, SubscriberStatus
from .store import SubscriberStore
from .tokens import BadToken, Tokens
from .validation import form_name, match_topics, normalize_email


@dataclass(frozen=True)
class Notice:
    """A mail to one address about its subscription: 'confirm' (with a link) or 'already' (preferences).

    The caller's ``notify`` turns it into a message and sends it (in IP Digest:
    ``digest.issue.message.NoticeMessages``)."""

    kind: str
    email: str
    name: str
    url: str


class Audience:
    """Subscriber operations over a SubscriberStore, the signed tokens and a way to mail notices."""

    def __init__(
        self,
        store: SubscriberStore,
        tokens: Tokens,
        base_url: str,
        topics: Sequence[str],
        notify: Callable[[Notice], bool],
        jurisdictions: Iterable[str] = (),
    ) -> None:
        self.store, self.tokens, self.notify = store, tokens, notify
        self.base_url = base_url.rstrip("/")
        self.topics = tuple(topics)
        self.jurisdictions = frozenset(jurisdictions)  # the codes a reader may choose

    def link(self, purpose: str, subscriber: Subscriber) -> str:
        return f"{self.base_url}/{purpose}/{self.tokens.make(purpose, subscriber.id)}"

    def known_topics(self, chosen: Iterable[str]) -> list[str]:
        """The known topics that ``chosen`` names (singular or plural), in the site's order; others dropped."""
        found, _ = match_topics(chosen, self.topics)
        return [x for x in self.topics if x in set(found)]

    def known_jurisdictions(self, chosen: Iterable[str]) -> list[str]:
        """The chosen codes that are known, each once, in order; unknown ones are dropped."""
        return [x for x in dict.fromkeys(c.strip().lower() for c in chosen) if x in self.jurisdictions]

    def subscribe(
        self,
        raw_email: str,
        name: str = "",
        topics: Iterable[str] = (),
        source: str = "form",
        ip: str | None = None,
        user_agent: str | None = None,
        jurisdictions: Iterable[str] = (),
    ) -> None:
        """Start a double opt-in; InvalidAddress for a malformed address, otherwise the same for every address.

        New, pending and opted-out addresses get a confirmation link (to the stored name), active ones a
        note with their preferences link. ``name`` must pass ``form_name`` (InvalidName otherwise).
        """
        email = normalize_email(raw_email)
        places = self.known_jurisdictions(jurisdictions)
        sub, before = self.store.request(
            email, form_name(name), self.known_topics(topics), source, ip, user_agent, jurisdictions=places
        )
        if before == "new" or before == SubscriberStatus.PENDING or before in OPTED_OUT:
            self.notify(Notice("confirm", sub.email, sub.name, self.link("confirm", sub)))
        elif before == "active":
            self.notify(Notice("already", sub.email, sub.name, self.link("preferences", sub)))

    def holder(self, purpose: str, token: str) -> Subscriber:
        """The subscriber a link was made for; BadToken when tampered, expired or no longer known."""
        return self._holder(purpose, token)[0]

    def _holder(self, purpose: str, token: str) -> tuple[Subscriber, datetime]:
        """(the subscriber a link was made for, when it was made). A link dies with its person: one made
        before the subscriber with its id was created was made for someone else (erased since), and is
        refused even if the id were ever given again."""
        sid, issued = self.tokens.read_issued(purpose, token)
        sub = self.store.get(sid)
        born = sub.created_at.replace(microsecond=0) if sub is not None and sub.created_at else None
        if sub is None or (born is not None and issued < born):  # (a token's time is in whole seconds)
            raise BadToken(f"this {purpose} link is not valid")
        return sub, issued

    def confirm(self, token: str, ip: str | None, user_agent: str | None = None) -> Subscriber:
        """Activate a pending subscriber, or bring back one who had left, recording the time, IP and user
        agent of consent; a second use changes nothing. A link made before the address last left changes
        nothing either: it is not a new sign-up (the subscriber is returned as it is)."""
        sub, issued = self._holder("confirm", token)
        left = self.store.opted_out_at(sub.id)
        if sub.status in OPTED_OUT and left is not None and issued <= left:
            return sub
        self.store.confirm(sub.id, ip, user_agent)
        return self.store.get(sub.id) or sub

    def unsubscribe(self, token: str, source: str = "unsubscribe link") -> Subscriber:
        """Unsubscribe the link's holder at once; already unsubscribed, bounced or complained stays as it is."""
        sub = self.holder("unsubscribe", token)
        return self.store.apply(sub.id, Change.UNSUBSCRIBE, source) or sub

    def save_preferences(
        self, token: str, topics: Iterable[str], paused: bool, jurisdictions: Iterable[str] | None = None
    ) -> Subscriber:
        """Store the link holder's choices; ``jurisdictions`` None leaves theirs as they are."""
        sub = self.holder("preferences", token)
        places = None if jurisdictions is None else self.known_jurisdictions(jurisdictions)
        self.store.set_preferences(sub.id, self.known_topics(topics), paused, jurisdictions=places)
        return self.store.get(sub.id) or sub
