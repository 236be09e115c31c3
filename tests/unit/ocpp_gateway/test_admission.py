"""Admission: new chargers are sent away while the event loop runs late, and admitted once it catches up."""

import logging

import pytest

from chargeops.ocpp_gateway.admission import LAG_OVER, LAG_WINDOW, Admission


def test_late_samples_refuse_until_too_few_are_left_in_the_window() -> None:
    admission = Admission(0.5)
    assert not admission.overloaded
    admission.observe_lag(0.8)
    assert not admission.overloaded  # one late sample is a pause, not an overload
    admission.observe_lag(0.2)
    admission.observe_lag(0.9)
    assert admission.overloaded
    admission.observe_lag(0.01)
    assert admission.overloaded  # both late samples are still in the window
    admission.observe_lag(0.01)
    assert not admission.overloaded  # the first one has left it
    assert (LAG_WINDOW, LAG_OVER) == (4, 2)


def test_a_lag_at_the_limit_is_still_admitted() -> None:
    admission = Admission(0.5)
    for _ in range(LAG_WINDOW):
        admission.observe_lag(0.5)
    assert not admission.overloaded


def test_without_a_limit_every_charger_is_admitted() -> None:
    admission = Admission(None)
    for _ in range(LAG_WINDOW):
        admission.observe_lag(60.0)
    assert not admission.overloaded


def test_an_episode_is_logged_when_it_begins_and_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    admission = Admission(0.5)
    with caplog.at_level(logging.INFO, logger="chargeops.ocpp_gateway.admission"):
        admission.observe_lag(1.5)
        admission.observe_lag(1.25)
        admission.observe_lag(2.0)  # still the same episode: no second line
        for _ in range(3):
            admission.refuse()
        for _ in range(LAG_WINDOW):
            admission.observe_lag(0.0)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("Overloaded: the event loop ran 1.250 s late (limit 0.500 s)")
    assert lines[1] == "Caught up: new chargers are admitted again (3 asked to come back later)."
