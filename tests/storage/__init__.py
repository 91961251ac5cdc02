"""Tests of the storage adapters."""
