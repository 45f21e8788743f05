"""Allocates far more memory than any grading needs."""
import numpy as np


def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
    big = np.ones((20_000, 20_000))  # 3.2 GB
    return float(big.sum()), np.zeros_like(nn_params)
