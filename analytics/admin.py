"""Sales analytics: Admin registrations; admin actions call services."""
