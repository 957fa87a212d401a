"""MORL-Baselines' agents on morl's problems, evaluated on morl's protocol (``morl[peers]``).

``mb-pgmorl``, ``mb-capql`` and ``mb-gpi-ls`` run MORL-Baselines' own training code behind the
agent protocol, so ``morl bench`` compares them with morl's agents on the same problems, budget
and evaluation. See :mod:`morl.agents.peers.base` for what they share and what they cannot do
(resume an unfinished run).
"""
