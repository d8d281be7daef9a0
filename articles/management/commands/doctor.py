import os
import platform
from importlib.metadata import version

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from thinc.api import NumpyOps
from threadpoolctl import threadpool_limits

from articles.nlp import kernels, pipeline


class Command(BaseCommand):
    help = "Says which matrix kernels spaCy uses on this machine, and how fast they are."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=1.0, help="CPU time of each GEMM measurement")

    def handle(self, *args: object, seconds: float, **options: object) -> None:
        out = self.stdout.write
        packages = ", ".join(f"{name} {version(name)}" for name in ("spacy", "thinc", "blis", "numpy"))
        out(f"{packages} (Python {platform.python_version()}, {platform.machine()})")
        choice = kernels.chosen()
        blas = kernels.numpy_blas()
        if blas:
            threads = f"{blas['num_threads']} thread{'s' if blas['num_threads'] > 1 else ''}"
            coretype = os.environ.get("OPENBLAS_CORETYPE")
            pinned = f"; OPENBLAS_CORETYPE={coretype} chooses its kernels, not OpenBLAS" if coretype else ""
            out(f"numpy's BLAS: {kernels.describe_blas(blas)}, {threads}{pinned}")
        else:
            out("numpy's BLAS: none")
        blis_kernel = kernels.blis_kernel()
        out(f"blis's kernels on this CPU: {blis_kernel or 'unknown (blis did not say)'}")
        rows, inputs, outputs = kernels.SHAPE
        with threadpool_limits(limits=1, user_api="blas"):
            blis_rate = kernels.gflops(NumpyOps(use_blis=True), seconds)
            numpy_rate = kernels.gflops(NumpyOps(use_blis=False), seconds)
        out(
            f"GEMM float32 {rows}×{inputs}×{outputs}, one thread, {seconds:g} s of CPU each: "
            f"blis {blis_rate:.1f} GFLOP/s, numpy {numpy_rate:.1f} GFLOP/s"
        )
        out(f"The app multiplies with {choice.library} (SPACY_BLAS={settings.SPACY_BLAS}): {choice.reason}.")
        # Every pipeline the app loads goes through pipeline.read, retrained ones too; this one needs no database.
        out(f"Pipeline {settings.SPACY_MODEL}: {kernels.ops_in(pipeline.load(settings.SPACY_MODEL))}")
        # numpy is chosen only where it has a BLAS library.
        if choice.library == "numpy" and blas is not None:
            out(self.style.SUCCESS(f"Optimised kernels in use: numpy's {kernels.describe_blas(blas)}."))
        elif blis_kernel not in {None, "generic"}:
            out(self.style.SUCCESS(f"Optimised kernels in use: blis's {blis_kernel}."))
        else:
            out(
                self.style.WARNING(
                    f"No optimised kernel in use: spaCy multiplies with blis's {blis_kernel or 'unknown'} kernels "
                    f"({choice.reason}). Pre-annotation works, only slower than this machine allows "
                    f"(here numpy's BLAS measured {numpy_rate:.0f} GFLOP/s against blis's {blis_rate:.0f})."
                )
            )
