"""``python -m spyglass.demo [--port 8000]``: serve the demo shop alone."""

from spyglass.demo.app import main

main()
