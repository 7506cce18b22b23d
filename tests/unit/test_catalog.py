"""The requirement catalog: validated on load, every problem located; versions compared."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshcert.catalog.requirements import CatalogError, catalog_path, diff_catalogs, load_catalog


def write(tmp_path: Path, data: dict, name: str = "psm-draft.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(catalog_path().read_text(encoding="utf-8"))


def test_the_shipped_catalog_has_thirty_requirements_for_the_registry():
    catalog = load_catalog()
    registry = catalog.for_profile("resident-registry")
    assert len(registry) >= 30
    assert all(r.defect for r in registry if r.level == "MUST")
    assert len({r.defect for r in registry if r.defect}) == len([r for r in registry
                                                                 if r.defect])


def test_a_must_without_a_defect_is_refused_naming_it(tmp_path, raw):
    raw["requirements"][0].pop("defect")
    with pytest.raises(CatalogError, match=r"requirements\[SEC-TLS-001\]"):
        load_catalog(write(tmp_path, raw))


def test_every_problem_is_reported_at_once(tmp_path, raw):
    raw["requirements"][0]["level"] = "MUSTNT"
    raw["requirements"][1]["id"] = "lowercase-1"
    with pytest.raises(CatalogError) as caught:
        load_catalog(write(tmp_path, raw))
    message = str(caught.value)
    assert "2 problem(s)" in message and "level" in message and "id" in message


def test_an_assumption_needs_its_reasoning(tmp_path, raw):
    entry = next(r for r in raw["requirements"] if r["basis"]["kind"] == "assumption")
    entry["basis"].pop("note")
    with pytest.raises(CatalogError, match="reasoning"):
        load_catalog(write(tmp_path, raw))


def test_duplicate_ids_and_shared_defects_are_refused(tmp_path, raw):
    raw["requirements"][1]["id"] = raw["requirements"][0]["id"]
    with pytest.raises(CatalogError, match="duplicate requirement ids"):
        load_catalog(write(tmp_path, raw))


def test_an_unknown_version_lists_the_known_ones():
    with pytest.raises(CatalogError, match=r"2026\.1"):
        load_catalog("1999.9")


def test_diff_names_added_removed_changed_and_what_to_rerun(tmp_path, raw):
    old = load_catalog()
    raw["version"] = "2026.2"
    removed = raw["requirements"].pop(0)["id"]
    perf = next(r for r in raw["requirements"] if r["id"] == "PERF-READ-001")
    perf["target"]["threshold"] = 150
    audit = next(r for r in raw["requirements"] if r["id"] == "AUDIT-LOG-001")
    audit["title"]["en"] = "Operations logged (retitled)"
    raw["requirements"].append({**perf, "id": "PERF-FEED-001", "defect": "slow-feed"})
    result = diff_catalogs(old, load_catalog(write(tmp_path, raw)))
    assert result.removed == (removed,)
    assert result.added == ("PERF-FEED-001",)
    assert {c.id: c.fields for c in result.changed} == {"PERF-READ-001": ("target",),
                                                          "AUDIT-LOG-001": ("title",)}
    assert result.to_rerun == ("PERF-FEED-001", "PERF-READ-001")  # a title changes no duty


def test_the_2026_2_catalog_adds_the_front_half_and_changes_no_registry_duty():
    old, new = load_catalog("2026.1"), load_catalog("2026.2")
    assert set(new.profiles) - set(old.profiles) >= {"private-service", "front-service"}
    registry = diff_catalogs(old, new, "resident-registry")
    assert registry.added == registry.removed == registry.changed == ()
    front = diff_catalogs(old, new, "front-service")
    assert "FRONT-60S-001" in front.added
    assert not [rid for rid in front.added if not rid.startswith("FRONT-")]
