"""Service definitions as data (meshcert_simulators/service/definition.py, rules.py): the four
shipped definitions check clean (format, rules on a population sample, contract in step); a
broken one gets every problem at once with its file and field; the rule language computes and
cannot reach outside itself; a topology's service simulators bring their institutions, clients
and legal basis to the mesh."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meshcert.catalog.targets import TargetError, load_target
from meshcert.cli.app import app
from meshcert_simulators.common.settings import Settings
from meshcert_simulators.common.topology import TopologyError, load_topology
from meshcert_simulators.registry import create_app
from meshcert_simulators.service.check import check
from meshcert_simulators.service.definition import SERVICES_DIR, all_folders
from meshcert_simulators.service.rules import Evaluator, RuleError, parse

SHIPPED = ("jido-fuyo", "kaigo", "kokuho", "shogai-fukushi")
MESH = Path(__file__).resolve().parents[2] / "fixtures" / "topologies" / "mesh.yaml"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_shipped_definitions_check_clean():
    assert [f.name for f in all_folders()] == list(SHIPPED)
    for folder in all_folders():
        assert check(folder) == [], folder


def broken(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path / "kokuho"
    shutil.copytree(SERVICES_DIR / "kokuho", folder)
    raw = yaml.safe_load((folder / "service.yaml").read_text(encoding="utf-8"))
    change(raw)
    (folder / "service.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True),
                                         encoding="utf-8")
    return folder


def test_every_problem_of_a_definition_is_listed_with_its_file_and_field(tmp_path: Path):
    def change(raw: dict) -> None:
        raw["route"] = "sometimes"
        raw["items"][0]["code"] = "TM12"
        raw["items"][1]["fields"]["annual_premium"]["min"] = None
        raw["legal_basis"][0]["valid_from"] = "not a date"
    problems = check(broken(tmp_path, change))
    where = [p.split(": ")[1] for p in problems]
    assert where == ["route", "items.0.code", "items.1.fields.annual_premium",
                     "legal_basis.0.valid_from"], problems
    assert all(p.startswith(str(tmp_path / "kokuho" / "service.yaml")) for p in problems)


def test_cross_references_and_rules_are_checked_together(tmp_path: Path):
    def change(raw: dict) -> None:
        raw["variables"]["income"] = "__import__('os').system('true')"
        raw["items"][0]["fields"]["insured"]["rule"] = "age < later_field"
        raw["legal_basis"][0]["items"] = ["TM00000000000099"]
    problems = check(broken(tmp_path, change))
    assert len(problems) == 3, problems
    assert "legal_basis.0.items: TM00000000000099 not an item" in problems[0]
    assert "variables.income: unknown function" in problems[1]
    assert "items.0.fields.insured.rule: unknown name 'later_field'" in problems[2]


def test_a_rule_giving_a_value_its_field_does_not_take_is_found_on_the_sample(tmp_path: Path):
    def change(raw: dict) -> None:
        raw["items"][1]["fields"]["annual_premium"]["max"] = 1000
    [problem] = check(broken(tmp_path, change))
    assert ": items.1.fields.annual_premium.rule: gave" in problem
    assert "outside [0, 1000]" in problem


def test_a_contract_out_of_step_with_its_definition_is_reported(tmp_path: Path):
    folder = broken(tmp_path, lambda raw: raw["items"][0]["title"].update(en="Renamed"))
    [problem] = check(folder)
    assert problem.startswith(f"{folder / 'openapi.json'}: differs")
    assert run("service", "contract", str(folder)).exit_code == 0
    assert check(folder) == []
    doc = json.loads((folder / "openapi.json").read_text(encoding="utf-8"))
    assert "KokuhoQualificationPayload" in doc["components"]["schemas"]


@pytest.mark.parametrize("source", [
    "age.__class__", "(lambda: 1)()", "[x for x in [1]]", "open('f')", "{'a': 1}",
    "min(age)", "unknown_name + 1", "age if", "f'{age}'",
])
def test_the_rule_language_refuses_what_is_not_in_it(source):
    with pytest.raises(RuleError):
        parse("r", source, ["age"])


def test_rules_compute_and_draws_are_deterministic_per_person():
    env = {"age": 70, "income": 1_234_567}
    evaluator = Evaluator(1, "person-a")
    assert evaluator.value(parse("r", "floor(income * 0.1, 100) + 5000", env), env) == 128400
    assert evaluator.value(parse("r", "band(age, [40, 65, 75], [0, 1, 2, 3])", env), env) == 2
    assert evaluator.value(parse("r", "'高' if 65 <= age < 75 and not income < 0 else '低'",
                                 env), env) == "高"
    drawn = parse("d", "draw(0, 1000000)", env)
    assert Evaluator(1, "person-a").value(drawn, env) == Evaluator(1, "person-a").value(drawn, env)
    others = {Evaluator(1, f"person-{n}").value(drawn, env) for n in range(20)}
    assert len(others) > 15


def test_a_topologys_service_simulators_bring_institutions_clients_and_legal_basis(
        tmp_path: Path):
    topology = load_topology(MESH)
    kokuho = topology.institution("chiyoda-kokuho")
    fuyo = topology.institution("chiyoda-jido-fuyo")
    assert kokuho is not None and (kokuho.route, kokuho.simulator) == ("realtime", "kokuho")
    assert fuyo is not None and (fuyo.route, fuyo.simulator) == ("copy", "jlis")
    assert topology.client(fuyo.client).roles == ("jlis:register",)  # type: ignore[union-attr]
    assert "kokuho:provide" in topology.client("mesh").roles  # type: ignore[union-attr]
    mesh = create_app(Settings(name="mesh", topology=topology, data_dir=tmp_path,
                               access_log=False))
    table = mesh.state.legal_basis
    assert table.permits("JT01030000000125", "benefit-agency", "chiyoda-kokuho",
                         "TM00000000000012", date(2026, 1, 5))
    assert table.permits("JT01030000000125", "chiyoda-child-allowance", "chiyoda-kokuho",
                         "TM00000000000012", date(2026, 1, 5)) is None


def test_a_topology_naming_a_broken_definition_says_which(tmp_path: Path):
    raw = yaml.safe_load(MESH.read_text(encoding="utf-8"))
    raw["simulators"]["kokuho"]["service"] = str(tmp_path / "nowhere")
    path = tmp_path / "mesh.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(TopologyError, match=r"simulators\.kokuho\.service: .*no such file"):
        load_topology(path)


def test_service_new_scaffolds_a_definition_that_checks_and_check_exits_2_on_problems(
        tmp_path: Path):
    made = run("service", "new", "gakko", "--dir", str(tmp_path))
    assert made.exit_code == 0, made.output
    assert run("service", "check", str(tmp_path / "gakko")).exit_code == 0
    assert run("service", "new", "gakko", "--dir", str(tmp_path)).exit_code == 2
    assert run("service", "new", "Bad_Name", "--dir", str(tmp_path)).exit_code == 2
    path = tmp_path / "gakko" / "service.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("route: realtime", "route: x")
                    .replace('rule: "age >= 18"', 'rule: "age >= adult"'), encoding="utf-8")
    checked = CliRunner().invoke(app, ["service", "check", str(tmp_path / "gakko"),
                                       str(tmp_path / "missing")])
    assert checked.exit_code == 2
    assert "2 problem(s)" in checked.output and "route" in checked.output
    assert "missing/service.yaml: no such file" in checked.output
    listed = run("service", "list")
    assert listed.exit_code == 0 and all(name in listed.output for name in SHIPPED)


def test_a_provider_target_of_a_service_is_checked_against_its_definition(tmp_path: Path):
    source = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
    target, _ = load_target(source / "reference-service-kaigo.yaml")
    assert target.provider is not None
    assert target.provider.scopes() == ("kaigo:provide", "kaigo:audit")
    path, schema = target.provider.contract("TM00000000000022")
    assert path == SERVICES_DIR / "kaigo" / "openapi.json" and schema == "KaigoPremiumPayload"
    raw = yaml.safe_load((source / "reference-service-kaigo.yaml").read_text(encoding="utf-8"))
    raw["provider"]["item_codes"] = ["TM00000000000002"]
    raw["launch"]["topology"] = str(source.parent / "topologies" /
                                    "information-provider-services.yaml")
    wrong = tmp_path / "t.yaml"
    wrong.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TargetError, match="TM00000000000002 not an item of service kaigo"):
        load_target(wrong)
