"""Plain optimizers for any gradient function, forward gradient or reverse mode, so the two can be
compared on equal terms. An optimizer is a step function with a little state: `params =
opt.step(params, gradient)`; parameters may be a float, an array, or a tuple, list or dict of them.
"""
import math

import numpy as np

from .structure import map_leaves


def exponential_decay(initial, decay):
    """The learning-rate schedule t -> initial * exp(-decay * t) (Baydin et al. 2022 use this form)."""
    return lambda t: initial * math.exp(-decay * t)


def _rate(learning_rate, t):
    return learning_rate(t) if callable(learning_rate) else learning_rate


class SGD:
    """Gradient descent with optional (heavy-ball) momentum: v = momentum v + g, params -= rate v."""

    def __init__(self, learning_rate, momentum=0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.t = 0
        self.velocity = None

    def step(self, params, gradient):
        rate = _rate(self.learning_rate, self.t)
        self.t += 1
        if self.momentum:
            self.velocity = gradient if self.velocity is None else \
                map_leaves(lambda v, g: self.momentum * v + g, self.velocity, gradient)
            gradient = self.velocity
        return map_leaves(lambda p, g: p - rate * g, params, gradient)


class Adam:
    """Adam (Kingma and Ba, 2015) with bias-corrected first and second moment estimates."""

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.first = self.second = None

    def step(self, params, gradient):
        rate = _rate(self.learning_rate, self.t)
        self.t += 1
        if self.first is None:
            self.first = map_leaves(lambda g: 0.0 * g, gradient)
            self.second = map_leaves(lambda g: 0.0 * g, gradient)
        b1, b2 = self.beta1, self.beta2
        self.first = map_leaves(lambda m, g: b1 * m + (1 - b1) * g, self.first, gradient)
        self.second = map_leaves(lambda s, g: b2 * s + (1 - b2) * g * g, self.second, gradient)
        scale = rate * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        return map_leaves(lambda p, m, s: p - scale * m / (np.sqrt(s) + self.eps), params, self.first, self.second)
