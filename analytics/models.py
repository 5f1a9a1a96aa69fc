"""Sales analytics: Data and the invariants that need no other object."""
