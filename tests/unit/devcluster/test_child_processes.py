"""Children of the control plane log to a file, stop on SIGTERM or SIGKILL, and die with their parent."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chargeops.devcluster import processes


def _is_gone(pid: int) -> bool:
    """True once ``pid`` no longer runs; a zombie waiting for a reaper counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def _wait_until_gone(pid: int, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _is_gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_output_goes_to_the_log_and_its_tail_is_readable(tmp_path: Path) -> None:
    log = tmp_path / "child.log"

    child = processes.spawn(
        "child", ["sh", "-c", "for i in 1 2 3 4; do echo line $i; done; echo oops >&2"], log_path=log
    )
    child.popen.wait(timeout=10)

    assert child.log_tail(2) == "line 4\noops"


def test_stop_in_order_escalates_to_sigkill_after_the_grace(tmp_path: Path) -> None:
    stubborn = processes.spawn(
        "stubborn",
        ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"],
        log_path=tmp_path / "s.log",
    )
    while "ready" not in stubborn.log_path.read_text():
        time.sleep(0.05)

    started = time.monotonic()
    processes.stop_in_order([stubborn], grace_s=0.5)

    assert stubborn.popen.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_stop_in_order_leaves_a_polite_process_to_exit_on_sigterm(tmp_path: Path) -> None:
    polite = processes.spawn("polite", ["sleep", "600"], log_path=tmp_path / "p.log")

    processes.stop_in_order([polite], grace_s=5)

    assert polite.popen.returncode == -signal.SIGTERM


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")
def test_a_child_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent_code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from chargeops.devcluster import processes
        child = processes.spawn("sleeper", ["sleep", "600"], log_path=Path({str(tmp_path / "c.log")!r}))
        print(child.popen.pid, flush=True)
        time.sleep(600)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, env=env) as parent:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        assert not _is_gone(child_pid)

        parent.kill()
        parent.wait()

    assert _wait_until_gone(child_pid, timeout_s=10)


def test_tail_of_a_missing_log_says_so(tmp_path: Path) -> None:
    assert "does not exist" in processes.tail(tmp_path / "nope.log", 5)
