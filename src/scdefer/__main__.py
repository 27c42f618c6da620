"""``python -m scdefer`` runs the CLI."""

from .cli import app

app(prog_name="scdefer")
