"""cnnlab.interop."""
