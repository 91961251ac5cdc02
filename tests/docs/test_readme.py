"""The README's usage example runs as it is written."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_usage_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    usage = text.split("## Usage", 1)[1]
    match = re.search(r"```python\n(.*?)```", usage, re.DOTALL)
    assert match is not None, "the README has no Python example under Usage"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(match.group(1), str(README), "exec"), {})  # noqa: S102 - our own README
    output = printed.getvalue()
    assert "You are calling about the vacancy Truck driver" in output
    assert "This is the employer's number for calls only." in output
    assert "delivered to the employer together with your resume" in output
    assert output.rstrip().endswith("1.0")
