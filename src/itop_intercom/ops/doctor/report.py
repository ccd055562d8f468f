"""The report: results as indented text grouped by setup step, and the exit status."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Final, TextIO

from itop_intercom.ops.doctor.result import STEPS, CheckResult
from itop_intercom.ops.doctor.texts import plural

LABELS: Final[Mapping[str, str]] = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def explain(result: CheckResult, *, width: int = 100) -> str:
    """The result as indented text: status and title, then the detail and the fix."""
    label = f"  {LABELS[result.status]:<6}"
    indent = " " * len(label)
    lines = wrap(result.title, width, label, indent)
    if result.detail:
        lines.extend(wrap(result.detail, width, indent, indent))
    if result.fix and result.status != "ok":
        lines.extend(wrap("Fix: " + result.fix, width, indent, indent + "     "))
    return "\n".join(lines)


def render(results: Sequence[CheckResult], stream: TextIO, *, width: int = 100) -> int:
    """Print the report grouped by setup step; return the exit status (1 when anything fails)."""
    current: str | None = None
    for result in results:
        if result.step != current:
            if current is not None:
                stream.write("\n")
            current = result.step
            stream.write(f"Step {result.step} · {STEPS.get(result.step, 'Other')}\n")
        stream.write(explain(result, width=width) + "\n")
    failures = sum(1 for r in results if r.status == "fail")
    warnings = sum(1 for r in results if r.status == "warn")
    stream.write("\n")
    if failures:
        summary = f"{plural(failures, 'problem')} to fix"
        if warnings:
            summary += f", {plural(warnings, 'warning')}"
        stream.write(summary + ". The service will not work until the problems are fixed.\n")
    elif warnings:
        stream.write(f"Ready, with {plural(warnings, 'warning')} worth a look.\n")
    else:
        stream.write("Everything checked is ready.\n")
    return 1 if failures else 0


def wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]
