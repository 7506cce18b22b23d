"""Contracts between simulators: what one simulator sends another, in one place that the
simulators on both sides — and the harness when it plays one of them — read. A simulator's own
API (what its clients see) stays with it; only shapes that cross between parts live here."""
