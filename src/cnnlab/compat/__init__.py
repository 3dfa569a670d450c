"""cnnlab.compat."""

from . import seed004
