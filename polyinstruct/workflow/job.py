"""What every rule script does first: send output to the rule's log and fix threads and seeds."""

from __future__ import annotations

import contextlib
import logging
import os
import sys


@contextlib.contextmanager
def job(snakemake, *, torch_threads: bool = False):
    """Run the body with stdout/stderr in the rule's log; re-raise errors after logging them.

    `torch_threads` (the model jobs): torch gets the rule's threads, and transformers skips its scikit-learn
    and scipy imports (`compat.skip_unused_probes`)."""
    log_path = snakemake.log[0] if snakemake.log else os.devnull
    os.makedirs(os.path.dirname(log_path) or ".", exist_ok=True)
    with open(log_path, "w", buffering=1, encoding="utf-8") as log:
        old_out, old_err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = log
        logging.basicConfig(
            stream=log, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
        )
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            if torch_threads:
                import torch

                from polyinstruct import compat

                compat.skip_unused_probes()

                torch.set_num_threads(max(1, int(snakemake.threads)))
            yield
        except BaseException:
            logging.exception("job failed")
            raise
        finally:
            sys.stdout, sys.stderr = old_out, old_err
