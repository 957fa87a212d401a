"""PD-MORL (Basaklar et al., ICLR 2023): the off-policy baseline, one preference-conditioned TD3."""

from morl.agents.pdmorl.agent import PDMORL, PDMORLConfig

__all__ = ["PDMORL", "PDMORLConfig"]
