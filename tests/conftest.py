"""Shared pytest options: `--update-goldens` rewrites golden files instead of comparing."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current model (review the diff!)")


@pytest.fixture
def update_goldens(request):
    return request.config.getoption("--update-goldens")
