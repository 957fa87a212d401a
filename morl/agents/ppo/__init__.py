"""The PPO core shared by Hyper-MORL, PGMORL and preference-conditioned PPO: settings, the
collector over the rollout engine, the fused update (``core``), its closed-form gradient
(``gradient``) and the target-network layouts (``networks``)."""
