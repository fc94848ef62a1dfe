"""Test-run settings shared by every test module: the quick run (`make test`) and the deep one (`make test-deep`).

`make test-deep` sets AUTOGRAD_LITE_DEEP=1: tests marked `@pytest.mark.slow` run (they are skipped
otherwise), and hypothesis property tests draw many more examples (the "deep" settings profile).
Both profiles are derandomized, so a run draws the same examples every time: a class never sees a test
fail that passed a minute ago, and CI never turns red on a draw it had not seen. To explore new draws, run
`make test-deep` with `PYTEST_ADDOPTS=--hypothesis-seed=N` and no derandomization (edit the profile).
"""
import os

import pytest
from hypothesis import HealthCheck, settings

DEEP = os.environ.get("AUTOGRAD_LITE_DEEP", "") not in ("", "0")

settings.register_profile(
    "quick", max_examples=4, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(  # derandomized too (see above)
    "deep", max_examples=60, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("deep" if DEEP else "quick")


def pytest_collection_modifyitems(config, items):
    if DEEP or config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="slow: runs in `make test-deep`")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
