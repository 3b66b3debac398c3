"""The schedules of DANN's training: the adversarial weight's ramp and the learning-rate decay.

Both are functions of ``p``, the fraction of training done, from Ganin et
al., "Domain-Adversarial Training of Neural Networks", JMLR 2016.
"""

import math


def dann_ramp(p):
    """Return DANN's ramp 2/(1+exp(-10p)) - 1, rising from 0 at p=0 to ~1 at p=1."""
    return 2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0


def inverse_decay(p):
    """Return DANN's learning-rate factor (1 + 10p)^-0.75."""
    return (1.0 + 10.0 * p) ** -0.75
