"""``python -m spyglass`` is the same as the ``spyglass`` command."""

from spyglass.cli import main

main()
