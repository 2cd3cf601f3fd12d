"""Trading partners and their SFTP mailboxes on the machine's OpenSSH.

    claims partner add NAME --sender-id ID [--qualifier ZZ] [--key FILE] [--system]
    claims partner remove NAME [--system]
    claims partner list

A partner is a row in the store (its name and the ISA05/ISA06 it sends with, so its
answers find their way back) and a mailbox::

    <mailboxes>/NAME/            root-owned, 0755: sshd's chroot for the account
    <mailboxes>/NAME/inbound/    the partner's: it uploads here (0700)
    <mailboxes>/NAME/outbound/   root-owned, 0755: its 999, 277CA and 835 files

With ``--system`` (as root, where sshd runs) NAME also becomes a system account in the
``edi-sftp`` group with no shell and no password, its public key is installed where
`sshd_config_block` tells sshd to look, and sshd locks it into its mailbox with
``internal-sftp``: no shell, no forwarding, no other partner's files, key only.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, update

from edi.validators.npi import is_valid_npi
from store.engine import Store
from store.models import EraEnrollment, Event, ReceivedFile, TradingPartner

GROUP = "edi-sftp"
KEYS = Path("/etc/ssh/edi-sftp-keys")
_NAME = re.compile(r"[a-z][a-z0-9-]{1,30}")
_SENDER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ]{0,13}[A-Za-z0-9])?")
_QUALIFIER = re.compile(r"[A-Z0-9]{2}")


class PartnerError(ValueError):
    """A partner that cannot be added or removed as asked (a usage error)."""


def sshd_config_block(mailboxes: Path, keys: Path = KEYS, group: str = GROUP) -> str:
    """The sshd_config lines that make every ``group`` account an SFTP-only mailbox, and
    change nothing for any other account: the keys file and the password settings are
    inside the ``Match`` (before 2026-12-01 they were global, so every administrator's
    ``~/.ssh/authorized_keys`` stopped working once the block was appended)."""
    return ("Subsystem sftp internal-sftp\n"
            f"Match Group {group}\n"
            f"    AuthorizedKeysFile {keys}/%u\n"
            "    PasswordAuthentication no\n    KbdInteractiveAuthentication no\n"
            f"    ChrootDirectory {mailboxes}/%u\n"
            "    ForceCommand internal-sftp -u 0077\n"
            "    AuthenticationMethods publickey\n"
            "    DisableForwarding yes\n"
            "    AllowTcpForwarding no\n    AllowAgentForwarding no\n"
            "    X11Forwarding no\n    PermitTTY no\n")


def add_partner(store: Store, mailboxes: Path, name: str, *, qualifier: str, sender_id: str,
                now: datetime, key: Path | None = None, system: bool = False,
                keys: Path = KEYS) -> Path:
    """Create the partner's row and mailbox (and its account with ``system``)."""
    if not _NAME.fullmatch(name):
        raise PartnerError("a partner name is 2-31 characters: lower-case letters, digits "
                           "and hyphens, starting with a letter")
    sender_id = sender_id.strip()  # ISA06 is padded with blanks: they are not the id
    if not _QUALIFIER.fullmatch(qualifier) or not _SENDER.fullmatch(sender_id):
        raise PartnerError("the sender is an ISA05 qualifier of 2 upper-case letters or "
                           "digits and an ISA06 id of 1-15 letters, digits or inner blanks")
    public_key = _public_key(key) if key is not None else None
    if system and public_key is None:
        raise PartnerError("a system account needs --key (key-only login)")
    if system and _foreign_account(name):
        raise PartnerError(f"{name} is an account of this machine that is no SFTP partner's "
                           f"(its group is not {GROUP}): choose another name")
    with store.transaction() as s:
        if s.scalar(select(TradingPartner.id).where(TradingPartner.name == name)):
            raise PartnerError(f"partner {name} exists already")
        taken = s.scalar(select(TradingPartner.name).where(
            TradingPartner.sender_qualifier == qualifier,
            TradingPartner.sender_id == sender_id))
        if taken is not None:  # was an IntegrityError, after the mailbox was made
            raise PartnerError(f"partner {taken} sends as {qualifier} {sender_id} already")
        s.add(TradingPartner(name=name, sender_qualifier=qualifier, sender_id=sender_id,
                             created_at=now))
        s.flush()  # the row is refused, if at all, before the mailbox is made
        root = mailboxes / name
        for folder in (root, root / "outbound"):
            folder.mkdir(parents=True, exist_ok=True)
            # the answers are PHI: no other account of the machine may look in (before
            # 2026-12-01 0755: any local account read every partner's 277CAs and 835s);
            # the partner reads through the group (`_system_account`)
            os.chmod(folder, 0o750)
        (root / "inbound").mkdir(exist_ok=True)
        os.chmod(root / "inbound", 0o700)
        if system:
            assert public_key is not None
            _system_account(name, root, public_key, keys)
    return root


def remove_partner(store: Store, mailboxes: Path, name: str, *, system: bool = False,
                   keys: Path = KEYS) -> None:
    """Remove the row and the account; the mailbox's files are kept for audit, and the
    files it uploaded keep their data (their senders are in their interchanges) but no
    longer point at the row; an event records the removal."""
    if not _NAME.fullmatch(name):  # never looked up, nor quoted: it may be no text at all
        raise PartnerError("no partner by that name (a partner name is 2-31 lower-case "
                           "letters, digits and hyphens)")
    with store.transaction() as s:
        row = s.scalar(select(TradingPartner).where(TradingPartner.name == name))
        if row is None:
            raise PartnerError(f"no partner {name}")
        uploaded = len(list(s.scalars(select(ReceivedFile.id).where(
            ReceivedFile.partner_id == row.id))))
        s.execute(update(ReceivedFile).where(ReceivedFile.partner_id == row.id)
                  .values(partner_id=None))
        # its payees' 835s go back to the mailbox their claims came from, or are held
        enrolled = len(list(s.scalars(select(EraEnrollment.id).where(
            EraEnrollment.partner_id == row.id))))
        s.execute(delete(EraEnrollment).where(EraEnrollment.partner_id == row.id))
        s.add(Event(at=datetime.now(tz=UTC), kind="partner.removed", actor="cli",
                    subject=name, detail={"files": uploaded, "era_enrollments": enrolled}))
        s.delete(row)
    if system:
        (keys / name).unlink(missing_ok=True)
        if _partner_account(name):  # never an account the engine did not make
            subprocess.run(["userdel", name], check=False, capture_output=True)
        inbound = mailboxes / name / "inbound"
        if inbound.is_dir():  # kept for audit: not left to whoever gets the freed uid
            os.chown(inbound, 0, 0)


def _partner_account(name: str) -> bool:
    """An account of this machine whose primary group is the partners' (`GROUP`)."""
    try:
        account = pwd.getpwnam(name)
        return grp.getgrgid(account.pw_gid).gr_name == GROUP
    except KeyError:
        return False


def _foreign_account(name: str) -> bool:
    """An account of this machine that is not a partner's: ``postgres``, ``redis``,
    ``root``. Before 2026-12-01 a partner so named took that account over (its password
    reset, the partner's key installed), outside the SFTP-only rules, which match the
    partners' group: a shell or port forwarding into the machine's services."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return not _partner_account(name)


_TIN = re.compile(r"[0-9]{9}")


def enroll_era(store: Store, name: str, npi: str, tin: str, now: datetime) -> None:
    """The payee ``npi`` and ``tin`` receives its 835s through partner ``name`` (its ERA
    enrollment, replacing any other): each 835 it is paid with goes to that partner's
    mailbox, whichever partner sent its claims. An 835 held because its claims came
    from several mailboxes is delivered by the next delivery (``claims redeliver``)."""
    if not is_valid_npi(npi):
        raise PartnerError("the payee's NPI is 10 digits with a valid check digit")
    if not _TIN.fullmatch(tin):
        raise PartnerError("the payee's TIN is 9 digits, as its 835 carries it")
    if not _NAME.fullmatch(name):
        raise PartnerError("no partner by that name (a partner name is 2-31 lower-case "
                           "letters, digits and hyphens)")
    with store.transaction() as s:
        partner = s.scalar(select(TradingPartner.id).where(TradingPartner.name == name))
        if partner is None:
            raise PartnerError(f"no partner {name}")
        row = s.scalar(select(EraEnrollment).where(EraEnrollment.payee_npi == npi,
                                                   EraEnrollment.payee_tin == tin))
        if row is None:
            s.add(EraEnrollment(payee_npi=npi, payee_tin=tin, partner_id=partner,
                                enrolled_at=now))
        else:
            row.partner_id, row.enrolled_at = partner, now
        # the NPI names the payee in the trail; a TIN may be a person's SSN: not logged
        s.add(Event(at=now, kind="era.enrolled", actor="cli", subject=npi,
                    detail={"partner": name}))


def era_enrollments(store: Store) -> list[tuple[str, str, str]]:
    """(partner name, payee NPI, payee TIN) of every enrollment."""
    with store.transaction() as s:
        return [(name, npi, tin) for name, npi, tin in s.execute(
            select(TradingPartner.name, EraEnrollment.payee_npi, EraEnrollment.payee_tin)
            .join(TradingPartner, TradingPartner.id == EraEnrollment.partner_id)
            .order_by(TradingPartner.name, EraEnrollment.payee_npi))]


def list_partners(store: Store) -> list[tuple[str, str, str]]:
    with store.transaction() as s:
        return [(r.name, r.sender_qualifier, r.sender_id) for r in s.scalars(
            select(TradingPartner).order_by(TradingPartner.name))]


def _public_key(path: Path) -> str:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    if not re.fullmatch(r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( \S*)?",
                        text):
        raise PartnerError(f"{path.name} is not one OpenSSH public key")
    return text


def _system_account(name: str, root: Path, public_key: str, keys: Path) -> None:
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        raise PartnerError("--system needs root and useradd")
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        subprocess.run(["groupadd", "--system", GROUP], check=True, capture_output=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--gid", GROUP, "--home-dir", "/",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
    # "*": no password can match, yet not "locked" ("!"), which sshd refuses even for keys
    subprocess.run(["usermod", "--password", "*", name], check=True, capture_output=True)
    account = pwd.getpwnam(name)
    os.chown(root / "inbound", account.pw_uid, account.pw_gid)
    for folder in (root, root / "outbound"):  # root's, readable by the partners' group
        os.chown(folder, 0, account.pw_gid)
    keys.mkdir(parents=True, exist_ok=True)
    os.chmod(keys, 0o755)
    (keys / name).write_text(public_key + "\n")
    os.chmod(keys / name, 0o644)
