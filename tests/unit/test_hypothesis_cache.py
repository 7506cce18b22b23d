"""Hypothesis's derived data (Unicode tables, constants of local modules) is derived by one
certification and reused by the next, each of which has a storage directory of its own."""

from __future__ import annotations

from pathlib import Path

from meshcert.certify import hypothesis_cache


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_what_one_run_derived_is_there_for_the_next(tmp_path: Path) -> None:
    cache, first, second = tmp_path / "cache", tmp_path / "run-1", tmp_path / "run-2"
    write(first / "unicode_data" / "14.0.0" / "charmap.json.gz", "tables")
    write(first / "constants" / "0123456789abcdef", "[1, 'a']")
    write(first / "constants" / ".tmp-half-written", "[1,")
    write(first / "examples" / "some-test" / "0001", "an example")
    hypothesis_cache.keep(first, cache)
    hypothesis_cache.restore(second, cache)
    found = {p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()}
    # Derived data only: no example of a run reaches another, nor a half-written file.
    assert found == {"unicode_data/14.0.0/charmap.json.gz", "constants/0123456789abcdef"}
    assert (second / "constants" / "0123456789abcdef").read_text(encoding="utf-8") == "[1, 'a']"


def test_a_kept_file_is_not_written_over_and_a_missing_cache_is_no_error(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    hypothesis_cache.restore(tmp_path / "run-0", cache)  # nothing kept yet: nothing happens
    assert not (tmp_path / "run-0").exists()
    write(tmp_path / "run-1" / "unicode_data" / "charmap.json.gz", "first")
    write(tmp_path / "run-2" / "unicode_data" / "charmap.json.gz", "second")
    hypothesis_cache.keep(tmp_path / "run-1", cache)
    hypothesis_cache.keep(tmp_path / "run-2", cache)
    assert (cache / "unicode_data" / "charmap.json.gz").read_text(encoding="utf-8") == "first"
    assert not [p for p in cache.rglob("*") if p.name.startswith(".part-")]
