"""The store: every file, claim, decision and control number in one database.

SQLAlchemy 2 models (`store.models`), Alembic migrations (`store.migrations`), one
transaction per pipeline step (`store.engine.Store.transaction`). SQLite is the
embedded default, PostgreSQL the production engine (``EDI_DATABASE_URL``).
"""
