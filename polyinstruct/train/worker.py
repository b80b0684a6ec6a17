"""Entry point of one training process under torchrun: `python -m polyinstruct.train.worker job.json`."""

from __future__ import annotations

import logging
import sys

from polyinstruct.io import read_json
from polyinstruct.train import preemption, recipe


def main(argv: list[str]) -> int:
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        recipe.train(read_json(argv[0]))
    except preemption.Preempted as stopped:
        logging.getLogger(__name__).warning("%s", stopped)
        return preemption.EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
