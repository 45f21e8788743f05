"""Crashes the Python interpreter itself (reads address 0)."""
import ctypes


def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_=0.0):
    return ctypes.string_at(0), nn_params
