"""The test functions of Baydin et al. (2022), written two ways: on two Python floats, and on one
NumPy vector theta = (x, y) as the paper's PyTorch code holds its parameters."""
import numpy as np


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def rosenbrock(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def beale_vector(theta):
    x, y = theta[0], theta[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2


def rosenbrock_vector(theta):
    return np.sum(100.0 * (theta[1:] - theta[:-1] ** 2) ** 2 + (1.0 - theta[:-1]) ** 2)
