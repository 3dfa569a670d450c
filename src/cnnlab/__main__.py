"""``python -m cnnlab``."""

from cnnlab.cli import run

run()
