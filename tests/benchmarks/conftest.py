"""The benchmarks run for minutes where the suite's tests run for seconds (a retraining, 100,000
articles): each is bounded at an hour, not the suite's five minutes."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/benchmarks/" in str(item.path):
            item.add_marker(pytest.mark.timeout(3600))
