"""Run every benchmark script in this folder, one after another, and print their tables.

Run: python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    """Run each ``bench_*.py`` with the same arguments; return non-zero if one failed."""
    here = Path(__file__).resolve().parent
    failed = 0
    for script in sorted(here.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        done = subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=False)  # noqa: S603
        failed |= done.returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
