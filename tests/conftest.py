"""What every test shares.

Hypothesis' per-example deadline (200 ms by default) is a wall-clock limit: on a loaded two-core CI machine an
example of a pure function can take longer without being wrong, and the test then fails for timing alone. The
properties here are about results, never speed (that is `make bench`), so no example has a deadline.
"""

from hypothesis import settings

settings.register_profile("ctns", deadline=None)
settings.load_profile("ctns")
