"""Drift checks are spread: chargers converged together are not all checked again together."""

from chargeops.ocpp_gateway.convergence import runner

INTERVAL_S = 600.0


def test_drift_waits_stay_within_a_quarter_of_the_interval_and_spread_over_it() -> None:
    waits = [runner.drift_wait(INTERVAL_S) for _ in range(2_000)]

    assert all(0.75 * INTERVAL_S <= wait <= 1.25 * INTERVAL_S for wait in waits)
    # Spread over the whole range, not bunched: each tenth of it holds some of the waits.
    tenths = {int((wait / INTERVAL_S - 0.75) * 20) for wait in waits}
    assert tenths >= set(range(10))
