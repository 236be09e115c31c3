"""stripe-mock on loopback: Stripe's API shape, for the payments tests.

stripe-mock (built from ``tools/stripe-mock`` by ``binaries``) answers every Stripe API route from the
OpenAPI spec bundled into it, and rejects requests whose parameters that spec does not allow. It keeps
no state: an object created is not there to fetch afterwards. The ``stripe_mock`` fixture in
``tests/conftest.py`` starts one per test session; anything else can do the same::

    with stripe_mock.StripeMock.start() as mock:
        client = stripe.StripeClient(mock.api_key, base_addresses={"api": mock.api_base})

The kernel picks the port (``127.0.0.1:`` with no port), and we read it back from the log, so two
runs never race for one. HTTPS is bound to loopback too, and unused: stripe-mock opens it by default
unless HTTP is asked for in a way other than ``-http-addr``.
"""

import json
import re
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from chargeops.devcluster import binaries, errors, ports, processes

# stripe-mock accepts any key shaped ``sk_test_<one word>``; this one names who sent it in its log.
API_KEY = "sk_test_chargeops"

# It parses an 8 MB OpenAPI spec before it listens, about a second here; thirty means something is wrong.
DEFAULT_START_TIMEOUT_S = 30.0
_POLL_INTERVAL_S = 0.05
_REQUEST_TIMEOUT_S = 2.0
# It holds no state and exits at once on SIGTERM.
_STOP_GRACE_S = 5.0

# The line stripe-mock prints once its HTTP listener is bound.
_LISTENING = re.compile(r"^Listening for HTTP at address: (?P<address>\S+)$", re.MULTILINE)
# A cheap route that every version of the spec has, to prove requests are served, not just accepted.
_READY_PATH = "/v1/customers?limit=1"


class StripeMock:
    """A running stripe-mock; ``stop`` it, or use it as a context manager."""

    def __init__(self, *, workdir: Path, process: processes.ManagedProcess) -> None:
        # Use ``StripeMock.start``; this only holds what it made.
        self.workdir = workdir
        self._process: processes.ManagedProcess | None = process
        self.api_base = ""
        self.api_key = API_KEY

    @classmethod
    def start(cls, *, timeout_s: float = DEFAULT_START_TIMEOUT_S) -> Self:
        """Start stripe-mock (building it on first use) and return once it answers an API request."""
        binary = binaries.ensure(binaries.STRIPE_MOCK)
        workdir = Path(tempfile.mkdtemp(prefix="chargeops-stripe-mock-"))
        try:
            process = processes.spawn(
                "stripe-mock",
                [
                    str(binary),
                    f"-http-addr={ports.LOOPBACK}:",
                    f"-https-addr={ports.LOOPBACK}:",
                ],
                log_path=workdir / "stripe-mock.log",
            )
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        mock = cls(workdir=workdir, process=process)
        try:
            mock._wait_until_ready(deadline=time.monotonic() + timeout_s)
        except BaseException:
            mock.stop()
            raise
        return mock

    @property
    def log_path(self) -> Path:
        """stripe-mock's output: one ``Request: POST /v1/…`` line per request it served."""
        return self.workdir / "stripe-mock.log"

    def stop(self) -> None:
        """Stop the server and remove its folder. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            processes.stop_in_order([process], grace_s=_STOP_GRACE_S)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_until_ready(self, *, deadline: float) -> None:
        """Read the port from the log, then poll one API route until it answers 200."""
        problem = "it has not said where it listens yet"
        while True:
            self._fail_if_exited()
            if not self.api_base:
                match = _LISTENING.search(processes.tail(self.log_path, lines=50))
                if match is not None:
                    self.api_base = f"http://{match['address']}"
            if self.api_base:
                try:
                    self._get(_READY_PATH)
                except (OSError, ValueError) as exc:
                    problem = f"GET {_READY_PATH} failed: {exc}"
                else:
                    return
            if time.monotonic() > deadline:
                raise self._start_error(f"stripe-mock was not ready in time ({problem})")
            time.sleep(_POLL_INTERVAL_S)

    def _get(self, path: str) -> object:
        request = urllib.request.Request(f"{self.api_base}{path}")  # noqa: S310 -- our own loopback URL
        request.add_header("Authorization", f"Bearer {self.api_key}")
        with urllib.request.urlopen(request, timeout=_REQUEST_TIMEOUT_S) as response:  # noqa: S310
            return json.loads(response.read())

    def _fail_if_exited(self) -> None:
        process = self._process
        if process is not None and not process.running():
            raise self._start_error(f"stripe-mock exited with code {process.popen.returncode} while starting")

    def _start_error(self, problem: str) -> errors.StripeMockStartError:
        log_tail = processes.tail(self.log_path, processes.LOG_TAIL_LINES)
        return errors.StripeMockStartError(f"{problem}; last lines of {self.log_path}:\n{log_tail}", log_tail=log_tail)
