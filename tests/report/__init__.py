"""Tests of cnnlab.report."""
