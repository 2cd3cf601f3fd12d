"""Review settings from the environment (prefix ``EDI_REVIEW_``)."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from edi.amounts import MAX_AMOUNT
from edi.validators.codesets.icd10_files import CODE_SETS_DIR_VARIABLE
from workers.files import Utf8CodeSetsDirectory, Utf8Path
from workers.receipt import DEFAULT_BUSINESS_TIMEZONE, BusinessTimezone, business_zone


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDI_REVIEW_", extra="ignore")

    archive_dir: Utf8Path | None = None
    """Where received files, 277CAs and 835s are kept (downloads, payment cycles);
    ``claims review`` sets it from --archive, EDI_ARCHIVE_DIR or --out DIR/archive."""
    idle_minutes: int = Field(default=30, ge=1)
    """A session unused this long is over: sign in again."""
    session_hours: int = Field(default=12, ge=1)
    """A session ends this long after sign-in, used or not."""
    secure_cookies: bool = True
    """Cookies only over HTTPS (browsers treat http://localhost as secure too)."""
    analyst_release_limit: Decimal = Field(default=Decimal("1000.00"), ge=0, le=MAX_AMOUNT,
                                           decimal_places=2)
    """The most an analyst may release a pend to pay, unless the user row says otherwise."""
    lock_after: int = Field(default=5, ge=1)
    """Failed sign-ins in a row that lock an account..."""
    lock_minutes: int = Field(default=15, ge=1)
    """...for this long."""
    page_size: int = Field(default=50, ge=1, le=1000)
    """Claims a queue page shows (1 to 1,000)."""
    code_sets_dir: Utf8CodeSetsDirectory = Field(
        default=None, validation_alias=AliasChoices(CODE_SETS_DIR_VARIABLE, "code_sets_dir"))
    """CMS ICD-10-CM order files loaded besides the shipped releases (``EDI_CODE_SETS_DIR``,
    as the service's): a pend released on the screens is decided against them
    (`review.app.create_app` reads them once)."""
    business_timezone: BusinessTimezone = Field(
        default=DEFAULT_BUSINESS_TIMEZONE,
        validation_alias=AliasChoices("EDI_BUSINESS_TIMEZONE", "business_timezone"))
    """The payer's business time zone (``EDI_BUSINESS_TIMEZONE``, as the service's):
    the pages show times in it, with its abbreviation, and date a cycle's default
    as-of day by its calendar."""

    @cached_property
    def zone(self) -> ZoneInfo:
        return business_zone(self.business_timezone)
