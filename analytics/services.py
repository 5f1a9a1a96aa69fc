"""Sales analytics.

Every write that matters: one function per business action, named <entity>_<verb>.
"""
