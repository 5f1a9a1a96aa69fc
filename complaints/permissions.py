"""Complaints: Permission names and access_<entity>() helpers."""
