"""crds/ is generated from the API types; any drift fails here and in `chargeops crds --check`."""

import shutil
from pathlib import Path

from click.testing import CliRunner

from chargeops import crdgen
from chargeops.cli.main import cli

CRDS = Path(__file__).resolve().parents[3] / "crds"


def test_committed_crds_match_the_api_types() -> None:
    assert crdgen.stale(CRDS) == []


def test_check_command_passes_on_the_committed_crds() -> None:
    result = CliRunner().invoke(cli, ["crds", "--check", "--output-dir", str(CRDS)])
    assert result.exit_code == 0, result.output


def test_check_command_fails_and_names_the_stale_file(tmp_path: Path) -> None:
    shutil.copytree(CRDS, tmp_path, dirs_exist_ok=True)
    chargers = tmp_path / "chargeops.io_chargers.yaml"
    chargers.write_text(chargers.read_text().replace("ChargePointID", "ChargePointId"))
    result = CliRunner().invoke(cli, ["crds", "--check", "--output-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "chargeops.io_chargers.yaml" in result.output


def test_generation_writes_one_file_per_kind_and_removes_orphans(tmp_path: Path) -> None:
    orphan = tmp_path / "chargeops.io_gadgets.yaml"
    orphan.write_text(crdgen.files.HEADER + "---\n{}\n")
    result = CliRunner().invoke(cli, ["crds", "--output-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(crdgen.rendered())
    assert crdgen.stale(tmp_path) == []
