"""``python -m morl.envs._rollout_worker``: a rollout worker process (see morl.envs.rollout)."""

import sys

from morl.envs.rollout import rollout_worker_main

if __name__ == "__main__":
    rollout_worker_main(sys.argv[1:])
