"""The selftest of another reference (``--reference``: a defined service's instead of the bundled
tax office) and the defects that apply to several simulator kinds (the PRV-* defects: the tax
reference and every defined service share the provider's parts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from meshcert.catalog.requirements import load_catalog
from meshcert.certify.plan import make_plan
from meshcert.certify.selftest import (
    SelftestError,
    checked_reference,
    planned_defects,
    reference_target,
)
from meshcert.cli import app
from meshcert.errors import ConfigError
from meshcert_simulators import defects

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
KOKUHO = VENDORS / "reference-service-kokuho.yaml"
PROFILE = "information-provider"
runner = CliRunner()


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so nothing started or written lands in the checkout."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MESHCERT_SIGNING_KEY", str(tmp_path / "key.pem"))


def selftest(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["selftest", *args])


def without_launch(tmp_path: Path) -> Path:
    data = yaml.safe_load(KOKUHO.read_text(encoding="utf-8"))
    data.pop("launch")
    path = tmp_path / "vendor-kokuho.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# -- which simulators a defect applies to ---------------------------------------------------------


def test_every_information_provider_defect_applies_to_the_tax_reference_and_to_services():
    registered = defects.all_defects()
    planned = planned_defects(load_catalog(), PROFILE)
    assert len(planned) >= 10
    for defect_id, requirement, _ in planned:
        found = registered[defect_id]
        assert found.requirement == requirement
        assert found.applies_to("tax") and found.applies_to("service"), defect_id
        assert not found.applies_to("municipal"), defect_id


def test_a_defect_of_one_kind_applies_to_that_kind_only():
    [registry_defect, *_] = planned_defects(load_catalog(), "resident-registry")
    found = defects.get(registry_defect[0])
    assert found.kinds == ("municipal",)
    assert found.applies_to("municipal") and not found.applies_to("service")


def test_a_defect_for_no_kind_is_refused():
    with pytest.raises(ValueError, match="no simulator kind"):
        defects.defect("test-for-nobody", (), "PRV-ITEM-001", "nothing",
                       wrap=lambda inner: inner)
    assert "test-for-nobody" not in defects.all_defects()


def test_certify_takes_a_provider_defect_on_a_service_and_refuses_another_kinds(tmp_path):
    plan = make_plan(KOKUHO, None, "provisions-processed-twice", tmp_path / "a", None, None,
                     None)
    assert plan.defect == "provisions-processed-twice"
    with pytest.raises(ConfigError, match=r"applies to municipal simulators, not to 'kokuho' "
                                          r"\(service\)"):
        make_plan(KOKUHO, None, "ignore-audience", tmp_path / "b", None, None, None)


def test_sim_up_names_every_kind_a_defect_applies_to(capsys):
    import typer

    from meshcert.cli.app import _defect_option
    from meshcert_simulators.common.topology import load_topology

    topology = load_topology(VENDORS.parent / "topologies" / "information-provider-services.yaml")
    assert _defect_option("kokuho=slow-provisions", topology) == ("kokuho", "slow-provisions")
    with pytest.raises(typer.Exit) as refused:
        _defect_option("authz=slow-provisions", topology)
    assert refused.value.exit_code == 2
    assert "applies to tax and service simulators, not to 'authz'" in capsys.readouterr().err


# -- --reference -----------------------------------------------------------------------------------


def test_a_service_reference_of_the_profile_is_taken():
    assert checked_reference(KOKUHO, PROFILE) == KOKUHO.resolve()
    assert reference_target(PROFILE) != KOKUHO.resolve()  # the default stays the bundled one


def test_a_reference_of_another_profile_is_refused():
    with pytest.raises(SelftestError, match="its profile is 'resident-registry', not "
                                            "'information-provider'"):
        checked_reference(VENDORS / "reference-registry.yaml", PROFILE)


def test_a_reference_without_launch_is_refused(tmp_path: Path):
    with pytest.raises(SelftestError, match="has no 'launch'"):
        checked_reference(without_launch(tmp_path), PROFILE)


def test_a_missing_or_unreadable_reference_is_refused(tmp_path: Path):
    with pytest.raises(SelftestError, match="cannot read it"):
        checked_reference(tmp_path / "nope.yaml", PROFILE)
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(SelftestError, match="not a target file"):
        checked_reference(tmp_path / "list.yaml", PROFILE)


@pytest.mark.parametrize(("args", "message"), [
    (["--reference", str(KOKUHO)], "--reference is the reference of one profile"),
    (["-p", "resident-registry", "--reference", str(KOKUHO)], "its profile is"),
    (["-p", PROFILE, "--reference", "MISSING"], "cannot read it"),
])
def test_the_cli_refuses_a_reference_it_cannot_use_with_exit_2(args, message):
    result = selftest(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not Path("reports").exists() and not Path(".meshcert").exists()


def test_the_cli_refuses_a_reference_without_launch_with_exit_2(tmp_path: Path):
    result = selftest("-p", PROFILE, "--reference", str(without_launch(tmp_path)))
    assert result.exit_code == 2 and "has no 'launch'" in result.stderr


def test_the_selftest_certifies_the_reference_given(monkeypatch, tmp_path: Path):
    import meshcert.certify.selftest as selftest_module
    from meshcert.certify.run import Certification
    from meshcert.certify.verdicts import unjudged

    catalog = load_catalog()
    certified = []

    def certify(target, *, defect=None, seed=None, out_dir=None):
        certified.append((Path(target), defect))
        outcome = unjudged(catalog, PROFILE, "not run")
        return Certification("r", Path(out_dir), 3, outcome.by_id(), False, (), (), 1,
                             outcome, {}, harness_error="not run")

    monkeypatch.setattr(selftest_module, "REPORTS_OUT", tmp_path / "out")
    monkeypatch.setattr(selftest_module, "certify", certify)
    result = selftest_module.run_selftest(PROFILE, only=["slow-provisions"], jobs=1,
                                          reference=KOKUHO)
    assert set(certified) == {(KOKUHO.resolve(), None), (KOKUHO.resolve(), "slow-provisions")}
    assert result.target == KOKUHO.resolve()
    written = json.loads((result.report_dir / "selftest.json").read_text(encoding="utf-8"))
    assert written["target"] == str(KOKUHO.resolve())
