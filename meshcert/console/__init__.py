"""The web console behind ``meshcert ui``: every run folder indexed, history, trends, flaky
requirements, comparisons, differential testing, and certification from the browser.

index.py (the SQLite index of run folders), queries.py (what the pages ask of it),
exchanges.py (matching the exchanges of runs), charts.py (inline SVG), app.py (Starlette routes,
templates/ for the pages), jobs.py and worker.py (certifications started from the browser,
their progress as server-sent events), archive.py (a report folder as a zip), messages.py
(English and Japanese), background.py (the console left running after ``meshcert demo``).
"""

from meshcert.console.app import Settings, create_app
from meshcert.console.index import index_runs

__all__ = ["Settings", "create_app", "index_runs"]
