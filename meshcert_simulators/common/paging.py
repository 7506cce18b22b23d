"""The one cursor pager of the simulators: pages by an increasing ``seq`` — ``after`` is the last
``seq`` a reader has, a page holds at most ``limit`` rows, and one row more than asked tells
whether another page follows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from meshcert_simulators.common.storage import Database

T = TypeVar("T")


def split_page(rows: Sequence[T], limit: int) -> tuple[list[T], bool]:
    """The page of ``rows`` (read with ``limit + 1``) and whether more follow."""
    return list(rows[:limit]), len(rows) > limit


def seq_page(db: Database, select: str, where: str, params: Sequence[Any], after: int,
             limit: int) -> tuple[list[Any], bool]:
    """``select`` (``SELECT … FROM table``) of the rows matching ``where`` (may be empty) with
    ``seq > after``, in ``seq`` order: a page of at most ``limit`` rows, and whether more
    follow."""
    condition = f"{where} AND seq > ?" if where else "seq > ?"
    rows = db.query(f"{select} WHERE {condition} ORDER BY seq LIMIT ?",
                    (*params, after, limit + 1))
    return split_page(rows, limit)


def next_after(items: Sequence[dict[str, Any]], after: int) -> int:
    """The cursor a reader passes for the next page: the last ``seq`` of this one, or
    ``after`` again when it is empty."""
    return items[-1]["seq"] if items else after
