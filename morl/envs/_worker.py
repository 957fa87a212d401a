"""``python -m morl.envs._worker``: a physics worker process of the vector env."""

import sys

from morl.envs.workers import worker_main

if __name__ == "__main__":
    worker_main(sys.argv[1:])
