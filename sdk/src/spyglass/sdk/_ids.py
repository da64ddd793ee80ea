"""Random identifiers drawn per request: request IDs, trace and span IDs.

They come from a private ``random.Random`` seeded from the OS, not from ``os.urandom`` per
call: these IDs correlate records, they are not secrets (OpenTelemetry's own ID generator uses
the ``random`` module too), and a system call per ID was a visible share of the SDK's cost per
request. A private generator keeps an application's ``random.seed()`` from making IDs repeat
across restarts, and it is reseeded in forked children (gunicorn workers) so workers do not
draw the same sequence.
"""

from __future__ import annotations

import os
import random

_rng = random.Random(os.urandom(32))


def _reseed() -> None:
    _rng.seed(os.urandom(32))


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_reseed)


# random_bits(n): a random non-negative integer of n bits. The generator's own method, not a
# wrapper function: it is called on every request. (Reseeding keeps the same object.)
random_bits = _rng.getrandbits


__all__ = ["random_bits"]
