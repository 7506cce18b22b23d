"""Negative controls of identifiers (ID-*): numbers issued without their check digit, a 住民票コード
not carried across a move, a destination code taken on its shape alone."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from meshcert_simulators.defects import defect
from meshcert_simulators.defects._support import moveout_rules, registry_as
from meshcert_simulators.municipal.moveout import MoveoutRules
from meshcert_simulators.municipal.registry import Actor, Registry


def _wrong_last_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


class _AtenaWithoutCheckDigit(Registry):
    """Issues 宛名番号 and 世帯番号 whose last digit is not the modulus-11 check digit."""

    def next_number(self, conn: sqlite3.Connection, lg_code: str, name: str) -> str:
        return _wrong_last_digit(super().next_number(conn, lg_code, name))


class _InvalidMyNumberOnBirth(Registry):
    """Gives a newborn a My Number whose check digit is wrong."""

    def write(self, conn: sqlite3.Connection, lg_code: str, record: dict[str, Any],
              change_type: str, event_id: str | None, actor: Actor) -> dict[str, Any]:
        if change_type == "birth":
            record = {**record, "my_number": _wrong_last_digit(record["my_number"])}
        return super().write(conn, lg_code, record, change_type, event_id, actor)


class _NewJuminhyoCodeOnMoveIn(Registry):
    """Issues a new 住民票コード on every move-in instead of keeping the one the person brings."""

    def write(self, conn: sqlite3.Connection, lg_code: str, record: dict[str, Any],
              change_type: str, event_id: str | None, actor: Actor) -> dict[str, Any]:
        if change_type == "move-in":
            record = {**record, "juminhyo_code": self.new_juminhyo_code()}
        return super().write(conn, lg_code, record, change_type, event_id, actor)


class _ShapeOnlyDestination(MoveoutRules):
    """Checks a destination's local government code for six digits only, not its check digit."""

    def valid_destination(self, destination: str, home: str) -> bool:
        return bool(re.fullmatch(r"[0-9]{6}", destination)) and destination != home


defect("atena-without-check-digit", "municipal", "ID-ATENA-001",
       "宛名番号 and 世帯番号 are issued with a last digit that is not the modulus-11 check digit",
       patch=registry_as(_AtenaWithoutCheckDigit))
defect("invalid-mynumber-on-birth", "municipal", "ID-MYNUM-001",
       "a birth assigns a My Number that fails the check digit",
       patch=registry_as(_InvalidMyNumberOnBirth))
defect("accept-bad-lg-code", "municipal", "ID-LGCODE-001",
       "an online move-out to a local government code with a wrong check digit is accepted",
       patch=moveout_rules(_ShapeOnlyDestination()))
defect("new-juminhyo-code-on-move-in", "municipal", "ID-JUMIN-001",
       "a person moving in is given a new 住民票コード instead of keeping theirs",
       patch=registry_as(_NewJuminhyoCodeOnMoveIn))
