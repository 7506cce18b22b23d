"""An independent child-allowance (児童手当) inquirer of the mesh, written from the published
contracts alone (fixtures/specs/child-allowance.openapi.json for what it serves,
fixtures/specs/mesh.openapi.json for what it calls) — it imports nothing of meshcert's
simulators or suites and keeps its own SQLite file. tests/independent/test_inquirer.py runs it
as its own process and certifies it the way a vendor would: a target file without ``launch``
(target.yaml here) and the published topology fixtures/topologies/mesh-inquirer.yaml.

``--defect NAME`` (or MESHCERT_INDEPENDENT_DEFECT) breaks one class on purpose; see
:data:`tests.independent.inquirer.app.DEFECTS`.
"""
