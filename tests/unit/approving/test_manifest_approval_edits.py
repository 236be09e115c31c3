"""`chargeops approve -f` writes the approval into the file's text and changes nothing else."""

import textwrap

import pytest

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import approval
from chargeops.approving import documents, errors

SPEC = """\
spec:
  chargePointId: CP-1
  siteRef: {name: parkside}
  chargingMode:
    payPerMonth: true
    tariffRef: {name: energy-standard}
"""
# approval.fingerprint of SPEC (the same value examples/20-chargers.yaml commits).
VALUE = "v1-d672bb74844a2eb8"


def charger(metadata: str, *, spec: str = SPEC) -> str:
    return "apiVersion: chargeops.io/v1alpha1\nkind: Charger\n" + textwrap.dedent(metadata) + spec


def approve_all(text: str) -> str:
    manifest = documents.parse(text, source="chargers.yaml")
    return documents.approve(manifest, documents.select(manifest))


def test_the_committed_value_is_the_fingerprint_of_the_spec() -> None:
    spec = v1alpha1.ChargerSpec.model_validate(
        {
            "chargePointId": "CP-1",
            "siteRef": {"name": "parkside"},
            "chargingMode": {"payPerMonth": True, "tariffRef": {"name": "energy-standard"}},
        }
    )
    assert approval.fingerprint(spec) == VALUE


def test_metadata_without_annotations_gets_them_after_its_last_entry() -> None:
    text = charger("""\
        metadata:
          name: a  # the charger in bay 1
          labels:
            bay: "1"
        """)
    assert approve_all(text) == charger(f"""\
        metadata:
          name: a  # the charger in bay 1
          labels:
            bay: "1"
          annotations:
            chargeops.io/approval: {VALUE}
        """)


def test_the_file_indentation_is_kept() -> None:
    text = charger("""\
        metadata:
            name: a
        """)
    assert approve_all(text) == charger(f"""\
        metadata:
            name: a
            annotations:
                chargeops.io/approval: {VALUE}
        """)


def test_existing_annotations_get_one_more_line() -> None:
    text = charger("""\
        metadata:
          annotations:
            team: garage  # who to call
          name: a
        """)
    assert approve_all(text) == charger(f"""\
        metadata:
          annotations:
            team: garage  # who to call
            chargeops.io/approval: {VALUE}
          name: a
        """)


@pytest.mark.parametrize(
    ("written", "rewritten"),
    [
        ("v1-0000000000000000", VALUE),
        ('"v1-0000000000000000"', f'"{VALUE}"'),
        ("'v1-0000000000000000'", f"'{VALUE}'"),
    ],
)
def test_a_stale_value_is_replaced_in_its_own_quoting(written: str, rewritten: str) -> None:
    text = charger(f"""\
        metadata:
          name: a
          annotations:
            chargeops.io/approval: {written}   # approved in review #12
        """)
    assert approve_all(text) == text.replace(written, rewritten)


@pytest.mark.parametrize(
    ("written", "rewritten"),
    [
        ("annotations: {}", f"annotations: {{chargeops.io/approval: {VALUE}}}"),
        ("annotations: {team: garage}", f"annotations: {{chargeops.io/approval: {VALUE}, team: garage}}"),
        ("annotations: ~", f"annotations: {{chargeops.io/approval: {VALUE}}}"),
    ],
)
def test_flow_and_null_annotations_stay_on_their_line(written: str, rewritten: str) -> None:
    text = charger(f"""\
        metadata:
          name: a
          {written}
        """)
    assert approve_all(text) == text.replace(written, rewritten)


def test_an_empty_annotations_key_gets_its_entry_below() -> None:
    text = charger("""\
        metadata:
          annotations:
          name: a
        """)
    assert approve_all(text) == charger(f"""\
        metadata:
          annotations:
            chargeops.io/approval: {VALUE}
          name: a
        """)


def test_flow_metadata_gets_flow_annotations() -> None:
    text = charger("metadata: {name: a}\n")
    assert approve_all(text) == charger(f"metadata: {{annotations: {{chargeops.io/approval: {VALUE}}}, name: a}}\n")


def test_windows_line_endings_are_kept() -> None:
    text = charger("metadata:\n  name: a\n").replace("\n", "\r\n")
    assert approve_all(text) == charger(
        f"metadata:\n  name: a\n  annotations:\n    chargeops.io/approval: {VALUE}\n"
    ).replace("\n", "\r\n")


def test_metadata_at_the_end_of_a_file_without_final_newline() -> None:
    text = "apiVersion: chargeops.io/v1alpha1\nkind: Charger\n" + SPEC + "metadata:\n  name: a"
    assert approve_all(text) == text + f"\n  annotations:\n    chargeops.io/approval: {VALUE}\n"


def test_only_unapproved_pay_per_month_chargers_change_in_a_multi_document_file() -> None:
    free = SPEC.replace("payPerMonth: true", "payPerMonth: false")
    text = "\n---\n".join(
        [
            "# the site\napiVersion: chargeops.io/v1alpha1\nkind: Site\nmetadata: {name: parkside}\n"
            "spec: {plan: Business}",
            charger("metadata:\n  name: approved\n  annotations:\n    chargeops.io/approval: " + VALUE + "\n"),
            charger("metadata:\n  name: free\n", spec=free),
            charger("metadata:\n  name: waiting\n"),
        ]
    )
    manifest = documents.parse(text, source="chargers.yaml")
    assert [d.state.name for d in manifest.chargers] == ["approved", "waiting"]
    assert manifest.free_chargers == ["free"]
    pending = [d for d in manifest.chargers if d.state.current != d.state.expected]
    edited = documents.approve(manifest, pending)
    assert edited == text.replace(
        "  name: waiting\n", f"  name: waiting\n  annotations:\n    chargeops.io/approval: {VALUE}\n"
    )


def test_naming_chargers_selects_them() -> None:
    text = charger("metadata: {name: a}\n") + "---\n" + charger("metadata: {name: b}\n")
    manifest = documents.parse(text, source="chargers.yaml")
    assert [d.state.name for d in documents.select(manifest, ["b"])] == ["b"]


def test_a_file_without_pay_per_month_chargers_has_nothing_to_approve() -> None:
    free = charger("metadata: {name: a}\n", spec=SPEC.replace("payPerMonth: true", "payPerMonth: false"))
    manifest = documents.parse(free, source="chargers.yaml")
    with pytest.raises(errors.NothingToApproveError, match=r"chargers.yaml holds no Charger with .*payPerMonth: true"):
        documents.select(manifest)
    with pytest.raises(errors.NothingToApproveError, match=r"charger/a in chargers\.yaml charges for free"):
        documents.select(manifest, ["a"])
    with pytest.raises(errors.ChargerNotFoundError, match=r"chargers\.yaml holds no Charger named b\."):
        documents.select(manifest, ["b"])


def test_an_invalid_spec_is_named() -> None:
    broken = charger("metadata: {name: a}\n", spec=SPEC + "  heartbeatIntervalS: 5\n")
    with pytest.raises(
        errors.InvalidChargerError,
        match=r"charger/a has an invalid spec: spec.heartbeatIntervalS: Input should be greater than or equal to 30",
    ):
        documents.parse(broken, source="chargers.yaml")


def test_invalid_yaml_is_named() -> None:
    with pytest.raises(errors.UneditableDocumentError, match=r"chargers\.yaml is not valid YAML"):
        documents.parse("a: [", source="chargers.yaml")


def test_a_block_scalar_approval_is_left_to_a_person() -> None:
    text = charger("metadata:\n  name: a\n  annotations:\n    chargeops.io/approval: |\n      v1-0\n")
    with pytest.raises(errors.UneditableDocumentError, match=f"set metadata.annotations.* to {VALUE} by hand"):
        approve_all(text)
