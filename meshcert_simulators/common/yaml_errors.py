"""A YAML syntax error as one line: where it is and what is wrong.

PyYAML's own message spans four to six lines (it quotes the line and points at the column with
a caret); a configuration error is reported on one line (``meshcert: error: ...``), so the files
read with PyYAML (topologies, targets, catalogs, baselines, legal-basis tables) say it this way.
"""

from __future__ import annotations

import yaml


def _at(mark: yaml.Mark | None) -> str:
    # PyYAML counts lines and columns from 0; editors count from 1.
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def yaml_error_line(error: yaml.YAMLError) -> str:
    """``line 2, column 1: expected ',' or ']', but got '<stream end>' (while parsing a flow
    sequence at line 1, column 7)`` — or PyYAML's message on one line for an error without a
    position."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return " ".join(str(error).split())
    problem = error.problem or "not valid YAML"
    where = _at(error.problem_mark)
    text = f"{where}: {problem}" if where else problem
    if error.context:
        context_at = _at(error.context_mark)
        text += f" ({error.context}{' at ' + context_at if context_at else ''})"
    return " ".join(text.split())
