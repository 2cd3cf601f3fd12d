"""Alembic environment: the URL comes from the config `store.migrate` builds."""

from __future__ import annotations

from alembic import context

from store.engine import make_engine
from store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None
engine = make_engine(url)
sqlite = engine.dialect.name == "sqlite"
with engine.connect() as connection:
    if sqlite:
        # a batch migration copies a table and drops the old one, which SQLite refuses
        # while other tables' foreign keys point at it: the checks are off for the
        # migration (the pragma only takes effect outside a transaction), and every
        # key is checked once before it commits
        connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
            "PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=sqlite)
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
            raise RuntimeError("the migration left a foreign key pointing at no row")
engine.dispose()
