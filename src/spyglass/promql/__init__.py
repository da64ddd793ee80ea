"""promql layer."""
