"""envparity: declared, previewed and drift-checked environments for Render services."""

__version__ = "0.1.0"
