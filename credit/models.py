"""Credit: Data and the invariants that need no other object."""
