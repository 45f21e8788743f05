"""Mistake: the exercise's template, untouched: J = 0 and grad = 0."""
import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoidGradient(z):
    g = sigmoid(z)
    return g * (1 - g)


def randInitializeWeights(L_in, L_out, epsilon_init=0.12):
    return np.random.rand(L_out, 1 + L_in) * 2 * epsilon_init - epsilon_init


def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
    # ====================== YOUR CODE HERE ======================
    J = 0
    grad = np.zeros(nn_params.shape)
    # ============================================================
    return J, grad
