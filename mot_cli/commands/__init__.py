"""One module per CLI command; each imports its heavy libraries inside the function body.

Keeping torch and ultralytics out of module scope is what lets `mot-cli eval` and `--help`
start in a fraction of a second.
"""
