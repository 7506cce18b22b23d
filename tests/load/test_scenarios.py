"""The load scenarios carry the figures of docs/domain.md §7: the curves and rates are checked
against the published numbers, independently of Locust."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from meshcert.load import scenarios
from meshcert.load.run import LoadOptions, plan_for, weights
from meshcert.load.scenarios import Scale, parse_duration, season_factor, stages


def test_the_first_business_days_of_april_are_the_peak_at_four_to_five_times_normal():
    march = [season_factor(d) for d in range(31)]
    april = [season_factor(d) for d in range(31, 61)]
    assert april[0] == april[1] == april[2] == max(march + april)
    assert 4.0 <= april[0] <= 5.0


def test_march_and_april_carry_their_share_of_the_years_moves():
    normal_day = scenarios.MOVES_PER_YEAR / 365
    march = sum(season_factor(d) for d in range(31)) * normal_day
    april = sum(season_factor(d) for d in range(31, 61)) * normal_day
    assert march / scenarios.MOVES_PER_YEAR == pytest.approx(0.168, rel=0.1)
    assert april / scenarios.MOVES_PER_YEAR == pytest.approx(0.127, rel=0.1)


def test_pull_polling_is_nineteen_systems_per_municipality_on_their_interval():
    polling = scenarios.get("pull-polling")
    assert polling.peak_rate(Scale(municipalities=10, poll_interval_s=60), "registry") == \
        pytest.approx(19 * 10 / 60)
    assert polling.national_peak("registry") == pytest.approx(19 * 1741 / 60)


def test_the_nationwide_notice_is_125_million_in_the_window():
    notice = scenarios.get("nationwide-notice")
    assert notice.national_peak("registry") == pytest.approx(125e6 / 86400)      # ≈ 1.5 k/s
    assert notice.national_peak("registry", 3600) == pytest.approx(125e6 / 3600)  # ≈ 35 k/s
    assert notice.national_peak("mesh", 3600) == pytest.approx(125e6 / 3600)


def test_mesh_inquiries_spread_the_daily_volume_over_the_window_with_a_mix_of_items():
    mesh = scenarios.get("mesh-inquiries")
    mix = mesh.peak_mix(Scale(), "mesh")
    assert sum(mix.values()) == pytest.approx(124_000 / (8 * 3600))
    assert set(mix) == {"inquiry-tax", "inquiry-public-fund", "bulk-row"}
    assert mesh.peak_rate(Scale(window_s=3600), "mesh") == pytest.approx(124_000 / 3600)


def test_rates_scale_with_the_municipalities_and_population_served():
    season = scenarios.get("moving-season")
    national = season.national_peak("registry")
    assert season.peak_rate(Scale(municipalities=174), "registry") == \
        pytest.approx(national * 174 / 1741, rel=0.01)
    assert season.peak_rate(Scale(population=1_250_000), "registry") == \
        pytest.approx(national / 100)


def test_every_scenario_prints_its_assumptions():
    for scenario in scenarios.SCENARIOS.values():
        for kind in scenario.kinds:
            notes = scenario.assumptions(Scale(municipalities=3), kind)
            assert notes[0].startswith("scale: 3 of 1,741 municipalities")
            assert any("[I]" in note for note in notes), scenario.name


def test_stages_follow_the_curve_with_users_at_a_fixed_rate_each():
    found = stages(scenarios.moving_curve, peak_rate=100, duration_s=61, per_user_rate=5)
    assert found[-1].end_s == 61
    peak = max(found, key=lambda s: s.users)
    assert peak.users == 20 and peak.rate == pytest.approx(100)
    assert all(a.users != b.users for a, b in itertools.pairwise(found))


def test_a_plan_shares_the_peak_rate_among_the_users():
    scenario = scenarios.get("pull-polling")
    plan = plan_for(scenario, "registry", LoadOptions("pull-polling", target=Path("t.yaml"),
                                                      users=8, rate=40, duration_s=10))
    assert plan["per_user_rate"] == pytest.approx(5)
    assert plan["stages"] == [[10, 8]]


def test_bulk_rows_become_files_in_integer_task_weights():
    found = weights({"inquiry-tax": 3.0, "bulk-row": 3.0}, bulk_rows=10_000)
    assert all(isinstance(w, int) and w >= 1 for w in found.values())
    assert found["inquiry-tax"] / found["bulk"] == pytest.approx(10_000, rel=0.01)


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("5m", 300),
                                                ("1h30m", 5400), ("2.5s", 2.5)])
def test_durations_read_as_people_write_them(text, seconds):
    assert math.isclose(parse_duration(text), seconds)


@pytest.mark.parametrize("text", ["", "soon", "5x", "10m5"])
def test_a_bad_duration_says_how_to_write_one(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_an_unknown_scenario_names_the_known_ones():
    with pytest.raises(ValueError, match="moving-season, pull-polling"):
        scenarios.get("christmas")
