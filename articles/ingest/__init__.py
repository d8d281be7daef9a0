"""Bringing articles in: formats, the all-or-nothing writer, import runs, uploads, the sample articles."""
