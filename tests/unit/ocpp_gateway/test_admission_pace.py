"""The pace at which refused chargers are sent back: admissions counted while others were refused, raised
when every charger sent back was let in."""

import pytest

from chargeops.ocpp_gateway.return_times import FIRST_GUESS_PER_S, KEPT_UP, PROBE, AdmissionPace


def admit(pace: AdmissionPace, count: int, *, start: float, over_s: float) -> None:
    for index in range(count):
        pace.admitted(start + over_s * index / count)


def refuse_and_admit(pace: AdmissionPace, count: int, *, start: float, over_s: float = 10.0) -> None:
    """A window that opens with a refusal and admits ``count`` chargers over ``over_s``."""
    pace.refused(start)
    admit(pace, count, start=start, over_s=over_s)


def test_before_any_window_with_refusals_the_first_guess_holds() -> None:
    pace = AdmissionPace(window_s=10.0)
    admit(pace, 150, start=0.0, over_s=10.0)
    pace.admitted(10.0)  # closes the window: 15/s came and were let in, which says how many came

    assert pace.per_s == FIRST_GUESS_PER_S


def test_a_window_with_refusals_measures_the_admissions_in_it() -> None:
    pace = AdmissionPace(window_s=10.0)
    refuse_and_admit(pace, 300, start=0.0)
    pace.refused(10.5)  # closes it

    assert pace.per_s == pytest.approx(30.0)


def test_the_first_window_with_refusals_replaces_the_guess_even_when_lower() -> None:
    pace = AdmissionPace(window_s=10.0)
    refuse_and_admit(pace, 30, start=0.0)
    pace.refused(10.0)

    assert pace.per_s == pytest.approx(3.0)


def test_the_best_window_is_kept_when_a_later_one_admits_fewer() -> None:
    pace = AdmissionPace(window_s=10.0)
    refuse_and_admit(pace, 400, start=0.0)
    refuse_and_admit(pace, 250, start=10.0)  # the refused came back slowly: fewer admitted
    pace.refused(20.0)

    assert pace.per_s == pytest.approx(40.0)


def test_a_window_that_let_in_all_it_was_sent_at_the_pace_raises_the_pace() -> None:
    pace = AdmissionPace(window_s=10.0)
    refuse_and_admit(pace, 30, start=0.0)
    admit(pace, 28, start=10.0, over_s=10.0)  # no refusal, and 2.8/s of the 3/s sent back
    pace.admitted(20.0)

    assert KEPT_UP * 3.0 <= 2.8
    assert pace.per_s == pytest.approx(3.0 * PROBE)


def test_a_window_that_only_refused_changes_nothing() -> None:
    pace = AdmissionPace(window_s=10.0)
    pace.refused(0.0)
    pace.refused(5.0)  # the store is down: nobody admitted
    pace.refused(12.0)

    assert pace.per_s == FIRST_GUESS_PER_S


def test_an_idle_spell_after_a_window_does_not_dilute_it() -> None:
    pace = AdmissionPace(window_s=10.0)
    refuse_and_admit(pace, 250, start=0.0, over_s=9.0)
    pace.admitted(600.0)  # the next event, ten minutes later, closes the window

    assert pace.per_s == pytest.approx(25.0)
