"""Audit tests: the administrator personas with the person behind them (三员分立), and
the "audit" log lines a test can read."""

import logging

import pytest

from accounts.choices import Role
from tests.conftest import make_user


def _person(user_id: str) -> dict:
    from accounts.models import User

    # Administrator accounts name their person once the separation of duties is in place.
    return {"person_id": user_id} if hasattr(User, "person_id") else {}


@pytest.fixture
def admin_user(commission):
    return make_user("admin", Role.ADMIN, commission, **_person("P-ADMIN"))


@pytest.fixture
def auditor(commission):
    return make_user("auditor", Role.AUDITOR, commission, **_person("P-AUDITOR"))


@pytest.fixture
def security_admin(commission):
    return make_user("security", getattr(Role, "SECURITY", "security"), commission, **_person("P-SECURITY"))


@pytest.fixture
def audit_log(caplog):
    """The lines written to the "audit" logger during the test."""
    caplog.set_level(logging.INFO, logger="audit")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "audit"]

    return lines
