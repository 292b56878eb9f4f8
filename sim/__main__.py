"""``python -m sim`` runs the ``truce`` command."""

from sim.cli import main

main()
