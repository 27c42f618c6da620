"""``python -m scdefer`` runs the CLI."""

from .cli import run

run()
