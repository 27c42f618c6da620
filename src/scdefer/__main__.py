"""``python -m scdefer`` runs the CLI."""

from .cli import main

main()
