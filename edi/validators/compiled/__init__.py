"""The 837P and 835 implementation guides compiled from pyx12's maps into tables, and
their walker.

- `compiler`: pyx12's control map and one transaction map (X222A1 for the 837P,
  X221A1 for the 835), data elements and code sets -> tables;
- `cache`: the tables on disk, one file a transaction map, keyed by pyx12's version
  and its files' SHA-256 (the only module here that does I/O);
- `walker`, `elements`, `source`, `errtree`: pyx12's walk, element checks, reader
  bookkeeping and error tree over the tables;
- `check.check_stream`: the same interface and verdicts as
  `edi.validators.implementation_guide.check_stream`; the engine's path for every
  inbound file (the steps, `claims process`, the service, the fuzz suite, the benches)
  and for every 835 a payment cycle writes (`edi.validators.outbound`).
"""

from edi.validators.compiled.check import check_stream, compiled_map

__all__ = ["check_stream", "compiled_map"]
