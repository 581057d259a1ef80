"""The lesson sources: one module per notebook, each with NAME and CELLS (see _cells.py)."""
