"""Test settings shared by every test file."""

from hypothesis import settings

# Property tests draw the same examples on every run, so a test run is reproducible
# and CI does not depend on which random examples one run happened to draw.
settings.register_profile("book", derandomize=True, deadline=None)
settings.load_profile("book")
