"""A scratch schema on a PostgreSQL server: an empty store for a test or a benchmark.

Connections made with the URL it yields use a fresh schema of their own (through
``search_path``), dropped with everything in it when the block ends, so runs side by
side on one database never see each other's rows. The tests and the store benchmarks
use the machine's server, ``SERVER`` (``EDI_TEST_POSTGRES_URL`` overrides it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

SERVER = os.environ.get("EDI_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_schema(server_url: str) -> Iterator[str]:
    """A URL for ``server_url`` whose connections use a new, empty schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in server_url else "?"
        try:
            yield f"{server_url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
