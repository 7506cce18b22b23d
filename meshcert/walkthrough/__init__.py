"""Walk-throughs the demo tells step by step over real HTTP, each on a bundled reference started
on free ports and stopped at the end (also on error):

- :func:`walk_bank_login` — a person logs in at the reference bank with the card and the bank
  shows the registry's facts it got through the gateway (issue 13);
- :func:`walk_online_moveout` — the online move-out of a person and then of a proxy through the
  reference front service, to 完了 and into the person's history at the portal, with its
  machine-side time (issue 14).

Each tells what happens to a :class:`Narrator` and returns what it observed; a step that does
not go as it goes raises :class:`WalkFailed`.
"""

from meshcert.walkthrough.bank_login import BankLoginSeen, walk_bank_login
from meshcert.walkthrough.moveout import MoveoutSeen, MoveoutsSeen, walk_online_moveout
from meshcert.walkthrough.stage import Narrator, Transcript, WalkFailed

__all__ = ["BankLoginSeen", "MoveoutSeen", "MoveoutsSeen", "Narrator", "Transcript",
           "WalkFailed", "walk_bank_login", "walk_online_moveout"]
