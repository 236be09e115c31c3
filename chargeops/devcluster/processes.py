"""Child processes of the control plane: started so they die with us, stopped gently then firmly.

``controlplane`` starts etcd and kube-apiserver through ``spawn`` and stops them with ``stop_in_order``.
An orphaned kube-apiserver would hold its port and etcd its data dir long after a killed test run, so
each child gets three guards: its own session (a terminal's Ctrl-C reaches only us, and we stop the
children in order), an ``atexit`` stop in ``controlplane``, and on Linux ``PR_SET_PDEATHSIG``, which has
the kernel kill the child when its parent dies, even by SIGKILL.
"""

import contextlib
import ctypes
import dataclasses
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

# From <linux/prctl.h>.
_PR_SET_PDEATHSIG = 1

# How many log lines an error shows: enough for the fatal message and what led to it.
LOG_TAIL_LINES = 30


@dataclasses.dataclass
class ManagedProcess:
    """A running child whose output goes to ``log_path``."""

    name: str
    popen: "subprocess.Popen[bytes]"
    log_path: Path

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the process's log, for error messages."""
        return tail(self.log_path, lines)


def spawn(name: str, args: Sequence[str], *, log_path: Path) -> ManagedProcess:
    """Start ``args`` with stdout and stderr written to ``log_path`` (replacing an older log)."""
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # The hook only calls prctl, which takes no lock another thread could hold across fork.
            preexec_fn=_die_with_parent_hook(),  # noqa: PLW1509
        )
    return ManagedProcess(name=name, popen=popen, log_path=log_path)


def stop_in_order(processes: Iterable[ManagedProcess], *, grace_s: float) -> None:
    """Stop one process after the other: SIGTERM, up to ``grace_s`` to exit, then SIGKILL.

    One at a time because a client drains quickly only while its server still answers: kube-apiserver
    exits in about a second before etcd, but waits out any grace while etcd is already gone.
    """
    for process in processes:
        if process.running():
            with contextlib.suppress(ProcessLookupError):
                process.popen.send_signal(signal.SIGTERM)
        try:
            process.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a text file, or a note that it is missing."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGKILL the child when this process dies, or None.

    The kernel sends the signal when the *thread* that forked the child exits, not the process, so the
    guard is set only when spawning from the main thread; from another thread (``asyncio.to_thread``)
    the child would die as soon as that worker thread ended.
    """
    if sys.platform != "linux" or threading.current_thread() is not threading.main_thread():
        return None
    # Loaded here, in the parent: after fork the child should run as little Python as possible.
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent_pid = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # If the parent died before prctl ran, the signal will never come: give up right away.
        if os.getppid() != parent_pid:
            os._exit(1)

    return hook
