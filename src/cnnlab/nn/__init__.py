"""cnnlab.nn."""
