"""cnnlab.functional."""
