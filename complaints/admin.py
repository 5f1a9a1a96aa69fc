"""Complaints: Admin registrations; admin actions call services."""
