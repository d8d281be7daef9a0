"""Where the research corpora are: outside the repository, beside the checkout (``../shared/corpora``)
or wherever ``CORPORA_DIR`` says. Tests and benchmarks that read one ask for it here, through the
``conll2002_es`` fixture, so that a clone without them skips those tests and says why; CI sets
``REQUIRE_CORPORA=1``, which turns the skip into a failure."""

import os
from pathlib import Path

import pytest

from tests.processes import ROOT


def corpora_dir() -> Path:
    return Path(os.environ.get("CORPORA_DIR") or ROOT.parent / "shared" / "corpora")


def required() -> bool:
    return os.environ.get("REQUIRE_CORPORA", "") not in {"", "0"}


def corpus(name: str, *files: str) -> Path:
    """The corpus's folder, holding these files; or the test skips (fails under REQUIRE_CORPORA=1)."""
    folder = corpora_dir() / name
    missing = [f for f in files if not (folder / f).is_file()]
    if not missing:
        return folder
    reason = (
        f"the research corpus {name} is not here: {', '.join(str(folder / f) for f in missing)} missing "
        f"(set CORPORA_DIR to the folder that holds {name}/)"
    )
    if required():
        pytest.fail(f"{reason}; REQUIRE_CORPORA is set, so this test must run", pytrace=False)
    pytest.skip(reason)
