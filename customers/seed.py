"""Demo customers (added to manage.py seed_demo)."""
