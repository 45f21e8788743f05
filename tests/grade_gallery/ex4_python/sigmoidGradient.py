"""The student's sigmoidGradient, in a file of its own."""
from sigmoid import sigmoid


def sigmoidGradient(z):
    g = sigmoid(z)
    return g * (1 - g)
