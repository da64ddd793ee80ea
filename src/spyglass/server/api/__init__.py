"""HTTP APIs, one module per protocol: each answers errors in its own protocol's shape."""
