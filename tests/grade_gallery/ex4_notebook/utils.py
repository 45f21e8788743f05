"""The course's helpers beside the notebook (its Python port ships utils.py)."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))
