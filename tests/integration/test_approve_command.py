"""`chargeops approve` against a real API server (as the kubeconfig's identities) and on copies of the examples.

The cluster tests enforce the shipped admission policy in the test's namespace (``admission.install``),
so the editor identity is refused by the policy exactly as in a real cluster. The file tests need no
cluster: they edit copies of ``examples/20-chargers.yaml``.
"""

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from chargeops.api import v1alpha1
from chargeops.api.v1alpha1 import approval
from chargeops.cli.main import cli
from chargeops.devcluster import identities
from chargeops.devcluster.controlplane import ControlPlane, NamespacedKubectl
from tests.integration import admission

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARGERS = EXAMPLES / "20-chargers.yaml"
COMMITTED = "v1-d672bb74844a2eb8"  # garage-north-1's approval as committed
APPROVAL_LINES = f"  annotations:\n    {approval.ANNOTATION}: {COMMITTED}\n"


def expected_value(name: str) -> str:
    """The fingerprint of the example Charger ``name``, computed from its spec."""
    for document in yaml.safe_load_all(CHARGERS.read_text()):
        if document["kind"] == "Charger" and document["metadata"]["name"] == name:
            return approval.fingerprint(v1alpha1.ChargerSpec.model_validate(document["spec"]))
    raise LookupError(name)


def chargeops(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def approve_live(
    control_plane: ControlPlane, namespace: str, target: str, *, identity: str, extra: Sequence[str] = ()
) -> Result:
    return chargeops(
        "approve", target, "-n", namespace, "--kubeconfig", str(control_plane.kubeconfig), "--context", identity, *extra
    )


def annotation(kubectl: NamespacedKubectl, charger: str) -> str | None:
    stored = json.loads(kubectl("get", "charger", charger, "-o", "json").stdout)
    return (stored["metadata"].get("annotations") or {}).get(approval.ANNOTATION)


@pytest.fixture
def examples(control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl) -> Iterator[None]:
    policy = admission.install(control_plane, namespace)
    kubectl("apply", "-f", str(EXAMPLES), as_identity=identities.SUPER_ADMIN)
    yield
    policy.uninstall()


@pytest.mark.usefixtures("examples")
def test_super_admin_approves_a_live_charger(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    value = expected_value("garage-north-2")
    result = approve_live(control_plane, namespace, "charger/garage-north-2", identity=identities.SUPER_ADMIN)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"charger/garage-north-2 approved: chargeops.io/approval={value}\n"
        "  pay-per-month, priced by Tariff time-and-fee\n"
    )
    assert annotation(kubectl, "garage-north-2") == value


@pytest.mark.usefixtures("examples")
def test_editor_is_refused_with_the_policys_message(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    result = approve_live(control_plane, namespace, "charger/garage-north-2", identity=identities.EDITOR)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        'Error: Cannot approve charger/garage-north-2: chargers.chargeops.io "garage-north-2"'
    )
    assert result.stderr.rstrip().endswith(
        "denied request: Only members of chargeops:super-admins may set, change or remove the "
        "chargeops.io/approval annotation."
    )
    assert annotation(kubectl, "garage-north-2") is None


@pytest.mark.usefixtures("examples")
@pytest.mark.parametrize("target", ["charger/garage-north-2", "chargers/garage-north-2", "garage-north-2"])
def test_dry_run_prints_only_the_value(control_plane: ControlPlane, namespace: str, target: str) -> None:
    result = approve_live(control_plane, namespace, target, identity=identities.EDITOR, extra=["--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected_value("garage-north-2") + "\n"


@pytest.mark.usefixtures("examples")
def test_a_tariff_change_makes_the_live_approval_stale_until_approved_again(
    control_plane: ControlPlane, namespace: str, kubectl: NamespacedKubectl
) -> None:
    kubectl("patch", "charger", "garage-north-1", "--type=merge",
            "-p", '{"spec": {"chargingMode": {"tariffRef": {"name": "time-and-fee"}}}}')  # fmt: skip
    stale = approve_live(control_plane, namespace, "garage-north-1", identity=identities.EDITOR, extra=["--check"])
    assert stale.exit_code == 1
    assert f"charger/garage-north-1: approval stale ({COMMITTED})" in stale.stderr

    renewed = approve_live(control_plane, namespace, "garage-north-1", identity=identities.SUPER_ADMIN)
    assert renewed.exit_code == 0, renewed.output
    assert f"(replaces the stale approval {COMMITTED})" in renewed.stdout
    assert annotation(kubectl, "garage-north-1") not in (None, COMMITTED)


@pytest.mark.usefixtures("examples")
def test_a_free_or_missing_charger_is_an_error(control_plane: ControlPlane, namespace: str) -> None:
    free = approve_live(control_plane, namespace, "visitor-1", identity=identities.SUPER_ADMIN)
    assert free.exit_code == 1
    assert "charger/visitor-1 charges for free (spec.chargingMode.payPerMonth is not true)" in free.stderr
    missing = approve_live(control_plane, namespace, "nope", identity=identities.SUPER_ADMIN)
    assert missing.exit_code == 1
    assert f"Error: charger/nope does not exist in namespace {namespace}." in missing.stderr


@pytest.mark.usefixtures("examples")
def test_the_installed_command_exits_1_on_refusal(control_plane: ControlPlane, namespace: str) -> None:
    """The console script, as a user runs it: the same refusal, on stderr, exit code 1."""
    script = Path(sys.executable).parent / "chargeops"
    result = subprocess.run(
        [str(script), "approve", "charger/garage-north-2", "-n", namespace,
         "--kubeconfig", str(control_plane.kubeconfig), "--context", identities.EDITOR],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Only members of chargeops:super-admins may set" in result.stderr


def unapproved_copy(tmp_path: Path) -> Path:
    """examples/20-chargers.yaml without garage-north-1's approval (the two lines that hold it)."""
    original = CHARGERS.read_text()
    assert original.count(APPROVAL_LINES) == 1
    copy = tmp_path / "chargers.yaml"
    copy.write_text(original.replace(APPROVAL_LINES, ""))
    return copy


def test_file_approval_restores_the_committed_value_and_keeps_the_comments(tmp_path: Path) -> None:
    copy = unapproved_copy(tmp_path)
    result = chargeops("approve", "-f", str(copy), "charger/garage-north-1")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"charger/garage-north-1 approved: chargeops.io/approval={COMMITTED}\n"
        "  pay-per-month, priced by Tariff energy-standard\n"
        f"wrote {copy}\n"
    )
    assert copy.read_text() == CHARGERS.read_text()


def test_file_approval_covers_every_pay_per_month_charger(tmp_path: Path) -> None:
    copy = unapproved_copy(tmp_path)
    result = chargeops("approve", "-f", str(copy))
    assert result.exit_code == 0, result.output
    assert "charger/visitor-1" not in result.stdout
    value = expected_value("garage-north-2")
    assert copy.read_text() == CHARGERS.read_text().replace(
        "    chargeops.io/garage: north\nspec:\n  chargePointId: PARKSIDE-N2",
        f"    chargeops.io/garage: north\n  annotations:\n    {approval.ANNOTATION}: {value}\n"
        "spec:\n  chargePointId: PARKSIDE-N2",
    )
    assert chargeops("approve", "-f", str(copy), "--check").exit_code == 0


def test_check_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "chargers.yaml"
    stale.write_text(
        CHARGERS.read_text().replace("tariffRef: {name: energy-standard}", "tariffRef: {name: time-and-fee}")
    )
    result = chargeops("approve", "-f", str(stale), "--check", "garage-north-1")
    assert result.exit_code == 1
    assert result.stderr == (
        f"charger/garage-north-1: approval stale ({COMMITTED}); pay-per-month, priced by Tariff time-and-fee "
        f"needs chargeops.io/approval={expected_value('garage-north-2')}\n"
        f"Run `chargeops approve -f {stale}` and commit the result.\n"
    )
    assert stale.read_text().count(COMMITTED) == 1  # --check writes nothing


def test_check_passes_on_the_committed_approval() -> None:
    result = chargeops("approve", "-f", str(CHARGERS), "--check", "garage-north-1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "charger/garage-north-1: approved (pay-per-month, priced by Tariff energy-standard)\n"


def test_a_file_without_pay_per_month_chargers_is_an_error() -> None:
    result = chargeops("approve", "-f", str(EXAMPLES / "00-site.yaml"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {EXAMPLES / '00-site.yaml'} holds no Charger with spec.chargingMode.payPerMonth: true; "
        "approvals confirm pay-per-month only, so there is nothing to approve.\n"
    )


def test_check_passes_on_a_file_without_pay_per_month_chargers() -> None:
    # CI runs --check over every manifest of a change; one with nothing to approve has nothing stale.
    result = chargeops("approve", "-f", str(EXAMPLES / "00-site.yaml"), "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{EXAMPLES / '00-site.yaml'}: no pay-per-month Charger; nothing to check\n"
