"""Tests of cnnlab.training."""
