"""MORL agents: the shared PPO core and Hyper-MORL."""
