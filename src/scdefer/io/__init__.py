"""Reading every supported input format and writing outputs atomically."""

from ._read import read_input
from ._write import atomic_directory, write_h5ad_atomic, write_text_atomic

__all__ = ["atomic_directory", "read_input", "write_h5ad_atomic", "write_text_atomic"]
