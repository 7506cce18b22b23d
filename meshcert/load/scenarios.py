"""Load scenarios: the real peaks of docs/domain.md §7 as rates over time, with their assumptions.

Pure arithmetic (no Locust here: Locust runs in its own process, see meshcert/load/run.py). A
scenario gives, for a :class:`Scale` (how many municipalities and residents the system under
test serves), the **peak rate** in requests/s its share of the national peak puts on that
system, the **mix** of request kinds, and the **curve**: the fraction of the peak at each point
of the scenario's time, compressed into the run's duration. Every figure it uses is printed
beside the numbers (:meth:`Scenario.assumptions`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

MUNICIPALITIES = 1741                  # DOMAIN §2
POPULATION = 125_000_000               # DOMAIN §7 ("notify everyone": 125 M)
MOVES_PER_YEAR = 5_300_000             # DOMAIN §7 inter-municipal moves
NORMAL_DAY_MOVES = 14_500              # DOMAIN §7 (~5.3 M / 365)
MARCH_SHARE, APRIL_SHARE = 0.168, 0.127  # DOMAIN §7
APRIL_PEAK_FACTOR = 4.5                # DOMAIN §7: first business days of April 4–5× normal
STANDARD_SYSTEMS = 20                  # DOMAIN §7: the registry is one of 20
INQUIRIES_PER_BUSINESS_DAY = 124_000   # DOMAIN §7 (30.29 M in FY2022)
BULK_ROWS = 10_000                     # DOMAIN §7: a bulk query file has ≤ 10,000 rows
NOTICE_TOTAL = 125_000_000             # DOMAIN §7 "notify everyone"

# Our own assumptions [I], printed with every result that uses them.
ONLINE_MOVEOUT_SHARE = 0.3     # share of move-outs filed online (the rest at the counter)
READS_PER_MOVE = 6             # registry reads a move causes (clerk, household, downstream)
PEAK_HOUR_SHARE = 0.15         # share of a business day's traffic in its busiest hour
POLL_INTERVAL_S = 60.0         # how often each standard system polls the difference feed
BUSINESS_DAY_S = 8 * 3600      # the window the daily inquiry volume arrives in
BULK_SHARE = 0.5               # share of inquiry rows that arrive in bulk files
TAX_ITEM_SHARE = 0.6           # mesh item mix: tax information (real-time) vs public-fund
                               # account (copy path)

TargetKind = Literal["registry", "mesh"]


@dataclass(frozen=True)
class Scale:
    """How much of the country the system under test serves."""

    municipalities: int = MUNICIPALITIES
    population: int | None = None      # residents served; default: the municipalities' share
    window_s: float | None = None      # the scenario's window (mesh volume, the notice burst)
    poll_interval_s: float = POLL_INTERVAL_S

    @property
    def residents(self) -> int:
        if self.population is not None:
            return self.population
        return round(POPULATION * self.municipalities / MUNICIPALITIES)

    @property
    def share(self) -> float:
        """The served share of the country's residents (what scales population-driven load)."""
        return self.residents / POPULATION


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    locustfile: str                      # under meshcert_loadtests/
    kinds: tuple[TargetKind, ...]        # what it runs against: a target file, a topology
    summary: str
    default_window_s: float | None
    # (scale, kind) -> {request kind: requests/s at the peak}
    mix: Callable[[Scale, TargetKind], dict[str, float]]
    curve: Callable[[float], float]      # x in [0, 1) -> fraction of the peak
    notes: Callable[[Scale, TargetKind], list[str]]
    read_endpoint: str | None = None     # the request kind PERF-READ-* targets apply to
    default_duration_s: float = 60.0
    curve_label: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # The kind of simulator the topology's public-fund provider must be (None: any).
    fund_provider_kind: str | None = None

    def peak_rate(self, scale: Scale, kind: TargetKind) -> float:
        return sum(self.mix(self._windowed(scale), kind).values())

    def peak_mix(self, scale: Scale, kind: TargetKind) -> dict[str, float]:
        return self.mix(self._windowed(scale), kind)

    def national_peak(self, kind: TargetKind, window_s: float | None = None) -> float:
        return self.peak_rate(Scale(window_s=window_s), kind)

    def assumptions(self, scale: Scale, kind: TargetKind) -> list[str]:
        scale = self._windowed(scale)
        served = (f"scale: {scale.municipalities:,} of {MUNICIPALITIES:,} municipalities, "
                  f"{scale.residents:,} residents ({scale.share:.4%} of {POPULATION:,})")
        return [served, *self.notes(scale, kind)]

    def _windowed(self, scale: Scale) -> Scale:
        if scale.window_s is None and self.default_window_s is not None:
            return Scale(scale.municipalities, scale.population, self.default_window_s,
                         scale.poll_interval_s)
        return scale


# -- moving season (F1) ------------------------------------------------------------------------

SEASON_DAYS = 61  # March 1 to April 30


def season_factor(day: int) -> float:
    """A day of the season (0 = March 1) as a multiple of a normal day's moves: rising through
    March to its last week, 4.5× on the first business days of April (1–3), back towards normal
    by mid-April. Shaped so March averages ≈ 2.0× and April ≈ 1.5× (DOMAIN §7: 16.8 % and
    12.7 % of a year's moves in those months)."""
    if day < 31:                                  # March: 1.2× rising to 3.3×
        return 1.2 + 2.1 * (day / 30) ** 2
    april = day - 31
    if april < 3:
        return APRIL_PEAK_FACTOR
    return max(1.0, APRIL_PEAK_FACTOR * math.exp(-(april - 2) / 4.5))


def moving_curve(x: float) -> float:
    day = min(SEASON_DAYS - 1, int(x * SEASON_DAYS))
    return season_factor(day) / APRIL_PEAK_FACTOR


def _moving_mix(scale: Scale, kind: TargetKind) -> dict[str, float]:
    peak_day_moves = NORMAL_DAY_MOVES * APRIL_PEAK_FACTOR * scale.share
    per_s = peak_day_moves * PEAK_HOUR_SHARE / 3600
    return {"moveout": per_s * ONLINE_MOVEOUT_SHARE, "read": per_s * READS_PER_MOVE}


def _moving_notes(scale: Scale, kind: TargetKind) -> list[str]:
    march = MOVES_PER_YEAR * MARCH_SHARE / 31 / NORMAL_DAY_MOVES
    april = MOVES_PER_YEAR * APRIL_SHARE / 30 / NORMAL_DAY_MOVES
    return [f"moves: {MOVES_PER_YEAR:,}/year, normal day {NORMAL_DAY_MOVES:,} [S]; March "
            f"{MARCH_SHARE:.1%} (avg {march:.1f}× normal), April {APRIL_SHARE:.1%} "
            f"(avg {april:.1f}×); peak {APRIL_PEAK_FACTOR}× on April 1–3 [S]",
            f"online move-out share {ONLINE_MOVEOUT_SHARE:.0%}, {READS_PER_MOVE} registry "
            f"reads per move, busiest hour {PEAK_HOUR_SHARE:.0%} of the day [I]",
            f"the {SEASON_DAYS}-day season (March 1 – April 30) is compressed into the run"]


# -- PULL polling (F5) -------------------------------------------------------------------------


def _polling_mix(scale: Scale, kind: TargetKind) -> dict[str, float]:
    return {"poll": (STANDARD_SYSTEMS - 1) * scale.municipalities / scale.poll_interval_s}


def _polling_notes(scale: Scale, kind: TargetKind) -> list[str]:
    return [f"{STANDARD_SYSTEMS - 1} other standard systems per municipality poll the "
            f"difference feed every {scale.poll_interval_s:g} s [I], evenly spread"]


def flat(x: float) -> float:
    return 1.0


# -- mesh inquiries (F2) -----------------------------------------------------------------------


def _mesh_mix(scale: Scale, kind: TargetKind) -> dict[str, float]:
    window = scale.window_s or BUSINESS_DAY_S
    rows = INQUIRIES_PER_BUSINESS_DAY * scale.share / window
    single = rows * (1 - BULK_SHARE)
    return {"inquiry-tax": single * TAX_ITEM_SHARE,
            "inquiry-public-fund": single * (1 - TAX_ITEM_SHARE),
            "bulk-row": rows * BULK_SHARE}


def _mesh_notes(scale: Scale, kind: TargetKind) -> list[str]:
    window = scale.window_s or BUSINESS_DAY_S
    return [f"local-government My Number queries: 30.29 M in FY2022 [P] → "
            f"{INQUIRIES_PER_BUSINESS_DAY:,} per business day [I], spread over {window / 3600:g} h",
            f"{BULK_SHARE:.0%} of rows arrive in bulk files of up to {BULK_ROWS:,} rows [C/I]; "
            f"items: {TAX_ITEM_SHARE:.0%} tax information (real-time path), "
            f"{1 - TAX_ITEM_SHARE:.0%} public-fund account (copy path) [I]"]


# -- nationwide notice / benefit payout (F4) ----------------------------------------------------


def _notice_mix(scale: Scale, kind: TargetKind) -> dict[str, float]:
    window = scale.window_s or 24 * 3600
    rate = NOTICE_TOTAL * scale.share / window
    if kind == "mesh":                  # the payout: one public-fund account query each
        return {"inquiry-public-fund": rate * (1 - BULK_SHARE), "bulk-row": rate * BULK_SHARE}
    return {"read": rate}               # the notice: each resident's address read once


def _notice_notes(scale: Scale, kind: TargetKind) -> list[str]:
    window = scale.window_s or 24 * 3600
    what = ("each person's public-fund account queried once through the mesh, "
            f"{BULK_SHARE:.0%} of them in bulk files [I]" if kind == "mesh" else
            "each resident's record read once from the registry for the notice [I]")
    return [f"\"notify everyone\": {NOTICE_TOTAL:,} in {window / 3600:g} h [I] "
            "(24 h ≈ 1.5 k/s, 1 h ≈ 35 k/s nationally)", what,
            "a flat burst after a short ramp"]


def burst_curve(x: float) -> float:
    return min(1.0, 0.2 + x * 8) if x < 0.1 else 1.0


# -- benefit payout through the account registry (F4) ------------------------------------------

PUBLIC_FUND_ACCOUNTS = 54_000_000   # DOMAIN §7: ~54 M accounts (60 %) in 2023 [S]
PAYOUT_BULK_SHARE = 0.98            # a payout is run as bulk files; singles are corrections [I]
HISTORY_LOOK_SHARE = 0.3            # payees who open their exchange history on the portal [I]


def _payout_mix(scale: Scale, kind: TargetKind) -> dict[str, float]:
    window = scale.window_s or 24 * 3600
    rate = PUBLIC_FUND_ACCOUNTS * scale.share / window   # one query per account holder
    return {"bulk-row": rate * PAYOUT_BULK_SHARE,
            "inquiry-public-fund": rate * (1 - PAYOUT_BULK_SHARE),
            "history": rate * HISTORY_LOOK_SHARE,
            "notice": rate}                                   # each payee told once


def _payout_notes(scale: Scale, kind: TargetKind) -> list[str]:
    window = scale.window_s or 24 * 3600
    return [f"a national cash benefit paid to every public-fund account holder: "
            f"{PUBLIC_FUND_ACCOUNTS:,} accounts [S], each queried once through the mesh on the "
            f"copy path (item TM00000000000089) within {window / 3600:g} h, as \"notify "
            "everyone\" paces it (125 M in 24 h ≈ 1.5 k/s nationally) [I]",
            f"{PAYOUT_BULK_SHARE:.0%} of the queries in bulk files of up to {BULK_ROWS:,} rows "
            f"[C/I], the rest single queries; {HISTORY_LOOK_SHARE:.0%} of the payees look at "
            "the query in their portal history (the portal reading the registry's records) [I]",
            "each payee's notice of the payment pushed by the agency to the portal "
            "(POST /v1/notices, once per person: idempotent by the payment's key) [I]",
            "a flat burst after a short ramp"]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("moving-season", "Moving season (March/April)", "moving_season.py", ("registry",),
             "online move-outs and registry reads on the March/April curve",
             None, _moving_mix, moving_curve, _moving_notes, read_endpoint="read",
             curve_label="March 1 → April 30"),
    Scenario("pull-polling", "PULL polling of the difference feed", "pull_polling.py",
             ("registry",), "the 19 other standard systems of each municipality polling",
             None, _polling_mix, flat, _polling_notes, curve_label="steady"),
    Scenario("mesh-inquiries", "Mesh inquiries (single and bulk)", "mesh_inquiries.py",
             ("mesh",), "single and bulk inquiries at the national daily volume",
             BUSINESS_DAY_S, _mesh_mix, flat, _mesh_notes, curve_label="business day"),
    Scenario("nationwide-notice", "Nationwide notice / benefit payout", "nationwide_notice.py",
             ("registry", "mesh"), "the \"notify everyone\" burst (125 M in 24 h or 1 h)",
             24 * 3600, _notice_mix, burst_curve, _notice_notes, read_endpoint="read",
             curve_label="burst"),
    Scenario("benefit-payout", "Benefit payout through the account registry",
             "benefit_payout.py", ("mesh",),
             "every account holder's public-fund account queried via the mesh (bulk files)",
             24 * 3600, _payout_mix, burst_curve, _payout_notes, curve_label="burst",
             fund_provider_kind="accounts"),
)}


def get(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"no scenario {name!r} (scenarios: {', '.join(SCENARIOS)})") from None


# -- a run's plan: users over time ----------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    end_s: float
    users: int
    rate: float          # offered requests/s during the stage


def stages(curve: Callable[[float], float], peak_rate: float, duration_s: float,
           per_user_rate: float, resolution_s: float = 1.0) -> list[Stage]:
    """Users over time so that ``users × per_user_rate`` follows ``peak_rate × curve``; one
    stage per ``resolution_s``, merged where the user count does not change."""
    steps = max(1, math.ceil(duration_s / resolution_s))
    found: list[Stage] = []
    for i in range(steps):
        end = min(duration_s, (i + 1) * resolution_s)
        rate = peak_rate * curve(i / steps)
        users = max(1, math.ceil(rate / per_user_rate - 1e-9))
        if found and found[-1].users == users:
            found[-1] = Stage(end, users, found[-1].rate)
        else:
            found.append(Stage(end, users, users * per_user_rate))
    return found


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``1h30m`` → seconds; ValueError for anything else."""
    value = text.strip().lower()
    if not value:
        raise ValueError("empty duration")
    try:
        return float(value)
    except ValueError:
        pass
    total, number = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise ValueError(f"not a duration: {text!r} (write 30s, 5m, 1h30m or seconds)")
    if number:
        raise ValueError(f"not a duration: {text!r} (a number needs its unit: s, m or h)")
    return total
