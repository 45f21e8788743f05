"""Raises: the one-hot matrix indexes past the last label."""
import numpy as np


def one_hot(y, num_labels):
    return np.eye(num_labels)[y + 1]


def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
    y_matrix = one_hot(y, num_labels)
    return float(np.sum(y_matrix)), np.zeros_like(nn_params)
