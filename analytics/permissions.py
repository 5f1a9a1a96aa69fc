"""Sales analytics: Permission names and access_<entity>() helpers."""
