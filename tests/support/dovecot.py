"""Dovecot (Debian's dovecot-imapd) run by a test: its own configuration in a temp folder, one user with a
password, IMAP with STARTTLS and IMAP over TLS on loopback ports, certificates from trustme."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from .smtp import free_port

USER, PASSWORD = "bounces@example.org", "bounce-password"


@dataclass
class Dovecot:
    imap_port: int
    imaps_port: int
    ca_file: Path
    home: Path
    pop3s_port: int | None = None  # with Debian's dovecot-pop3d installed


POP3 = Path("/usr/lib/dovecot/pop3")


def _pop3(port: int | None) -> str:
    if port is None:
        return ""
    return f"""
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
"""


def _config(tmp: Path, imap: int, imaps: int, pop3s: int | None, owner: pwd.struct_passwd, login: str) -> str:
    return (
        _pop3(pop3s)
        + f"""
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
protocols = imap{" pop3" if pop3s else ""}
listen = 127.0.0.1
ssl = required
ssl_cert = <{tmp}/cert.pem
ssl_key = <{tmp}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = {owner.pw_name}
default_internal_group = {grp.getgrgid(owner.pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = {owner.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={tmp}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 20) -> None:
    """Until Dovecot accepts connections on ``port`` (or it exits, or ``timeout`` passes: a failure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {port}: {log.read_text() if log.exists() else ''}")


@contextmanager
def dovecot() -> Iterator[Dovecot]:
    """Dovecot serving one user; its folder is made under the system's temp folder (the mail user, not
    the test's, must reach it: pytest's own folders are private) and removed after."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does it)")
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    tmp = Path(tempfile.mkdtemp(prefix="digest-dovecot-"))
    cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
    if os.geteuid() == 0:  # mail is never accessed as root: the package's own users
        owner, login = pwd.getpwnam("dovecot"), "dovenull"
    else:
        owner = pwd.getpwuid(os.geteuid())
        login = owner.pw_name
    (tmp / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    home = tmp / "home" / USER
    home.mkdir(parents=True)
    os.chmod(tmp, 0o755)
    if os.geteuid() == 0:
        for path in (tmp / "home", home):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    imap, imaps = free_port(), free_port()
    pop3s = free_port() if POP3.exists() else None
    conf = tmp / "dovecot.conf"
    conf.write_text(_config(tmp, imap, imaps, pop3s, owner, login))
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(imaps, proc, tmp / "dovecot.log")
        _wait_for(imap, proc, tmp / "dovecot.log")
        if pop3s is not None:
            _wait_for(pop3s, proc, tmp / "dovecot.log")
        yield Dovecot(imap, imaps, tmp / "ca.pem", home, pop3s)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(tmp, ignore_errors=True)
