"""Synthetic test data the harness makes for the suites: fresh identifiers and real places.

The suites create their own persons (a fresh My Number and 住民票コード for each, so no two tests
share one) and addresses in real municipalities (JIS X 0402). The generators and the list live
once, in meshcert_simulators/common, where the simulators use them to seed their own data; the
suites
take them from here, so that nothing under meshcert_suites/ imports the simulators
(tests/unit/test_suite_imports.py). These make data; they never judge an answer.
"""

from __future__ import annotations

from meshcert_simulators.common.identifiers import generate_juminhyo_code, generate_my_number
from meshcert_simulators.common.municipalities import Municipality, lookup, municipalities_only
from meshcert_simulators.common.population import generate as generate_population
from meshcert_simulators.fixtures import fixture_path

__all__ = ["Municipality", "fixture_path", "generate_juminhyo_code", "generate_my_number",
           "generate_population", "lookup", "municipalities_only"]
