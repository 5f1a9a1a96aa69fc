"""HTML pages of the customers app (thin: parse, authorise, call services, render)."""
