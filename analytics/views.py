"""Sales analytics: HTML pages: parse, call a service or selector, render."""
