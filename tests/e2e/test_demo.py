"""``chargeops demo --non-interactive`` from start to end, as the README's first command runs it, and
Ctrl-C in the middle of it leaving no process behind."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CHARGEOPS = str(Path(sys.executable).with_name("chargeops"))


def processes_using(folder: Path) -> list[str]:
    """Command lines of running processes that name ``folder`` (the demo's etcd and kube-apiserver do)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in command:
            found.append(command)
    return found


@pytest.mark.usefixtures("control_plane")  # builds (or finds) the binaries before the timeout counts
def test_the_demo_runs_to_its_summary(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = subprocess.run(
        [CHARGEOPS, "demo", "--non-interactive", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # The unapproved charger waited, the admin was refused, the super-admin approved.
    assert "Approved=False AwaitingApproval" in output
    assert "Only members of chargeops:super-admins may set" in output
    # Final tables: every charger Ready, garage-north-2 now pay-per-month; one finalized invoice.
    chargers = [line.split() for line in output.splitlines() if line.startswith(("garage-north-", "visitor-1"))]
    final = {row[0]: row for row in chargers[-3:]}
    assert final["garage-north-2"][3:5] == ["PayPerMonth", "True"]
    assert final["visitor-1"][3:5] == ["Free", "True"]
    invoice_rows = [line.split() for line in output.splitlines() if line.startswith("ada-2026-10 ")]
    assert invoice_rows, output[-3000:]
    assert invoice_rows[-1][3] == "PARK-000001"
    assert invoice_rows[-1][-2] == "Finalized"
    rendered = workdir / "invoices" / "ada-2026-10.html"
    assert f"Rendered invoice: {rendered}" in output
    assert "PARK-000001" in rendered.read_text()
    assert processes_using(workdir) == []


@contextlib.contextmanager
def sigint_as_in_a_terminal() -> Iterator[None]:
    """SIGINT handled as usual in processes started meanwhile. A shell starts a background job (``cmd &``
    in a script) with SIGINT ignored, and children inherit that: the demo, so started, ran to its end
    unbothered by the test's Ctrl-C (found running ``.ci/run`` in the background)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("control_plane")
def test_ctrl_c_stops_everything_the_demo_started(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    with sigint_as_in_a_terminal():
        demo = subprocess.Popen(
            [CHARGEOPS, "demo", "--non-interactive", "--workdir", str(workdir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert demo.stdout is not None
    for line in demo.stdout:  # wait until the cluster and the gateway run
        if line.startswith("[3/"):
            break
    assert processes_using(workdir), "the demo's control plane should be running"
    demo.send_signal(signal.SIGINT)
    try:
        rest = demo.communicate(timeout=300)[0]
    except subprocess.TimeoutExpired:
        demo.kill()
        log = workdir / "demo.log"
        tail = log.read_text()[-4000:] if log.exists() else "(no log)"
        raise AssertionError(f"the demo did not stop within 300 s of Ctrl-C; its log ends:\n{tail}") from None
    assert demo.returncode == 130, rest
    assert "Interrupted; everything the demo started has been stopped." in rest
    deadline = time.monotonic() + 30
    while processes_using(workdir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_using(workdir) == []
