"""The `mmviz` command line."""
