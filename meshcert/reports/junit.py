"""junit.xml with harness errors apart from failures.

pytest writes ``<error>`` for a crash in set-up or teardown, but ``<failure>`` for anything
raised while the test itself runs — also a :class:`meshcert.certify.verdicts.HarnessFault`, which
means the harness could not judge. :func:`failures_to_errors` turns those testcases' ``<failure>``
into ``<error>`` and corrects the suites' counts, so a CI system reading JUnit keeps "could not
judge" apart from "the system under test failed". When the harness could not run the suites at
all, :func:`write_unjudged` writes a junit.xml holding that one error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from _pytest.junitxml import mangle_test_address  # the names pytest gives testcases (pinned)


def testcase_key(nodeid: str, prefix: str | None = None) -> tuple[str, str]:
    """(classname, name) of a test's ``<testcase>``, as pytest's junitxml writes them."""
    names = mangle_test_address(nodeid)
    if prefix:
        names.insert(0, prefix)
    return ".".join(names[:-1]), names[-1]


def failures_to_errors(path: Path, nodeids: Iterable[str], prefix: str | None = None) -> int:
    """Rewrite the ``<failure>`` of each test of ``nodeids`` in junit.xml ``path`` as an
    ``<error>``; returns how many were rewritten (the file is left alone when none)."""
    wanted = {testcase_key(n, prefix) for n in nodeids}
    if not wanted or not path.is_file():
        return 0
    tree = ET.parse(path)
    changed = 0
    for suite in tree.getroot().iter("testsuite"):
        moved = 0
        for case in suite.iter("testcase"):
            if (case.get("classname", ""), case.get("name", "")) not in wanted:
                continue
            for element in case.findall("failure"):
                element.tag = "error"
                moved += 1
        if moved:
            suite.set("failures", str(int(suite.get("failures", "0")) - moved))
            suite.set("errors", str(int(suite.get("errors", "0")) + moved))
            changed += moved
    if changed:
        tree.write(path, encoding="utf-8", xml_declaration=True)
    return changed


def write_unjudged(path: Path, suite_name: str, why: str) -> None:
    """A junit.xml for a run whose suites never ran: one ``<error>`` saying why (kept as it
    is when pytest wrote one before it stopped: its collection errors are there)."""
    if path.is_file():
        return
    root = ET.Element("testsuites", name=suite_name)
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests="1", errors="1",
                          failures="0", skipped="0")
    case = ET.SubElement(suite, "testcase", classname="meshcert", name="harness")
    first = why.strip().splitlines()[0] if why.strip() else "the harness could not run"
    ET.SubElement(case, "error", message=f"the harness could not run: {first}").text = why
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
