"""PULL polling (docs/domain.md §5 F5, §7): the 19 other standard systems of each municipality
polling the registry's difference feed on their interval. Each Locust user stands for a group
of those systems, keeping its own cursor; users × per-user rate = 19 × N / interval.

Each of the 19 systems consumes the feed on its own: it keeps a cursor per municipality and
reads from where it stopped, so the registry serves 19 readers at different positions of the
same feed, not one reader 19 times. The user polls them in turn, each over every municipality
the target hosts. The areas are the standardized business areas other than the resident
register itself, among them the services of fixtures/services/ (国民健康保険, 介護保険,
児童扶養手当, 障害者福祉)."""

from __future__ import annotations

from locust import FastHttpUser, task

from meshcert_loadtests.common import PlanShape, ssl_context_factory, wait_time
from meshcert_loadtests.registry import LGS, poll_changes

__all__ = ["PlanShape", "StandardSystems"]

# docs/domain.md §7: the 20 standardized business areas but the resident register.
SYSTEMS = ("electoral-roll", "fixed-asset-tax", "individual-resident-tax",
           "corporate-resident-tax", "light-vehicle-tax", "kokuho", "national-pension",
           "shogai-fukushi", "late-stage-elderly-care", "kaigo", "child-allowance",
           "health-management", "school-enrolment", "jido-fuyo", "public-assistance",
           "child-and-childcare-support", "seal-registration", "family-register",
           "family-register-supplement")


class StandardSystems(FastHttpUser):
    wait_time = wait_time()
    ssl_context_factory = staticmethod(ssl_context_factory)

    def on_start(self) -> None:
        # A cursor per system and municipality: each system reads the feed where it stopped.
        self.cursors: dict[str, dict[str, int]] = {system: {} for system in SYSTEMS}
        self.polls = 0  # poll_changes rotates the municipality with it

    @task
    def poll(self) -> None:
        system = SYSTEMS[(self.polls // len(LGS)) % len(SYSTEMS)]
        poll_changes(self, self.cursors[system])
