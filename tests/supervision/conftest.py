import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_worklist_badges():
    """The header badge is cached per user id and day (supervision.worklist.badge_total):
    ids repeat from one test's database to the next, so each test starts with none."""
    cache.clear()
    return
