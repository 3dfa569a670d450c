"""``python -m cnnlab.cli``."""

from cnnlab.cli import run

run()
