"""`python -m mot_cli` runs the CLI, the same as the `mot-cli` console script."""

from mot_cli.cli import main

main()
