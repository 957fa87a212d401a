"""The seven multi-objective MuJoCo problems, their vector env and wrappers."""

from morl.envs.catalog import PROBLEM_IDS, get_problem
from morl.envs.fingerprint import fingerprint
from morl.envs.problem import Problem
from morl.envs.registration import register_envs

__all__ = ["PROBLEM_IDS", "Problem", "fingerprint", "get_problem", "register_envs"]
