"""The 837P implementation guide compiled from pyx12's maps into tables, and its walker.

- `compiler`: pyx12's control and X222A1 maps, data elements and code sets -> tables;
- `cache`: the tables on disk, keyed by pyx12's version and its files' SHA-256 (the
  only module here that does I/O);
- `walker`, `elements`, `source`, `errtree`: pyx12's walk, element checks, reader
  bookkeeping and error tree over the tables;
- `check.check_stream`: the same interface and verdicts as
  `edi.validators.implementation_guide.check_stream`; the engine's path for every
  inbound file (the steps, `claims process`, the service, the fuzz suite, the benches).
"""

from edi.validators.compiled.check import check_stream, covers

__all__ = ["check_stream", "covers"]
