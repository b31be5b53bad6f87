"""Audit tests: the "audit" log lines a test can read."""

import logging

import pytest


@pytest.fixture
def audit_log(caplog):
    """The lines written to the "audit" logger during the test."""
    caplog.set_level(logging.INFO, logger="audit")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "audit"]

    return lines
