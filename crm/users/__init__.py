"""User administration outside the Django admin (issue 13 item 6): pages and API."""
