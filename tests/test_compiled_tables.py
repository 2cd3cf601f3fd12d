"""The compiled guide's tables: built from pyx12's maps, cached safely, equal to pyx12."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import pyx12.map_if
import pyx12.params
import pyx12.path

from edi.validators.compiled import cache, compiler
from edi.validators.compiled.tables import LOOP, SEGMENT, GuideTables


@pytest.fixture(scope="module")
def tables() -> GuideTables:
    return compiler.compile_guide()


@pytest.fixture()
def no_compiling(monkeypatch: pytest.MonkeyPatch, tables: GuideTables) -> list[int]:
    """compile_guide returns the module's tables and counts its calls."""
    calls: list[int] = []

    def compile_once(transaction_map: str = compiler.CLAIM_MAP) -> GuideTables:
        calls.append(1)
        return tables

    monkeypatch.setattr(cache, "compile_guide", compile_once)
    return calls


def test_tables_survive_the_cache_format_unchanged(tables: GuideTables) -> None:
    plain = compiler.to_plain(tables)
    again = compiler.from_plain(json.loads(json.dumps(plain)))
    assert compiler.to_plain(again) == plain


@pytest.mark.parametrize(("transaction_map", "nodes"), [(compiler.CLAIM_MAP, 400),
                                                        (compiler.REMIT_MAP, 60)])
def test_every_node_carries_pyx12s_usage_repeat_and_counter_path(
        transaction_map: str, nodes: int, tables: GuideTables) -> None:
    if transaction_map != compiler.CLAIM_MAP:
        tables = compiler.compile_guide(transaction_map)
    root = pyx12.map_if.load_map_file(transaction_map, pyx12.params.params())
    seen = 0
    for node in root.loop_segment_iterator():
        if node.is_map_root():
            continue
        compiled = tables.nodes[tables.paths[f"{transaction_map}|{node.get_path()}"]]
        assert compiled.kind == (LOOP if node.is_loop() else SEGMENT)
        assert (compiled.id, compiled.usage, compiled.pos, compiled.max_repeat) == \
            (node.id, node.usage, node.pos, node.get_max_repeat())
        assert tables.keys[compiled.key] == pyx12.path.X12Path(node.get_path()).format()
        seen += 1
    assert seen > nodes


def test_each_transaction_map_has_tables_and_a_cache_file_of_its_own(tmp_path: Path) -> None:
    claim = cache.load_tables(tmp_path)
    remit = cache.load_tables(tmp_path, compiler.REMIT_MAP)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"guide-{compiler.fingerprint(m)}.json" for m in (compiler.CLAIM_MAP, compiler.REMIT_MAP))
    assert claim.fingerprint != remit.fingerprint and claim.icvn == remit.icvn == "00501"
    assert any(key.startswith(f"{compiler.REMIT_MAP}|") for key in remit.paths)
    assert not any(key.startswith(f"{compiler.REMIT_MAP}|") for key in claim.paths)
    with pytest.raises(ValueError, match="no tables"):
        compiler.compile_guide("999.5010X231.A1.xml")


def test_a_loop_entry_resets_exactly_the_paths_below_it(tables: GuideTables) -> None:
    clm = tables.nodes[tables.paths[
        f"{compiler.CLAIM_MAP}|/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300"]]
    below = {tables.keys[k] for k in clm.below}
    assert "/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/CLM" in below
    assert "/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2300/2400/SV1" in below
    assert tables.keys[clm.key] not in below
    assert not any(k.startswith("/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/2000B/2000C")
                   for k in below)


def test_the_cache_is_written_once_and_then_read(tmp_path: Path,
                                                no_compiling: list[int]) -> None:
    first = cache.load_tables(tmp_path)
    second = cache.load_tables(tmp_path)
    assert len(no_compiling) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"guide-{compiler.fingerprint()}.json"]
    assert compiler.to_plain(second) == compiler.to_plain(first)


def test_another_pyx12_or_map_gets_a_cache_file_of_its_own(
        tmp_path: Path, no_compiling: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    cache.load_tables(tmp_path)
    monkeypatch.setattr(cache, "fingerprint", lambda _map: "4.0.1-0123456789abcdef")
    cache.load_tables(tmp_path)
    assert len(no_compiling) == 2
    assert len(list(tmp_path.glob("guide-*.json"))) == 2


def test_a_damaged_cache_file_is_compiled_again_and_replaced(
        tmp_path: Path, no_compiling: list[int]) -> None:
    name = tmp_path / f"guide-{compiler.fingerprint()}.json"
    name.write_text('{"format": 1, "nodes": [')
    cache.load_tables(tmp_path)
    assert len(no_compiling) == 1
    assert json.loads(name.read_text())["fingerprint"] == compiler.fingerprint()


def test_a_cache_directory_that_cannot_be_made_means_compiling_in_memory(
        tmp_path: Path, no_compiling: list[int]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    tables = cache.load_tables(blocker / "cache")
    assert tables.nodes and len(no_compiling) == 1
    assert list(tmp_path.iterdir()) == [blocker]


def test_concurrent_loads_leave_one_whole_file_and_no_temporary_ones(
        tmp_path: Path, no_compiling: list[int]) -> None:
    results: list[GuideTables] = []
    threads = [threading.Thread(target=lambda: results.append(cache.load_tables(tmp_path)))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert [p.name for p in tmp_path.iterdir()] == [f"guide-{compiler.fingerprint()}.json"]
    json.loads((tmp_path / f"guide-{compiler.fingerprint()}.json").read_text())
