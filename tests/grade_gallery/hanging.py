"""Never returns: an infinite loop in nnCostFunction."""
import numpy as np


def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
    J = 0.0
    while J < 1:
        J = J * 1.0
    return J, np.zeros_like(nn_params)
