"""Presentation: charts, plain-language text, terminal tables and HTML pages."""
