"""End to end on the real parts: OpenSSH's sshd (started by the test, as root), two
partners with keys, uploads over SFTP with paramiko, intake, dramatiq workers on the
machine's Redis, the store on a schema of the machine's PostgreSQL, and the answers
in the partner's outbound folder. Skips on a laptop without sshd, root, Redis or
PostgreSQL; fails under CI, where `make test` installs openssh-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import dramatiq
import paramiko
import pytest

from store.engine import Store
from store.migrate import upgrade
from tests.databases import postgres_schema, require_redis
from tests.paths import ACK_FIXTURES
from workers.intake import Completeness, scan_once
from workers.partners import add_partner, remove_partner, sshd_config_block
from workers.reference import SHIPPED_REFERENCE_DIRECTORY
from workers.reference_store import StoredReference, load_reference
from workers.service import Service, declare_actors, make_broker

SSHD = Path("/usr/sbin/sshd")
TWO_CLAIMS = ACK_FIXTURES / "valid-two-claims.837"
REDIS = os.environ.get("EDI_TEST_REDIS_URL_SFTP", "redis://127.0.0.1:6379/13")


def _require_sshd() -> None:
    if SSHD.exists() and os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        raise AssertionError("CI needs OpenSSH's sshd and root: make test installs it")
    pytest.skip("needs OpenSSH's sshd and root")


@pytest.fixture
def broker() -> Iterator[dramatiq.Broker]:
    """The workers' broker on the machine's Redis (a database of the tests' own)."""
    on_redis = make_broker(REDIS)
    on_redis.flush_all()
    yield on_redis
    on_redis.flush_all()
    on_redis.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _keypair(directory: Path, name: str) -> Path:
    path = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True)
    return path


class Mailboxes:
    def __init__(self, root: Path, port: int, keys: Path, names: dict[str, str]) -> None:
        self.root, self.port, self.keys, self.names = root, port, keys, names

    def sftp(self, who: str) -> paramiko.SFTPClient:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        client.connect("127.0.0.1", port=self.port, username=self.names[who],
                       key_filename=str(self.keys / who), look_for_keys=False,
                       allow_agent=False, timeout=10)
        return client.open_sftp()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Mailboxes, Service]]:
    _require_sshd()
    tag = uuid.uuid4().hex[:6]
    # sshd's chroot wants every directory above the mailbox root-owned and not
    # writable by others: not under /tmp
    root = Path(f"/srv/edi-test-{tag}")
    root.mkdir(mode=0o755)
    keys_dir = Path(f"/etc/ssh/edi-test-keys-{tag}")
    require_redis(REDIS)
    cleanup = ExitStack()
    url = cleanup.enter_context(postgres_schema())
    upgrade(url)
    store = Store(url)
    load_reference(store, SHIPPED_REFERENCE_DIRECTORY, datetime.now(tz=UTC))
    names = {"a": f"edi-a-{tag}", "b": f"edi-b-{tag}"}
    private = tmp_path / "keys"
    private.mkdir()
    senders = {"a": "CLEARHOUSE01", "b": "OTHERHOUSE"}
    for who, name in names.items():
        key = _keypair(private, who)
        add_partner(store, root, name, qualifier="ZZ", sender_id=senders[who],
                    now=datetime.now(tz=UTC), key=key.with_suffix(".pub"), system=True,
                    keys=keys_dir)
    host_key = _keypair(tmp_path, "host")
    port = _free_port()
    config = tmp_path / "sshd_config"
    config.write_text(f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
                      f"PidFile {tmp_path / 'sshd.pid'}\nUsePAM no\nPermitRootLogin no\n"
                      + sshd_config_block(root, keys_dir))
    Path("/run/sshd").mkdir(exist_ok=True)
    sshd = subprocess.Popen([str(SSHD), "-D", "-E", str(tmp_path / "sshd.log"), "-f",
                             str(config)],
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert sshd.poll() is None, sshd.stderr.read() if sshd.stderr else b""
            assert time.monotonic() < deadline
            time.sleep(0.1)
    service = Service(store, tmp_path / "archive", tmp_path / "outbound",
                      StoredReference(store), mailboxes=root)
    try:
        yield Mailboxes(root, port, private, names), service
    finally:
        sshd.terminate()
        sshd.wait(10)
        for name in names.values():
            remove_partner(store, root, name, system=True, keys=keys_dir)
        store.dispose()
        cleanup.close()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(keys_dir, ignore_errors=True)


def _work(broker: dramatiq.Broker, done: object, timeout: float = 60) -> None:
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        deadline = time.monotonic() + timeout
        while not done():  # type: ignore[operator]
            assert time.monotonic() < deadline, "the answers did not arrive in time"
            time.sleep(0.2)
    finally:
        worker.stop()


def test_a_partner_uploads_over_sftp_and_its_answers_appear_in_its_outbound(
    world: tuple[Mailboxes, Service], broker: dramatiq.Broker,
) -> None:
    boxes, service = world
    actors = declare_actors(broker, lambda: service)
    a = boxes.sftp("a")
    assert sorted(a.listdir("/")) == ["inbound", "outbound"]
    # upload to a temporary name, then rename: taken only after the rename
    a.put(str(TWO_CLAIMS), "/inbound/claims.837.part")
    completeness = Completeness(stable_seconds=0)
    assert scan_once(service, actors, boxes.root, completeness) == []
    a.rename("/inbound/claims.837.part", "/inbound/claims.837")
    (file_id,) = scan_once(service, actors, boxes.root, completeness)
    assert a.listdir("/inbound") == []  # taken into the archive
    _work(broker, lambda: len(a.listdir("/outbound")) >= 2)
    answers = sorted(a.listdir("/outbound"))
    assert [n.rsplit(".", 1)[1] for n in answers] == ["277ca", "999"]
    with a.open("/outbound/" + answers[1]) as ack:
        assert b"IK5*A" in ack.read()
    # a payment cycle: the 835 for the claims A sent appears in A's outbound too
    actors.remit.send(datetime.now(tz=UTC).date().isoformat())
    _work(broker, lambda: any(n.endswith(".835") for n in a.listdir("/outbound")))
    assert any(n.endswith(".html") for n in a.listdir("/outbound"))
    assert file_id > 0


def test_a_partner_sees_nothing_of_another_and_passwords_are_refused(
    world: tuple[Mailboxes, Service],
) -> None:
    boxes, _service = world
    a, b = boxes.sftp("a"), boxes.sftp("b")
    a.put(str(TWO_CLAIMS), "/inbound/mine.837")
    # B's root is its own mailbox: A's folders are not there, by name or by path
    assert sorted(b.listdir("/")) == ["inbound", "outbound"]
    assert b.listdir("/inbound") == []
    for path in (f"/../{boxes.names['a']}/inbound", f"/{boxes.names['a']}"):
        with pytest.raises(OSError):
            b.listdir(path)
    with pytest.raises(OSError):
        b.open(f"/../{boxes.names['a']}/inbound/mine.837").read()
    with pytest.raises(OSError):  # the chroot itself is root's
        b.put(str(TWO_CLAIMS), "/planted.837")
    with pytest.raises(OSError):  # its outbound is read-only to it
        b.put(str(TWO_CLAIMS), "/outbound/planted.837")
    transport = paramiko.Transport(("127.0.0.1", boxes.port))
    transport.start_client(timeout=10)
    try:
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_password(boxes.names["a"], "any password")
    finally:
        transport.close()


def test_a_file_still_being_written_is_not_taken(world: tuple[Mailboxes, Service]) -> None:
    boxes, service = world
    actors = declare_actors(make_broker(None), lambda: service)
    a = boxes.sftp("a")
    completeness = Completeness(stable_seconds=1.0)
    with a.open("/inbound/slow.837", "w") as upload:
        upload.write(TWO_CLAIMS.read_bytes()[:500])
        upload.flush()
        assert scan_once(service, actors, boxes.root, completeness, now=0.0) == []
        upload.write(TWO_CLAIMS.read_bytes()[500:])
        upload.flush()
        # its size changed since the last look: still not taken
        assert scan_once(service, actors, boxes.root, completeness, now=5.0) == []
    assert scan_once(service, actors, boxes.root, completeness, now=5.5) == []
    assert len(scan_once(service, actors, boxes.root, completeness, now=7.0)) == 1


def test_a_partner_named_as_an_account_of_the_machine_takes_nothing_of_it(
        tmp_path: Path) -> None:
    """A partner called ``postgres`` or ``redis`` took that account over: its password
    reset, the partner's key installed, and (the account not in the partners' group)
    none of the SFTP-only rules: a shell or port forwarding into the machine's services.
    Removing the partner then deleted the account."""
    import pwd

    from store.engine import sqlite_url
    from workers.partners import PartnerError

    _require_sshd()
    tag = uuid.uuid4().hex[:6]
    name = f"svc-{tag}"  # stands for postgres: an account with its own group
    subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell",
                    "/bin/bash", name], check=True, capture_output=True)
    try:
        before = subprocess.run(["getent", "shadow", name], capture_output=True,
                                text=True).stdout
        (tmp_path / "db").mkdir()
        url = sqlite_url(tmp_path / "db")
        upgrade(url)
        store = Store(url)
        key = _keypair(tmp_path, "k")
        keys = tmp_path / "keys"
        try:
            with pytest.raises(PartnerError, match="no SFTP partner's"):
                add_partner(store, tmp_path / "mailboxes", name, qualifier="ZZ",
                            sender_id="SVC1", now=datetime.now(tz=UTC),
                            key=key.with_suffix(".pub"), system=True, keys=keys)
            assert not (tmp_path / "mailboxes" / name).exists() and not (keys / name).exists()
            # a partner row of that name made without --system, then removed with it
            add_partner(store, tmp_path / "mailboxes", name, qualifier="ZZ",
                        sender_id="SVC1", now=datetime.now(tz=UTC))
            remove_partner(store, tmp_path / "mailboxes", name, system=True, keys=keys)
        finally:
            store.dispose()
        assert pwd.getpwnam(name).pw_shell == "/bin/bash"  # still there, as it was
        assert subprocess.run(["getent", "shadow", name], capture_output=True,
                              text=True).stdout == before
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


def _effective(config: Path, user: str) -> dict[str, str]:
    """sshd's settings for a connection by ``user`` under ``config`` (``sshd -T -C``)."""
    shown = subprocess.run([str(SSHD), "-T", "-f", str(config), "-C",
                            f"user={user},host=client,addr=127.0.0.1"],
                           capture_output=True, text=True, check=True).stdout
    return dict(line.split(" ", 1) for line in shown.splitlines() if " " in line)


def test_the_sshd_block_confines_partners_and_changes_nothing_for_other_accounts(
        tmp_path: Path) -> None:
    """The keys file and the password settings were global: once the block was appended
    to sshd_config, root's and every operator's ~/.ssh/authorized_keys were ignored."""
    from store.engine import sqlite_url

    _require_sshd()
    tag = uuid.uuid4().hex[:6]
    host_key = _keypair(tmp_path, "host")
    config = tmp_path / "sshd_config"
    mailboxes, keys = Path(f"/srv/edi-test-{tag}"), tmp_path / "keys"
    config.write_text(f"HostKey {host_key}\n" + sshd_config_block(mailboxes, keys))
    (tmp_path / "db").mkdir()
    url = sqlite_url(tmp_path / "db")
    upgrade(url)
    store = Store(url)
    name = f"edi-t-{tag}"
    try:
        add_partner(store, mailboxes, name, qualifier="ZZ", sender_id=f"T{tag}".upper(),
                    now=datetime.now(tz=UTC), key=_keypair(tmp_path, "k").with_suffix(".pub"),
                    system=True, keys=keys)
        import grp
        import stat

        for folder in (mailboxes / name, mailboxes / name / "outbound"):  # the group reads
            held = folder.stat()
            assert (stat.S_IMODE(held.st_mode), held.st_uid) == (0o750, 0)
            assert grp.getgrgid(held.st_gid).gr_name == "edi-sftp"
        partner, root = _effective(config, name), _effective(config, "root")
        assert partner["authorizedkeysfile"] == f"{keys}/%u"
        assert partner["chrootdirectory"] == f"{mailboxes}/%u"
        assert (partner["passwordauthentication"], partner["disableforwarding"]) == ("no", "yes")
        assert root["authorizedkeysfile"] == ".ssh/authorized_keys .ssh/authorized_keys2"
        assert (root["chrootdirectory"], root["passwordauthentication"]) == ("none", "yes")
    finally:
        remove_partner(store, mailboxes, name, system=True, keys=keys)
        store.dispose()
        shutil.rmtree(mailboxes, ignore_errors=True)
