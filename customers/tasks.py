"""Customers.

Celery tasks: thin wrappers over services (ids in, no personal values in arguments).
"""
