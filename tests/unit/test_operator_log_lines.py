"""The operator's log lines name the object they are about, as ``[namespace/name]``."""

import logging

import pytest

from chargeops.cli.operator import configure_logging


def test_a_line_logged_for_an_object_starts_with_its_namespace_and_name(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        configure_logging("info")
        # What kopf's per-object logger (a handler's ``logger``) attaches to each record.
        ref = {"namespace": "parkside", "name": "bay-1", "kind": "Charger"}
        logging.getLogger("chargeops.operator").info("Handed over.", extra={"k8s_ref": ref})
        logging.getLogger("chargeops.operator").debug("Not at info.")
    finally:
        root.handlers[:], root.level = handlers, level

    err = capsys.readouterr().err
    assert "[parkside/bay-1] Handed over." in err
    assert "Not at info." not in err
