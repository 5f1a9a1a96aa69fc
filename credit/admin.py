"""Credit: Admin registrations; admin actions call services."""
