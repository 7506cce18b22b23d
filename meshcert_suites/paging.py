"""Reading a cursor-paged export (``?after=&limit=`` answered with ``next_after`` and
``has_more``), as the registry's feed and the art. 23 record exports are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


def cursor_pages(client: httpx.Client, path: str, after: int, limit: int = 1000,
                 max_pages: int = 10_000) -> Iterator[dict[str, Any]]:
    """Every page of ``path`` after cursor ``after``, following ``next_after`` until
    ``has_more`` is false; each must answer 200."""
    for _ in range(max_pages):
        response = client.get(path, params={"after": after, "limit": limit})
        assert response.status_code == 200, (
            f"reading {path} after {after} gave HTTP {response.status_code}: "
            f"{response.text[:400]}")
        page = response.json()
        yield page
        after = page["next_after"]
        if not page["has_more"]:
            return
    raise AssertionError(f"{path} never reported has_more=false in {max_pages} pages")
