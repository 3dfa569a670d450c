"""cnnlab.compat."""

from . import seed004, tf_notebook
