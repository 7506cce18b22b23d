"""The identifier formats every contract of the mesh shares (docs/domain.md §4)."""

from __future__ import annotations

PROCEDURE_CODE = r"^JT[0-9]{14}$"        # 事務手続コード
ITEM_CODE = r"^TM[0-9]{14}$"             # 特定個人情報名コード
INSTITUTION_CODE = r"^[A-Za-z0-9-]{1,32}$"
RECORD_ID = r"^[A-Za-z0-9._:-]{1,64}$"   # レコード識別番号, unique per inquirer
MESH_CODE = r"^[A-Z2-7]{32}$"            # a 符号: one institution's code of a person
