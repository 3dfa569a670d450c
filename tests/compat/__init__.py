"""Tests of cnnlab.compat."""
