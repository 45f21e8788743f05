"""The student's randInitializeWeights, in a file of its own (nnCostFunction.py does not import it)."""
import numpy as np


def randInitializeWeights(L_in, L_out, epsilon_init=0.12):
    return np.random.rand(L_out, 1 + L_in) * 2 * epsilon_init - epsilon_init
