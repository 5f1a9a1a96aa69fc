"""Customers.

Reads that encode rules: querysets narrowed to what the user may see, report queries.
"""
