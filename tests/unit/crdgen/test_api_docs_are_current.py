"""docs/api/ is generated from the API types; any drift fails here and in `chargeops docs --check`."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import conditions
from chargeops.cli.main import cli
from chargeops.crdgen import crd, docfiles, docs, errors, fields, reasons

REPO = Path(__file__).resolve().parents[3]
API_DOCS = REPO / "docs" / "api"
EXAMPLES = REPO / "examples"
KIND_NAMES = [kind.names.kind for kind in v1alpha1.KINDS]


def page(kind: type[v1alpha1.Resource]) -> str:
    return (API_DOCS / docs.file_name(kind)).read_text()


def test_committed_docs_match_the_api_types() -> None:
    assert docfiles.stale(API_DOCS, examples_dir=EXAMPLES) == []


def test_check_command_passes_on_the_committed_docs() -> None:
    args = ["docs", "--check", "--output-dir", str(API_DOCS), "--examples-dir", str(EXAMPLES)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_check_command_fails_and_names_the_stale_page(tmp_path: Path) -> None:
    shutil.copytree(API_DOCS, tmp_path, dirs_exist_ok=True)
    charger = tmp_path / "charger.md"
    charger.write_text(charger.read_text().replace("heartbeatIntervalS", "heartbeatInterval"))
    args = ["docs", "--check", "--output-dir", str(tmp_path), "--examples-dir", str(EXAMPLES)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "charger.md" in result.output
    assert "run `chargeops docs`" in result.output


def test_generation_writes_one_page_per_kind_and_an_index_and_removes_orphans(tmp_path: Path) -> None:
    orphan = tmp_path / "gadget.md"
    orphan.write_text(docs.HEADER + "# Gadget\n")
    kept = tmp_path / "notes.md"
    kept.write_text("# Written by a person\n")
    result = CliRunner().invoke(cli, ["docs", "--output-dir", str(tmp_path), "--examples-dir", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    expected = {"README.md", "notes.md", *(f"{name.lower()}.md" for name in KIND_NAMES)}
    assert {p.name for p in tmp_path.iterdir()} == expected
    assert docfiles.stale(tmp_path, examples_dir=EXAMPLES) == []


@pytest.mark.parametrize("kind", v1alpha1.KINDS, ids=KIND_NAMES)
def test_every_spec_and_status_field_of_the_schema_has_an_entry(kind: type[v1alpha1.Resource]) -> None:
    schema = crd.openapi_schema(kind)
    text = page(kind)
    for part in ("spec", "status"):
        for field in fields.walk(schema["properties"][part], path=part):
            assert f"### `{field.path}`" in text


def test_the_charger_page_shows_rules_with_their_messages_defaults_and_the_approved_example() -> None:
    text = page(v1alpha1.Charger)
    assert "chargingMode.tariffRef is required when chargingMode.payPerMonth is true" in text
    assert "`!self.payPerMonth || has(self.tariffRef)`" in text
    assert "`integer` · optional · default `300` · 30 to 86400" in text
    assert "chargeops.io/approval: v1-d672bb74844a2eb8" in text
    assert '| Approved | `.status.conditions[?(@.type=="Approved")].status` | with `-o wide` |' in text


def test_model_level_rules_appear_under_spec() -> None:
    assert "set exactly one of spec.chargerRefs or spec.chargerSelector" in page(v1alpha1.Subscription)


def test_each_page_lists_the_shared_condition_types_and_only_its_own_specific_ones() -> None:
    for kind in v1alpha1.KINDS:
        text = page(kind)
        for shared in (conditions.READY, conditions.RECONCILING, conditions.STALLED, conditions.SUCCEEDED):
            assert f"| `{shared}` |" in text
    assert f"| `{conditions.CONNECTED}` |" in page(v1alpha1.Charger)
    assert f"| `{conditions.CONNECTED}` |" not in page(v1alpha1.Site)
    assert f"| `{conditions.INVALID_TIME_ZONE}` |" in page(v1alpha1.Site)
    assert f"| `{conditions.DRIFT_DETECTED}` |" in page(v1alpha1.Charger).split("Events only")[1]


def test_every_declared_type_and_reason_reaches_some_page() -> None:
    sections = docfiles.condition_sections()
    placed = {entry.value for section in sections for entry in section.entries}
    declared = {value for name, value in vars(conditions).items() if name.isupper() and isinstance(value, str)}
    assert placed == declared
    every_page = "".join(page(kind) for kind in v1alpha1.KINDS)
    for value in declared:
        assert f"| `{value}` |" in every_page


def test_a_constant_under_a_heading_that_names_no_kind_is_refused() -> None:
    source = '# Reasons of gadgets.\nBROKEN = "Broken"  # the gadget broke\n'
    with pytest.raises(errors.UnplacedConditionError, match="BROKEN"):
        reasons.sections(source, KIND_NAMES)


def test_a_constant_without_a_scenario_comment_is_refused() -> None:
    sections = reasons.sections('# Reasons of Sites.\nQUIET = "Quiet"\n', KIND_NAMES)
    with pytest.raises(errors.UnplacedConditionError, match="QUIET"):
        reasons.check_complete(sections, {"QUIET": "Quiet"})
