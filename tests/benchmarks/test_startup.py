"""A command's start-up, ``manage.py check`` in its own process, with and without
PYTHONDONTWRITEBYTECODE=1.

Python compiles every module it imports that has no bytecode; with PYTHONDONTWRITEBYTECODE=1 it never
writes what it compiled, so without bytecode installed every start compiles Django, spaCy and the rest
again. ``make install`` has uv compile the dependencies (``uv sync --compile-bytecode``) and compiles the
project's own modules, so the variable must not change the start-up. Target: its median CPU within 10 %
of the median without it. Run with ``make bench``; prints the figures quoted in docs/benchmarks.md ("Start-up").
"""

import os
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.benchmarks import corpus
from tests.processes import ROOT

RUNS = 7
TARGET_RATIO = 1.10


def without_bytecode(*folders: Path) -> str:
    """How many of the modules under these folders have no bytecode for this interpreter."""
    tag = sys.implementation.cache_tag
    sources = [source for folder in folders for source in folder.rglob("*.py")]
    missing = [s for s in sources if not (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").exists()]
    return f"{len(missing)} of {len(sources)}"


def check_cpu_seconds(env: dict[str, str]) -> float:
    run = corpus.run_command([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    assert run.returncode == 0
    return run.cpu_seconds


def test_start_up_is_the_same_with_pythondontwritebytecode(child_env):
    dependencies = without_bytecode(Path(sysconfig.get_paths()["purelib"]))
    own = without_bytecode(ROOT / "annotator", ROOT / "articles")
    print(f"\nWithout bytecode before the runs: {dependencies} installed modules, {own} of the project's")
    writing = {k: v for k, v in child_env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    not_writing = writing | {"PYTHONDONTWRITEBYTECODE": "1"}
    # Without bytecode, the first runs that may write it would hide the cost: those never writing go first.
    cpu = {"PYTHONDONTWRITEBYTECODE=1": [], "unset": []}
    for _ in range(RUNS):
        cpu["PYTHONDONTWRITEBYTECODE=1"].append(check_cpu_seconds(not_writing))
    check_cpu_seconds(writing)  # writes the project's own bytecode, if missing
    for _ in range(RUNS):
        cpu["unset"].append(check_cpu_seconds(writing))
    median = {mode: statistics.median(seconds) for mode, seconds in cpu.items()}
    for mode, seconds in cpu.items():
        print(f"manage.py check, PYTHONDONTWRITEBYTECODE {mode}: median {median[mode]:.3f} CPU s "
              f"(min {min(seconds):.3f}, max {max(seconds):.3f}, {RUNS} runs)")  # fmt: skip
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    ratio = median["PYTHONDONTWRITEBYTECODE=1"] / median["unset"]
    assert ratio <= TARGET_RATIO, f"start-up with PYTHONDONTWRITEBYTECODE=1 costs {ratio:.2f}× the CPU"
