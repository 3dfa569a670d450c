"""Tests of cnnlab.nn."""
