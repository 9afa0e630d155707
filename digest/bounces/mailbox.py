"""Where bounce mail arrives: an IMAP folder (TLS or STARTTLS), a POP3 mailbox (TLS), a local Maildir or mbox.

Each box lists its messages as (id, bytes) and is told when one is ``done``: it is then moved to the
processed folder or deleted. One that cannot be read or applied is set ``aside``: moved to the
``Unreadable`` folder (Maildir: with a ``.reason`` file beside it; mbox: a copy with an
X-Digest-Aside header in the ``Unreadable`` file beside the box), or, over POP3, which cannot move mail,
left on the server; the reason is logged either way.

The caller marks a message done only after its outcome is committed, so a
crash between the two leaves the message in place, and reading it again finds its event already applied
(a duplicate) and only moves it: nothing is lost, nothing counted twice.

    imaps://user@host[:993]/INBOX   IMAP over TLS        (password: BOUNCE_PASSWORD)
    imap://user@host[:143]/INBOX    IMAP with STARTTLS, never in the clear
    pop3s://user@host[:995]         POP3 over TLS; it can only delete (processed = "delete")
    maildir:/path                   a Maildir; processed mail goes to its .<folder> subfolder
    mbox:/path                      an mbox file, locked while read; processed mail goes to <folder> beside it
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import poplib
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..config import BouncesConfig
from ..errors import ConfigError, DeliveryError

TIMEOUT = 30.0


class Box(Protocol):
    def messages(self) -> Iterator[tuple[str, bytes]]: ...

    def done(self, message_id: str) -> None: ...

    def aside(self, message_id: str, reason: str) -> None: ...

    def close(self) -> None: ...


ASIDE = "Unreadable"  # where a message that cannot be read or applied goes, with its reason
POP3_MAX_LINE = 1 << 20  # poplib refuses lines over 2,048 bytes; real mail has longer ones


class MailboxError(DeliveryError):
    """The bounce mailbox could not be reached or read."""


def open_box(config: BouncesConfig, context: ssl.SSLContext | None = None) -> Box:
    """The box ``[bounces] mailbox`` names (ConfigError when it is not set or not usable)."""
    url = config.mailbox
    if not url:
        raise ConfigError(
            "digest.toml",
            "bounces.mailbox",
            "not set; name where bounces arrive, e.g. "
            'mailbox = "imaps://bounces@mail.example.org/INBOX" or "maildir:/var/mail/bounces"',
        )
    move = config.processed == "move"
    if url.startswith("maildir:"):
        return MaildirBox(Path(url.removeprefix("maildir:")), config.folder if move else None)
    if url.startswith("mbox:"):
        return MboxBox(Path(url.removeprefix("mbox:")), config.folder if move else None)
    parts = urlsplit(url)
    if not parts.hostname or not parts.username:
        raise ConfigError(
            "digest.toml",
            "bounces.mailbox",
            f"{url}: give the user and host, e.g. imaps://bounces@mail.example.org/INBOX",
        )
    if config.password is None:
        raise ConfigError(
            "environment", "BOUNCE_PASSWORD", f"not set; the password of {parts.username} at {parts.hostname}"
        )
    user, host = unquote(parts.username), parts.hostname
    context = context or ssl.create_default_context()
    if parts.scheme == "pop3s":
        if move:
            raise ConfigError(
                "digest.toml",
                "bounces.processed",
                'POP3 cannot move mail to a folder; set processed = "delete" (or read the mailbox over IMAP)',
            )
        return POP3Box(host, parts.port or 995, user, config.password, context)
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return IMAPBox(
        host,
        parts.port or (993 if parts.scheme == "imaps" else 143),
        user,
        config.password,
        folder,
        config.folder if move else None,
        context,
        starttls=parts.scheme == "imap",
    )


class MaildirBox:
    """A Maildir read by hand: a message is a file in new/ or cur/; done renames it (atomic) or unlinks it."""

    def __init__(self, root: Path, folder: str | None) -> None:
        if not (root / "new").is_dir() or not (root / "cur").is_dir():
            raise ConfigError("digest.toml", "bounces.mailbox", f"{root} is not a Maildir (no new/ and cur/)")
        self.root = root
        self.target = root / f".{folder}" if folder else None

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for sub in ("new", "cur"):
            for entry in sorted(os.scandir(self.root / sub), key=lambda e: e.name):
                if entry.is_file() and not entry.name.startswith("."):
                    path = Path(entry.path)
                    with contextlib.suppress(FileNotFoundError):  # taken by another reader meanwhile
                        yield f"{sub}/{entry.name}", path.read_bytes()

    def done(self, message_id: str) -> None:
        path = self.root / message_id
        if self.target is None:
            path.unlink(missing_ok=True)
            return
        for sub in ("tmp", "new", "cur"):
            (self.target / sub).mkdir(parents=True, exist_ok=True)
        name = path.name if ":2," in path.name else f"{path.name}:2,S"
        with contextlib.suppress(FileNotFoundError):
            path.rename(self.target / "cur" / name)

    def aside(self, message_id: str, reason: str) -> None:
        path = self.root / message_id
        target = self.root / f".{ASIDE}"
        for sub in ("tmp", "new", "cur"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        name = path.name if ":2," in path.name else f"{path.name}:2,"
        (target / f"{path.name.split(':')[0]}.reason").write_text(reason + "\n", encoding="utf-8")
        with contextlib.suppress(FileNotFoundError):
            path.rename(target / "cur" / name)

    def close(self) -> None:
        return None


class MboxBox:
    """An mbox file, locked (fcntl and dot-lock, as local MTAs do) from opening to closing."""

    def __init__(self, path: Path, folder: str | None) -> None:
        if not path.is_file():
            raise ConfigError("digest.toml", "bounces.mailbox", f"{path}: no such mbox file")
        self.box = mailbox.mbox(path, create=False)
        self.box.lock()
        self.target = mailbox.mbox(path.with_name(folder)) if folder else None
        self.aside_box: mailbox.mbox | None = None
        self.aside_path = path.with_name(ASIDE)
        self.finished: list[str] = []
        self.keys: dict[str, str] = {}

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in list(self.box.keys()):
            self.keys[str(key)] = key  # ints at run time, whatever the stubs say
            yield str(key), self.box.get_bytes(key, from_=False)

    def done(self, message_id: str) -> None:
        if self.target is not None:
            self.target.add(self.box.get_message(self.keys[message_id]))
            self.target.flush()
        self.finished.append(message_id)

    def aside(self, message_id: str, reason: str) -> None:
        if self.aside_box is None:
            self.aside_box = mailbox.mbox(self.aside_path)
        copy = mailbox.mboxMessage(self.box.get_bytes(self.keys[message_id], from_=False))
        copy["X-Digest-Aside"] = " ".join(reason.split())[:500]
        self.aside_box.add(copy)
        self.aside_box.flush()
        self.finished.append(message_id)

    def close(self) -> None:
        try:
            for key in self.finished:
                self.box.discard(self.keys[key])
            self.box.flush()  # a new file renamed over the old one: all or nothing
        finally:
            self.box.unlock()
            self.box.close()
            if self.target is not None:
                self.target.close()
            if self.aside_box is not None:
                self.aside_box.close()


class IMAPBox:
    """An IMAP folder over TLS (or STARTTLS); done moves (MOVE, else COPY + \\Deleted) or deletes by UID."""

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        folder: str,
        target: str | None,
        context: ssl.SSLContext,
        starttls: bool = False,
    ) -> None:
        self.target = target
        try:
            if starttls:
                self.imap: imaplib.IMAP4 = imaplib.IMAP4(host, port, timeout=TIMEOUT)
                self.imap.starttls(ssl_context=context)
            else:
                self.imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT)
            self.imap.login(user, password)
            if target is not None:
                self.imap.create(_quote(target))  # "already exists" is fine
            status, _ = self.imap.select(_quote(folder))
        except ssl.SSLCertVerificationError as exc:
            raise MailboxError(
                f"cannot read {host}:{port}: its certificate failed verification ({exc.verify_message or exc})"
            ) from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(
                f"cannot read the bounce mailbox at {host}:{port}: {exc}. Check [bounces] "
                "mailbox in digest.toml and BOUNCE_PASSWORD"
            ) from None
        if status != "OK":
            raise MailboxError(f"no folder {folder!r} at {host}; check [bounces] mailbox in digest.toml")
        _, caps = self.imap.capability()  # after login: servers list more than they did before it
        self.moves = b"MOVE" in (caps[0] or b"").upper().split()
        self.deleted = False

    def messages(self) -> Iterator[tuple[str, bytes]]:
        _, found = self.imap.uid("SEARCH", "UNDELETED")
        for uid in (found[0] or b"").split():
            status, data = self.imap.uid("FETCH", uid.decode("ascii"), "(BODY.PEEK[])")
            raw = next((part[1] for part in data if isinstance(part, tuple)), None)
            if status == "OK" and isinstance(raw, bytes):
                yield uid.decode("ascii"), raw

    def done(self, message_id: str) -> None:
        if self.target is not None and self.moves:
            self.imap.uid("MOVE", message_id, _quote(self.target))
            return
        if self.target is not None:
            self.imap.uid("COPY", message_id, _quote(self.target))
        self.imap.uid("STORE", message_id, "+FLAGS.SILENT", r"(\Deleted)")
        self.deleted = True

    def aside(self, message_id: str, reason: str) -> None:
        self.imap.create(ASIDE)  # "already exists" is fine
        if self.moves:
            self.imap.uid("MOVE", message_id, ASIDE)
            return
        self.imap.uid("COPY", message_id, ASIDE)
        self.imap.uid("STORE", message_id, "+FLAGS.SILENT", r"(\Deleted)")
        self.deleted = True

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            if self.deleted:
                self.imap.expunge()
            self.imap.close()
            self.imap.logout()


class POP3Box:
    """A POP3 mailbox over TLS; done marks a message deleted, which the server applies at QUIT."""

    def __init__(self, host: str, port: int, user: str, password: str, context: ssl.SSLContext) -> None:
        try:
            self.pop = _POP3(host, port, context=context, timeout=TIMEOUT)
            self.pop.user(user)
            self.pop.pass_(password)
        except (OSError, poplib.error_proto) as exc:
            raise MailboxError(
                f"cannot read the bounce mailbox at {host}:{port}: {exc}. Check [bounces] "
                "mailbox in digest.toml and BOUNCE_PASSWORD"
            ) from None

    def messages(self) -> Iterator[tuple[str, bytes]]:
        _, listing, _ = self.pop.list()
        for line in listing:
            number = line.split()[0].decode("ascii")
            _, lines, _ = self.pop.retr(int(number))
            yield number, b"\r\n".join(lines) + b"\r\n"

    def done(self, message_id: str) -> None:
        self.pop.dele(int(message_id))

    def aside(self, message_id: str, reason: str) -> None:
        return None  # POP3 cannot move mail: it stays on the server, and the reason is in the log

    def close(self) -> None:
        with contextlib.suppress(OSError, poplib.error_proto):
            self.pop.quit()


class _POP3(poplib.POP3_SSL):
    """poplib's POP3 over TLS, reading lines up to POP3_MAX_LINE bytes instead of 2,048."""

    def _getline(self) -> tuple[bytes, int]:
        line = self.file.readline(POP3_MAX_LINE + 1)
        if len(line) > POP3_MAX_LINE:
            raise poplib.error_proto("line too long")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9._/-]+", name) else '"' + name.replace('"', r"\"") + '"'
