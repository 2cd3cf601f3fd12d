"""Store settings from the environment (prefix ``EDI_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDI_", extra="ignore")

    database_url: str | None = None
    """``postgresql+psycopg://...`` in production; None: SQLite in the output directory."""
