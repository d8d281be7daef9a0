"""The command lines the README and docs/ print (their ```sh blocks) work as printed in a new shell right
after ``make run``, whatever PATH holds.

Each line runs in a clean environment (``env -i``, PATH=/usr/bin:/bin, HOME) against the test
database, in a form that changes nothing: ``make -n`` for make targets, ``--help`` for management
commands (whose printed arguments are parsed by the command's own parser), ``--collect-only`` for
pytest, ``--check-config`` for gunicorn. A program the clean shell cannot find fails the test.
"""

import re
import secrets
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class

from tests import processes
from tests.processes import ROOT

MINIMAL_PATH = "/usr/bin:/bin"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Line:
    document: str
    text: str
    assignments: tuple[str, ...]  # VAR=value words before the program
    argv: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.document}: {self.text}"


def command_lines() -> list[Line]:
    lines = []
    for path in DOCUMENTS:
        for block in SH_BLOCK.findall(path.read_text(encoding="utf-8")):
            for text in block.splitlines():
                words = shlex.split(text, comments=True)
                if not words:
                    continue
                program_at = next(i for i, word in enumerate(words) if not ASSIGNMENT.match(word))
                lines.append(Line(path.name, text.strip(), tuple(words[:program_at]), tuple(words[program_at:])))
    return lines


LINES = command_lines()


def harmless(line: Line) -> list[str] | None:
    """The line's argv in a form that changes nothing; None for a line that only sets variables."""
    program, *args = line.argv
    if program == "export":
        return None  # the reader's own values; the clean environment below stands for them
    if program == "make":
        return ["make", "-n", *args]
    if program.endswith("/python") and args[:1] == ["manage.py"]:
        return [program, "manage.py", args[1], "--help"]
    if program.endswith("/pytest"):
        return [program, "--collect-only", "-q", "-p", "no:cacheprovider", *args]
    if program.endswith("/gunicorn"):
        return [program, *args, "--check-config"]
    raise AssertionError(f"{line}: no harmless form of {program} is known here; add one to harmless()")


def clean_environment() -> list[str]:
    """What a new shell has (HOME, a minimal PATH) and what an operator exports for production,
    pointed at the test database."""
    database_url = processes.env()["DATABASE_URL"]
    return [
        f"PATH={MINIMAL_PATH}",
        f"HOME={Path.home()}",
        f"DATABASE_URL={database_url}",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
        "ALLOWED_HOSTS=annotator.example.org",
    ]


def test_the_docs_print_command_lines_to_check():
    programs = {line.argv[0] for line in LINES}
    assert {"make", ".venv/bin/python", ".venv/bin/pytest"} <= programs, programs
    assert any(line.argv[:2] == ("make", "run") for line in LINES if line.document == "README.md")


@pytest.mark.parametrize("line", LINES, ids=str)
def test_a_printed_command_runs_in_a_clean_shell(line: Line, db):
    argv = harmless(line)
    if argv is None:
        return
    command = shlex.join([*line.assignments, *argv])
    run = subprocess.run(  # noqa: S603 (the docs' own commands, in a harmless form)
        ["env", "-i", *clean_environment(), "sh", "-c", command],  # noqa: S607 (env is found through PATH, as a shell does)
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 127, f"{line}: not found in a clean shell (PATH={MINIMAL_PATH})\n{output}"
    assert run.returncode == 0, f"{line}: `{command}` exits {run.returncode}\n{output}"


@pytest.mark.parametrize("line", [line for line in LINES if line.argv[1:2] == ("manage.py",)], ids=str)
def test_a_printed_management_command_takes_its_arguments(line: Line):
    name, *args = line.argv[2:]
    command = load_command_class(get_commands()[name], name)
    command.create_parser("manage.py", name).parse_args(args)  # raises CommandError on a wrong argument
