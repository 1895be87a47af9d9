import os

import pytest
from hypothesis import HealthCheck, settings

import minigrad as mg

# Profiles: `ci` (the default) keeps the whole suite under a few minutes on 2 cores;
# HYPOTHESIS_PROFILE=thorough draws many more examples.
settings.register_profile("ci", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=mg.available_devices())
def device(request):
    """Every test that takes `device` runs once per available device (cpu, and cuda with a GPU)."""
    return request.param
