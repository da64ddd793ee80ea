"""Helpers shared by tests and benchmarks: real processes on loopback, started and stopped."""
