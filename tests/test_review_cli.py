"""`claims user add` and `claims review`'s store handling: users from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from store.engine import Store, sqlite_url
from store.models import AuditEntry, ReviewUser
from workers.cli import app

runner = CliRunner()


def test_a_user_is_added_with_an_argon2_hash_from_stdin_and_audited(tmp_path: Path) -> None:
    added = runner.invoke(app, ["user", "add", "dana", "--role", "Analyst", "--password-stdin",
                                "--release-limit", "2500", "--out", str(tmp_path)],
                          input="a long enough password\n")
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list", "--out", str(tmp_path)])
    assert listed.output.split() == ["dana", "analyst"]
    store = Store(sqlite_url(tmp_path))
    try:
        with store.transaction() as s:
            user = s.scalar(select(ReviewUser))
            audit = s.scalar(select(AuditEntry))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert "a long enough password" not in user.password_hash
        assert user.release_limit_cents == 250000
        assert audit is not None and (audit.action, audit.subject) == ("user.add", "dana")
    finally:
        store.dispose()


def test_a_bad_role_a_short_password_or_a_taken_name_is_a_usage_error(tmp_path: Path) -> None:
    def add(name: str, role: str, password: str) -> int:
        return runner.invoke(app, ["user", "add", name, "--role", role, "--password-stdin",
                                   "--out", str(tmp_path)], input=password + "\n").exit_code

    assert add("sam", "root", "a long enough password") == 2
    assert add("sam", "viewer", "short") == 2
    assert add("sam", "viewer", "a long enough password") == 0
    assert add("sam", "admin", "a long enough password") == 2
    assert add("bad name!", "viewer", "a long enough password") == 2
    for limit in ("NaN", "Infinity", "1e999", "-5", "2500.005", "lots"):
        refused = runner.invoke(app, ["user", "add", "lim", "--role", "analyst",
                                      "--release-limit", limit, "--password-stdin",
                                      "--out", str(tmp_path)], input="a long enough password\n")
        assert refused.exit_code == 2 and refused.exception is not None, limit
        assert "release limit" in refused.output.lower().replace("-", " "), refused.output
        assert "Traceback" not in refused.output
    locked = runner.invoke(app, ["user", "lock", "sam", "--out", str(tmp_path)])
    assert locked.exit_code == 0 and "locked" in locked.output
    assert runner.invoke(app, ["user", "lock", "nobody", "--out", str(tmp_path)]).exit_code == 2
    undecoded = runner.invoke(app, ["user", "lock", "sam\udcff", "--out", str(tmp_path)])
    assert undecoded.exit_code == 2 and "no user by that name" in undecoded.output


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    import ipaddress
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(tz=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize(("env", "host", "says"), [
    ({"EDI_REVIEW_PAGE_SIZE": "0"}, "127.0.0.1", "not a valid value: EDI_REVIEW_PAGE_SIZE"),
    ({"EDI_REVIEW_LOCK_AFTER": "-1"}, "127.0.0.1",
     "not a valid value: EDI_REVIEW_LOCK_AFTER"),
    ({"EDI_REVIEW_ANALYST_RELEASE_LIMIT": "1.005"}, "127.0.0.1",
     "not a valid value: EDI_REVIEW_ANALYST_RELEASE_LIMIT"),
    ({"EDI_BUSINESS_TIMEZONE": "Nowhere/Else"}, "127.0.0.1",
     "not a valid value: EDI_BUSINESS_TIMEZONE"),
    ({"EDI_CODE_SETS_DIR": "/nonexistent/releases"}, "127.0.0.1",
     "not a valid value: EDI_CODE_SETS_DIR"),  # was a NotADirectoryError traceback
    ({}, "999.1.1.1", "--host: not a host name or address this machine resolves"),
])
def test_review_says_a_bad_setting_or_host_before_it_serves(
        tmp_path: Path, env: dict[str, str], host: str, says: str) -> None:
    result = runner.invoke(app, ["review", "--out", str(tmp_path), "--host", host,
                                 "--port", "1"], env=env)
    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2 and says in said, said
    assert "Review screens at" not in said


def test_review_says_a_missing_or_unusable_tls_file_is_a_usage_error(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)

    def review(*options: str) -> tuple[int, str]:
        result = runner.invoke(app, ["review", "--out", str(tmp_path), "--port", "1",
                                     *options])
        return result.exit_code, " ".join(result.output.replace("│", " ").split())

    code, said = review("--ssl-keyfile", str(tmp_path / "missing.pem"),
                        "--ssl-certfile", str(cert))
    assert code == 2 and "--ssl-keyfile" in said and "does not exist" in said
    code, said = review("--ssl-certfile", str(cert))
    assert code == 2 and "give both --ssl-keyfile and --ssl-certfile" in said
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key\n")
    code, said = review("--ssl-keyfile", str(garbage), "--ssl-certfile", str(cert))
    assert code == 2 and "do not load as a PEM pair" in said
    code, said = review("--ssl-keyfile", str(cert), "--ssl-certfile", str(key))
    assert code == 2 and "do not load as a PEM pair" in said
    code, said = review("--ssl-keyfile", str(tmp_path), "--ssl-certfile", str(cert))
    assert code == 2 and "is a directory" in said


def test_review_serves_https_with_a_real_self_signed_certificate(tmp_path: Path) -> None:
    import socket
    import ssl
    import subprocess
    import sys
    import time

    import httpx

    assert runner.invoke(app, ["user", "add", "dana", "--role", "viewer", "--password-stdin",
                               "--out", str(tmp_path)],
                         input="a long enough password\n").exit_code == 0
    cert, key = _self_signed(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "claims"), "review", "--out", str(tmp_path),
         "--port", str(port), "--ssl-keyfile", str(key), "--ssl-certfile", str(cert)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/login", verify=trusted)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert answer.status_code == 200 and 'name="csrf_token"' in answer.text
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        assert "secure" in answer.headers["set-cookie"].lower()
        # the certificate is what it serves: a client that trusts nothing else refuses
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"https://127.0.0.1:{port}/login", verify=True)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/login")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert f"Review screens at https://127.0.0.1:{port}/" in output


@pytest.mark.parametrize(("host", "address"), [("::1", "[::1]"), ("127.0.0.1", "127.0.0.1")])
def test_review_prints_the_address_it_serves_as_a_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str, address: str) -> None:
    """An IPv6 address was printed bare (``http://::1:8000/``), no URL a browser opens."""
    import socket

    import uvicorn

    served: list[object] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: served.append(server))
    assert runner.invoke(app, ["migrate", "--out", str(tmp_path)]).exit_code == 0
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    result = runner.invoke(app, ["review", "--out", str(tmp_path), "--host", host,
                                 "--port", str(port)])
    assert result.exit_code == 0 and len(served) == 1, result.output
    assert f"Review screens at http://{address}:{port}/" in result.output
