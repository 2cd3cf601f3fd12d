"""Where the ICD-10-CM releases come from: two packaged releases and CMS order files.

Packaged releases (loaded by `default_registry`, no configuration needed)
    FY2025, effective 2024-10-01: ``data/icd10cm-fy2025-april-2025.txt.xz`` beside this
    module, the 74,260 billable codes of the CMS April 1, 2025 update of FY2025, taken
    from ``simple-icd-10-cm`` 1.4.0 (see ``data/README.md`` for how it was made).

    FY2026, effective 2025-10-01: the installed ``simple-icd-10-cm`` 1.5's
    ``data/code-list-April-2026.txt``, the CMS April 1, 2026 update of FY2026 (74,719
    billable codes). The list is read directly, without importing the package (whose
    import parses a 9.7 MB XML file, about two seconds). It is the classification in
    depth-first order, so a code is a leaf (billable) exactly when the next line does
    not extend it; the tests check this against ``simple_icd_10_cm.is_leaf``.

    Each April file stands for its whole fiscal year. Neither April update changed a
    diagnosis code: both counts equal CMS's totals for the October release.

CMS order files (an operator's directory: ``claims process --code-sets DIR``)
    `registry_from_directory` adds every CMS order file in a directory to the packaged
    releases. CMS's own name gives the fiscal year, effective October 1 of the year
    before: ``icd10cm_order_2027.txt`` (or ``icd10cm-order-2027.txt``) is FY2027,
    effective 2026-10-01. A name with a date, ``icd10cm-order-2026-04-01.txt``, takes
    effect on that date (use it for an April update). A file taking effect on the day
    a packaged release does replaces it. Other files in the directory (the CMS
    "codes" file, addenda, a README) are ignored.

Everything here reads files; `icd10` is the pure part.
"""

from __future__ import annotations

import importlib.util
import lzma
import os
import re
from collections.abc import Iterable
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from edi.validators.codesets.icd10 import (
    CODE_SHAPE,
    CodeSetRegistry,
    CodeSetRelease,
    fiscal_year,
)

FY2025_RELEASE_NAME = "ICD-10-CM FY2025 (April 2025 update)"
FY2025_RELEASE_EFFECTIVE = date(2024, 10, 1)
FY2026_RELEASE_NAME = "ICD-10-CM FY2026 (April 2026 update)"
FY2026_RELEASE_EFFECTIVE = date(2025, 10, 1)

_DATA = Path(__file__).resolve().parent / "data"
_FY2025_CODES = _DATA / "icd10cm-fy2025-april-2025.txt.xz"
_PACKAGE = "simple_icd_10_cm"
_PACKAGE_CODE_LIST = ("data", "code-list-April-2026.txt")

# ICD-10-CM: a letter, a digit, then up to five more letters or digits (3 to 7 in all).
_FISCAL_YEAR_NAME = re.compile(r"icd10cm[-_]order[-_](\d{4})\.txt", re.IGNORECASE)
_DATED_NAME = re.compile(r"icd10cm[-_]order[-_](\d{4}-\d{2}-\d{2})\.txt", re.IGNORECASE)


# CMS order files


def is_order_file_name(file_name: str) -> bool:
    """Whether ``file_name`` looks like an ICD-10-CM order file (``icd10cm*order*.txt``)."""
    lowered = file_name.lower()
    return lowered.startswith("icd10cm") and "order" in lowered and lowered.endswith(".txt")


def effective_date_from_file_name(file_name: str) -> date:
    """The first date of service an order file governs, from its name.

    ``icd10cm_order_2027.txt`` (CMS's name; ``-`` may replace ``_``) is FY2027,
    effective 2026-10-01; ``icd10cm-order-2026-04-01.txt`` takes effect on its date.
    Any other name raises `ValueError`.
    """
    if (match := _FISCAL_YEAR_NAME.fullmatch(file_name)) is not None:
        return date(int(match.group(1)) - 1, 10, 1)
    if (match := _DATED_NAME.fullmatch(file_name)) is None:
        raise ValueError(
            f"{file_name!r} is named neither icd10cm_order_<FY>.txt nor "
            "icd10cm-order-<YYYY-MM-DD>.txt"
        )
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
    if CODE_SHAPE.fullmatch(code) is None:
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


def release_name(effective: date, file_name: str) -> str:
    """How a release read from ``file_name`` is named in findings."""
    return f"ICD-10-CM FY{fiscal_year(effective)} effective {effective.isoformat()} ({file_name})"


def registry_from_directory(
    directory: Path | str, *, defaults: Iterable[CodeSetRelease] | None = None
) -> CodeSetRegistry:
    """The packaged releases (or ``defaults``) plus every CMS order file in ``directory``.

    Raises `NotADirectoryError` for a missing directory and `ValueError` for an order
    file whose name gives no effective date, whose content is not an order file, or
    that takes effect on the same day as another file of the directory, and for an
    order file's name on what is no file (a directory: before 2026-12-02 it was passed
    over, and the release the operator meant to load was silently not loaded).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise NotADirectoryError(f"no ICD-10-CM release directory at {folder}")
    files = tuple(path for path in sorted(folder.iterdir()) if is_order_file_name(path.name))
    for path in files:
        if not path.is_file():
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise ValueError(f"{path.name} is {kind}, not an ICD-10-CM order file")
    if defaults is not None:
        return _registry(files, tuple(defaults))
    seen = tuple((path.absolute(), (stat := path.stat()).st_size, stat.st_mtime_ns)
                 for path in files)
    return _with_packaged(seen)


@lru_cache(maxsize=4)
def _with_packaged(files: tuple[tuple[Path, int, int], ...]) -> CodeSetRegistry:
    """The packaged releases plus these order files, remembered by each file's path,
    size and modification time (a process that reads one directory again, as each
    ``claims`` command of a test run does, parses its 74,000 lines once)."""
    return _registry(tuple(path for path, _size, _modified in files), packaged_releases())


def _registry(files: tuple[Path, ...], base: tuple[CodeSetRelease, ...]) -> CodeSetRegistry:
    by_date = {release.effective: release for release in base}
    from_files: dict[date, str] = {}
    for path in files:
        effective = effective_date_from_file_name(path.name)
        if effective in from_files:
            raise ValueError(
                f"{from_files[effective]!r} and {path.name!r} both take effect on "
                f"{effective.isoformat()}"
            )
        from_files[effective] = path.name
        by_date[effective] = load_cms_order_file(
            path, release_name(effective, path.name), effective
        )
    return CodeSetRegistry(by_date.values())


# Packaged releases


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
            f"{path} is missing: the FY2026 release expects {_PACKAGE} 1.5 "
            "(CMS April 1, 2026 update of FY2026)"
        )
    return path


def read_billable_code_file(path: Path) -> frozenset[str]:
    """The codes of an xz-compressed list, one a line; ``#`` lines are comments."""
    with lzma.open(path, "rt", encoding="ascii") as stream:
        lines = [line.strip() for line in stream]
    codes = frozenset(line for line in lines if line and not line.startswith("#"))
    malformed = next((code for code in codes if CODE_SHAPE.fullmatch(code) is None), None)
    if malformed is not None or not codes:
        raise ValueError(f"{path.name}: not a list of ICD-10-CM codes")
    return codes


@cache
def load_fy2025_release() -> CodeSetRelease:
    """FY2025 (CMS April 2025 update), from the data file shipped with this package."""
    codes = read_billable_code_file(_FY2025_CODES)
    return CodeSetRelease(FY2025_RELEASE_NAME, FY2025_RELEASE_EFFECTIVE, codes)


@cache
def load_fy2026_release() -> CodeSetRelease:
    """FY2026 (CMS April 2026 update), built from ``simple_icd_10_cm``'s code list."""
    text = package_code_list_path().read_text(encoding="utf-8")
    codes = billable_codes_from_code_list(text.splitlines())
    return CodeSetRelease(FY2026_RELEASE_NAME, FY2026_RELEASE_EFFECTIVE, codes)


def packaged_releases() -> tuple[CodeSetRelease, ...]:
    """The releases that need no configuration: FY2025 and FY2026."""
    return load_fy2025_release(), load_fy2026_release()


CODE_SETS_DIR_VARIABLE = "EDI_CODE_SETS_DIR"
"""The environment variable naming a directory of CMS order files to load besides the
packaged releases (the service's, the review screens' and ``claims`` commands')."""


@cache
def default_registry() -> CodeSetRegistry:
    """The releases this process runs with: the packaged ones, plus the CMS order files
    in the directory `CODE_SETS_DIR_VARIABLE` names when it is set. Built once per
    process (an unreadable directory or order file raises, as `registry_from_directory`)."""
    directory = os.environ.get(CODE_SETS_DIR_VARIABLE)
    return registry_from_directory(directory) if directory else packaged_registry()


@cache
def packaged_registry() -> CodeSetRegistry:
    """A registry of the packaged releases only (FY2025 and FY2026)."""
    return CodeSetRegistry(packaged_releases())


def loadable_code_sets_dir(directory: Path | None) -> Path | None:
    """``directory`` when its order files load (`registry_from_directory`, whose answer
    is remembered for the process that then uses it), for a setting: `ValueError`
    otherwise, so a service or screen refuses a bad ``EDI_CODE_SETS_DIR`` as it starts."""
    if directory is not None:
        try:
            registry_from_directory(directory)
        except OSError as exc:
            raise ValueError(f"no ICD-10-CM release directory to read ({exc})") from None
    return directory


CodeSetsDirectory = Annotated[Path | None, AfterValidator(loadable_code_sets_dir)]
"""A setting naming a directory of order files (`loadable_code_sets_dir`)."""


def code_set_registry(directory: Path | str | None) -> CodeSetRegistry:
    """The packaged releases plus the order files in ``directory``, when one is named."""
    return default_registry() if directory is None else registry_from_directory(directory)
