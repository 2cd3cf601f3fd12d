"""Files the engine writes: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO, TypeVar

from pydantic import AfterValidator

from edi.validators.codesets.icd10_files import CodeSetsDirectory

T = TypeVar("T")


@contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write to a temporary name beside ``path``, fsync, rename: a reader (a partner's
    mailbox, a tool reading summary.json) never sees half a file, and a crash leaves
    the old file or the new one. UTF-8 whatever the machine's locale, as the archive
    keeps every document (`workers.archive.archive_text`): a copy is the same bytes."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def copy_atomically(source: Path, path: Path) -> None:
    """A kept document (an archived 277CA or 835: tens of MB) copied to ``path`` in
    blocks, never held whole, and seen there whole or not at all."""
    with source.open(encoding="utf-8", newline="") as kept, atomic_text(path) as out:
        for block in iter(lambda: kept.read(1 << 20), ""):
            out.write(block)


STEM_BYTES = 120
"""At most this much of an input's name (UTF-8 bytes) starts its answers' names."""


def answer_stem(name: str, sha: str) -> str:
    """``<stem>-<first 12 of sha256>``, what every answer to a received file is named
    by (`claims process` and the service's deliveries alike): two inputs never share it
    (different bytes, different hash), and the stem is cut to `STEM_BYTES` so a long
    input name (a file system allows 255 bytes) never makes an answer's name too long."""
    stem = Path(name).stem.encode("utf-8", "surrogateescape")[:STEM_BYTES].decode(
        "utf-8", "ignore") or "file"
    return f"{stem}-{sha[:12]}"


def is_utf8(text: str) -> bool:
    """Whether ``text`` is UTF-8 as it came. A byte of the command line, the environment
    or a file name that no encoding decoded reaches Python as a lone surrogate, which a
    database driver, a socket, a log line or a file written as UTF-8 cannot carry
    (`shown` makes such a name printable instead)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf8_setting(value: T) -> T:
    """A setting's value read from the environment (a path, a URL) when it is UTF-8 text
    (`is_utf8`); a ValueError otherwise, which never quotes it: the command line says
    which variable holds it, a usage error (exit 2). The service's EDI_ARCHIVE_DIR,
    EDI_OUTBOUND_DIR, EDI_MAILBOXES, EDI_CODE_SETS_DIR and EDI_REDIS_URL were taken as
    they came before 2026-12-02, where the command line's options were checked."""
    if value is not None and not is_utf8(str(value)):
        raise ValueError("holds a byte that is not UTF-8")
    return value


Utf8Path = Annotated[Path, AfterValidator(utf8_setting)]
"""A path setting that is UTF-8 text (`utf8_setting`)."""

Utf8CodeSetsDirectory = Annotated[CodeSetsDirectory, AfterValidator(utf8_setting)]
"""EDI_CODE_SETS_DIR as the service and the review screens read it: a directory of
order files (`loadable_code_sets_dir`) whose name is UTF-8 text (`utf8_setting`)."""


def shown(text: str) -> str:
    """Text as it may be written anywhere (JSON, the store, a page): bytes a file
    system allowed in a name but that are no UTF-8, which Python carries as surrogates,
    become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def stored_name(name: str) -> str:
    """A received file's name as the store keeps it (`shown`), its last 255 characters.
    A name is only shown to people; the bytes are kept by their sha256."""
    return shown(name).replace("\x00", "")[-255:]
