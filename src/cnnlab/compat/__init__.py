"""cnnlab.compat."""
