"""Customers: Permission names and access_<entity>() helpers."""
