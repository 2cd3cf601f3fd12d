"""The store's steps driven one at a time, for tests: a step context with a fixed clock,
and a file received and acknowledged as the pipeline does it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from edi.validators.codesets import default_registry
from edi.validators.implementation_guide import EnvelopePolicy
from store.engine import Store
from workers import steps
from workers.archive import archive_copy
from workers.reference_store import ReferenceSource

RECEIVED = date(2026, 6, 1)


def step_context(url: str, archive: Path, reference: ReferenceSource | None = None
                 ) -> steps.StepContext:
    """Steps on the (migrated) store at ``url``, received files archived under ``archive``."""
    return steps.StepContext(store=Store(url), archive=archive,
                             now=datetime(2026, 6, 1, 12, tzinfo=UTC), as_of=RECEIVED,
                             policy=EnvelopePolicy(), code_sets=default_registry(),
                             reference=reference)


def acknowledged(ctx: steps.StepContext, path: Path) -> int:
    """The file at ``path`` received (on `RECEIVED`) and acknowledged; its row id."""
    run_id = steps.begin_run(ctx, "tests")
    with path.open("rb") as source:
        sha, size, _archived = archive_copy(source, ctx.archive)
    file_id, _role = steps.receive(ctx, run_id, path.name, sha, size,
                                   datetime(2026, 6, 1, 9, tzinfo=UTC), RECEIVED)
    steps.acknowledge_file(ctx, file_id)
    return file_id
