"""Prometheus metrics of the running service, served on an HTTP port.

Read from the store at each scrape, so every worker process reports the same truth:
files by status (received, ..., done, dead), claims by state, dead letters, and the
depth of each work queue; plus, per process, the seconds from an upload to its 999
and to its 277CA in the partner's outbound folder (`workers.service`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from store.engine import Store
from store.models import Claim, ReceivedFile


class StoreCollector(Collector):
    def __init__(self, store: Store, queue_depths: Callable[[], dict[str, int]]) -> None:
        self._store = store
        self._queue_depths = queue_depths

    def collect(self) -> Iterator[Any]:
        with self._store.transaction() as s:
            files: dict[str, int] = {status: count for status, count in s.execute(
                select(ReceivedFile.status, func.count()).group_by(ReceivedFile.status))}
            claims: dict[str, int] = {state: count for state, count in s.execute(
                select(Claim.state, func.count()).group_by(Claim.state))}
        by_status = GaugeMetricFamily("edi_files", "Received files by status", labels=["status"])
        for status, count in sorted(files.items()):
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily("edi_files_received", "Files received in all",
                                value=sum(files.values()))
        yield GaugeMetricFamily("edi_dead_letters", "Files dead-lettered after their retries",
                                value=files.get("dead", 0))
        by_state = GaugeMetricFamily("edi_claims", "Claims by state", labels=["state"])
        for state, count in sorted(claims.items()):
            by_state.add_metric([state], count)
        yield by_state
        depth = GaugeMetricFamily("edi_queue_depth", "Messages waiting per queue",
                                  labels=["queue"])
        for queue, count in sorted(self._queue_depths().items()):
            depth.add_metric([queue], count)
        yield depth


def queue_depths(broker: Any) -> Callable[[], dict[str, int]]:
    """Messages waiting in each declared queue of a Redis or in-process broker."""

    def depths() -> dict[str, int]:
        queues = sorted(broker.get_declared_queues())
        client = getattr(broker, "client", None)
        if client is not None:  # RedisBroker: dramatiq keeps each queue as a Redis list
            return {q: int(client.llen(f"{broker.namespace}:{q}")) for q in queues}
        return {q: broker.queues[q].qsize() for q in queues}

    return depths


def serve(store: Store, broker: Any, port: int, address: str = "127.0.0.1") -> StoreCollector:
    """Register the store's metrics and serve /metrics on ``address``:``port``: this
    machine alone unless told (before 2026-12-01 every interface, unauthenticated, and
    each scrape counts the files and claims tables)."""
    collector = StoreCollector(store, queue_depths(broker))
    REGISTRY.register(collector)
    start_http_server(port, addr=address)
    return collector
