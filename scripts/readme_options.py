#!/usr/bin/env python
"""Write the README's option tables from the parameter declarations (scdefer/params.py).

    python scripts/readme_options.py          # rewrite README.md in place
    python scripts/readme_options.py --check  # exit 1 if README.md is out of date (the tests do this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from scdefer._spec import options_table
from scdefer.params import SCHEDULES, PreprocessParams, TrainParams

README = Path(__file__).resolve().parents[1] / "README.md"
TABLES = {"preprocess": (PreprocessParams, None), "train": (TrainParams, SCHEDULES)}
BLOCK = re.compile(r"(<!-- options: (\w+) -->\n).*?(<!-- /options -->)", re.S)


def render(text: str) -> str:
    """README text with every options block replaced by the generated table."""
    def table(match: re.Match[str]) -> str:
        cls, schedules = TABLES[match.group(2)]
        return f"{match.group(1)}{options_table(cls, schedules)}\n{match.group(3)}"

    return BLOCK.sub(table, text)


def main() -> None:
    text = README.read_text()
    new = render(text)
    if "--check" in sys.argv:
        if new != text:
            print("README.md option tables are out of date: run python scripts/readme_options.py",
                  file=sys.stderr)
            sys.exit(1)
        return
    README.write_text(new)


if __name__ == "__main__":
    main()
