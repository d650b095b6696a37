"""`python -m marketgraph` runs the command line."""

from marketgraph.cli import main

main()
