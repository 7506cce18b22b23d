"""A requirement's `basis` points at something a reader of the project can open: every project
file it names exists, and every anchor into a project document (docs/domain.md#invariant-5)
is an anchor of that document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meshcert.catalog.requirements import available_versions, load_catalog

ROOT = Path(__file__).resolve().parents[2]
# A path into the project as a basis writes it: a top-level folder, then the file.
PROJECT_PATH = re.compile(r"\b(?:docs|fixtures|simulators|meshcert|suites)/[\w./-]*\w"
                          r"(?:#[\w-]+)?")
EXPLICIT_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def heading_slug(text: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors_of(document: Path) -> set[str]:
    text = document.read_text(encoding="utf-8")
    return set(EXPLICIT_ANCHOR.findall(text)) | {heading_slug(h) for h in HEADING.findall(text)}


def unresolved(reference: str) -> str | None:
    """Why a project reference does not resolve, or None when it does."""
    path, _, anchor = reference.partition("#")
    file = ROOT / path
    if not file.is_file():
        return f"no file {path}"
    if anchor and anchor not in anchors_of(file):
        return f"{path} has no anchor #{anchor}"
    return None


def basis_references() -> list[tuple[str, str, str]]:
    """(catalog version, requirement id, reference) for every project path a basis names."""
    found = []
    for version in available_versions():
        for requirement in load_catalog(version).requirements:
            basis = requirement.basis
            for text in (basis.ref, basis.note or ""):
                found += [(version, requirement.id, m) for m in PROJECT_PATH.findall(text)]
    return found


def test_every_project_reference_of_a_basis_resolves():
    references = basis_references()
    assert any(ref.startswith("docs/domain.md#") for _, _, ref in references)
    problems = [f"{version} {rid}: {why}" for version, rid, ref in references
                if (why := unresolved(ref))]
    assert not problems, "\n".join(problems)


def test_no_basis_cites_a_file_outside_the_project():
    cited = [f"{version} {r.id}" for version in available_versions()
             for r in load_catalog(version).requirements
             if "DOMAIN.md" in r.basis.ref or "DOMAIN.md" in (r.basis.note or "")]
    assert not cited, f"cite docs/domain.md#<anchor> instead: {cited}"


@pytest.mark.parametrize(("reference", "why"), [
    ("docs/domain.md#invariant-99", "docs/domain.md has no anchor #invariant-99"),
    ("docs/nowhere.md#x", "no file docs/nowhere.md"),
])
def test_a_dangling_reference_is_named(reference, why):
    assert PROJECT_PATH.fullmatch(reference)
    assert unresolved(reference) == why


def test_every_invariant_and_flow_of_the_domain_notes_has_its_anchor():
    anchors = anchors_of(ROOT / "docs" / "domain.md")
    assert {f"invariant-{n}" for n in range(1, 15)} <= anchors
    assert {"f1-online-move-out", "f2-inter-agency-query", "principles", "load-figures",
            "identifiers", "person", "copy-record", "linkage-request"} <= anchors


def test_every_anchor_a_project_document_cites_resolves():
    documents = [p for p in ROOT.rglob("*.md")
                 if not {".venv", ".meshcert", "reports", "node_modules"} & set(
                     p.relative_to(ROOT).parts)]
    cited = [(doc, ref) for doc in documents
             for ref in re.findall(r"\bdocs/[\w./-]+\.md#[\w-]+", doc.read_text("utf-8"))]
    assert any(doc.name == "README.md" and doc.parent == ROOT for doc, _ in cited)
    problems = [f"{doc.relative_to(ROOT)}: {why}" for doc, ref in cited
                if (why := unresolved(ref))]
    assert not problems, "\n".join(problems)
