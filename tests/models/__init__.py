"""Tests of cnnlab.models."""
