"""Tests of the analytics: statistics over time, exports and the HTML report."""
