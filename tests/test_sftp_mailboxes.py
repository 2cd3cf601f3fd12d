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
