"""ICD-10-CM code sets keyed by effective date: which codes are billable on a date of service.

A claim's diagnoses are checked against the code set in force on the date of service
(DTP*472), not on the day the claim arrives: a code valid in one fiscal year may be
deleted or expanded in the next (DOMAIN.md section 3).

Releases
    A `CodeSetRelease` is one CMS release: a name, the first date of service it governs,
    and its billable codes (the leaves of the classification, "valid for HIPAA-covered
    transactions"), upper case, without the dot. A `CodeSetRegistry` holds several
    releases; the one in force on a date is the newest whose effective date is on or
    before that date.

The default release
    ``simple_icd_10_cm`` 1.5.0 ships one code set: the CMS April 1, 2026 update of FY2026.
    ICD-10-CM is released per federal fiscal year, and a fiscal year starts on October 1,
    so FY2026 governs dates of service from 2025-10-01 to 2026-09-30. The package has no
    history (no October 2025 file), so its April file is treated as the content of the
    whole FY2026 and made effective 2025-10-01. The price is small and lenient: a code
    the April update added is accepted for dates of service from October to March too.
    An operator who needs the exact split loads the October file as
    ``icd10cm-order-2025-10-01.txt`` (it replaces the default) and the April file as
    ``icd10cm-order-2026-04-01.txt``.

    The default set is built by reading the package's code-list file directly, without
    importing ``simple_icd_10_cm`` (whose import parses a 9.7 MB XML file, about two
    seconds). The list is the classification in depth-first order, so a code is a leaf
    exactly when the next line does not extend it; the tests check this against
    ``simple_icd_10_cm.is_leaf`` for every code. It is built once per process
    (`default_registry`).

Dates of service before the oldest release
    No release is loaded for them (before 2025-10-01 by default). Rather than reject a
    claim for lack of our own data, `CodeSetRegistry.is_billable` accepts the code and
    names `NO_RELEASE_LOADED` as the release that decided, so the finding trail shows
    that nothing was checked. Load the older CMS order files to check those dates.

Newer releases
    `load_cms_order_file` reads a CMS "order" file (the public fixed-width format; see
    `parse_cms_order_lines`) and `CodeSetRegistry.from_directory` loads every file named
    ``icd10cm-order-<YYYY-MM-DD>.txt`` in a directory, keyed by the date in its name, on
    top of the default. For example FY2027, effective 2026-10-01, is
    ``icd10cm-order-2026-10-01.txt``. See docs/code-sets.md.

File reading happens only in `load_cms_order_file`, `load_default_release`,
`default_registry` and `CodeSetRegistry.from_directory`; everything else is pure.
"""

from __future__ import annotations

import bisect
import importlib.util
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

NO_RELEASE_LOADED = "no release loaded for this date"
DEFAULT_RELEASE_NAME = "ICD-10-CM FY2026 (April 2026 update)"
DEFAULT_RELEASE_EFFECTIVE = date(2025, 10, 1)
ORDER_FILE_GLOB = "icd10cm-order-*.txt"

_ORDER_FILE_NAME = re.compile(r"icd10cm-order-(\d{4}-\d{2}-\d{2})\.txt")
# ICD-10-CM: a letter, a digit, then up to five more letters or digits (3 to 7 in all).
_ICD10CM_CODE = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")
_PACKAGE = "simple_icd_10_cm"
_PACKAGE_CODE_LIST = ("data", "code-list-April-2026.txt")


def normalize_code(code: str) -> str:
    """``code`` as the code sets hold it: no surrounding blanks, no dot, upper case."""
    return code.strip().replace(".", "").upper()


@dataclass(frozen=True, slots=True)
class CodeSetRelease:
    """One ICD-10-CM release: its billable codes and the first date of service it governs."""

    name: str
    effective: date
    codes: frozenset[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.codes)


class BillableCheck(NamedTuple):
    """Whether a code is billable on a date, and the name of the release that decided."""

    billable: bool
    release: str


class CodeSetRegistry:
    """ICD-10-CM releases ordered by effective date; answers for a date of service."""

    __slots__ = ("_effective", "_releases")

    def __init__(self, releases: Iterable[CodeSetRelease]) -> None:
        ordered = tuple(sorted(releases, key=lambda release: release.effective))
        for earlier, later in pairwise(ordered):
            if earlier.effective == later.effective:
                raise ValueError(
                    f"two releases take effect on {later.effective.isoformat()}: "
                    f"{earlier.name!r} and {later.name!r}"
                )
        self._releases = ordered
        self._effective = [release.effective for release in ordered]

    @property
    def releases(self) -> tuple[CodeSetRelease, ...]:
        """The releases, oldest first."""
        return self._releases

    def release_for(self, service_date: date) -> CodeSetRelease | None:
        """The newest release effective on or before ``service_date``, if any."""
        index = bisect.bisect_right(self._effective, service_date)
        return self._releases[index - 1] if index else None

    def is_billable(self, code: str, service_date: date) -> BillableCheck:
        """Whether ``code`` is a billable ICD-10-CM code on ``service_date``.

        ``code`` is compared without its dot, in upper case (``F41.1`` is ``F411``).
        When no release covers the date, the code is accepted and the deciding release
        is `NO_RELEASE_LOADED`: we do not reject a claim for lack of our own data.
        """
        release = self.release_for(service_date)
        if release is None:
            return BillableCheck(True, NO_RELEASE_LOADED)
        return BillableCheck(normalize_code(code) in release.codes, release.name)

    @classmethod
    def from_directory(
        cls, directory: Path | str, *, default: CodeSetRelease | None = None
    ) -> CodeSetRegistry:
        """The default release plus every ``icd10cm-order-<YYYY-MM-DD>.txt`` in ``directory``.

        Each file takes effect on the date in its name. A file dated like the default
        release replaces it. ``default`` is the package release unless given. Raises
        `NotADirectoryError` for a missing directory and `ValueError` for a file whose
        name carries no valid date or whose content is not an order file.
        """
        folder = Path(directory)
        if not folder.is_dir():
            raise NotADirectoryError(f"no ICD-10-CM release directory at {folder}")
        base = default if default is not None else load_default_release()
        by_date = {base.effective: base}
        for path in sorted(folder.glob(ORDER_FILE_GLOB)):
            effective = effective_date_from_file_name(path.name)
            name = f"ICD-10-CM effective {effective.isoformat()} ({path.name})"
            by_date[effective] = load_cms_order_file(path, name, effective)
        return cls(by_date.values())


def effective_date_from_file_name(file_name: str) -> date:
    """The date in ``icd10cm-order-<YYYY-MM-DD>.txt``; `ValueError` for any other name."""
    match = _ORDER_FILE_NAME.fullmatch(file_name)
    if match is None:
        raise ValueError(f"{file_name!r} is not named icd10cm-order-<YYYY-MM-DD>.txt")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError as error:
        raise ValueError(f"{file_name!r} carries no valid date: {error}") from None


def parse_cms_order_lines(lines: Iterable[str], source: str = "order file") -> frozenset[str]:
    """The billable codes of a CMS ICD-10-CM order file, given its lines.

    The order file is fixed width (CMS "ICD-10-CM and ICD-10-PCS order files"):

    ========  ======  ==================================================================
    columns   width   content
    ========  ======  ==================================================================
    1-5       5       order number, right justified, zero filled
    6         1       blank
    7-13      7       code, no dot, left justified, blank filled
    14        1       blank
    15        1       ``0`` header (not valid on a claim), ``1`` valid for HIPAA-covered
                      transactions (billable)
    16        1       blank
    17-76     60      short description
    77        1       blank
    78-       any     long description
    ========  ======  ==================================================================

    Only columns 1-15 are read. Blank lines are skipped; any other line that does not
    fit the layout raises `ValueError` naming ``source`` and the line number, as does
    a file with no billable code (most likely the wrong file).
    """
    codes: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        code, flag = _parse_order_line(line)
        if code is None:
            raise ValueError(f"{source}: line {number} is not an ICD-10-CM order record")
        if flag == "1":
            codes.add(code)
    if not codes:
        raise ValueError(f"{source}: no billable code (header flag 1) found")
    return frozenset(codes)


def _parse_order_line(line: str) -> tuple[str | None, str]:
    """(code, flag) of one order record, or (None, "") when it does not fit the layout."""
    if len(line) < 15 or line[5] != " " or line[13] != " ":
        return None, ""
    order, code, flag = line[0:5], line[6:13].rstrip(), line[14]
    if not (order.isascii() and order.isdigit()) or flag not in ("0", "1"):
        return None, ""
    if _ICD10CM_CODE.fullmatch(code) is None:
        return None, ""
    return code, flag


def load_cms_order_file(path: Path | str, name: str, effective: date) -> CodeSetRelease:
    """Read a CMS order file into a release called ``name``, in force from ``effective``.

    The file is decoded as Latin-1, which accepts any byte: only the ASCII columns 1-15
    are read, so the encoding of the descriptions does not matter.
    """
    source = Path(path)
    text = source.read_bytes().decode("latin-1")
    return CodeSetRelease(name, effective, parse_cms_order_lines(text.splitlines(), source.name))


def billable_codes_from_code_list(lines: Iterable[str]) -> frozenset[str]:
    """The leaves of ``simple_icd_10_cm``'s code list, without dots.

    The list holds every item of the classification in depth-first order, one a line:
    chapter numbers (``5``), blocks (``F30-F39``), then categories and their
    subdivisions (``F32``, ``F320``, ``F32A``). Children follow their parent and extend
    its code, so a code is a leaf (billable) exactly when the next line does not start
    with it. Chapters and blocks are not codes and are skipped.
    """
    items = [item for item in (line.strip().replace(".", "") for line in lines) if item]
    leaves: set[str] = set()
    for index, item in enumerate(items):
        if item.isdigit() or "-" in item:
            continue
        following = items[index + 1] if index + 1 < len(items) else ""
        if not following.startswith(item):
            leaves.add(item.upper())
    return frozenset(leaves)


def package_code_list_path() -> Path:
    """Where ``simple_icd_10_cm`` keeps its code list, found without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {_PACKAGE} package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_PACKAGE_CODE_LIST)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the default release expects {_PACKAGE} 1.5 "
            "(CMS April 1, 2026 update of FY2026)"
        )
    return path


@cache
def load_default_release() -> CodeSetRelease:
    """The FY2026 release built from ``simple_icd_10_cm``'s data, once per process."""
    text = package_code_list_path().read_text(encoding="utf-8")
    codes = billable_codes_from_code_list(text.splitlines())
    return CodeSetRelease(DEFAULT_RELEASE_NAME, DEFAULT_RELEASE_EFFECTIVE, codes)


@cache
def default_registry() -> CodeSetRegistry:
    """A registry holding only the default release, built once per process."""
    return CodeSetRegistry([load_default_release()])
