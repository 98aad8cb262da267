"""Forward gradients draw their normal directions with sourcediff.native's fill where it reproduces NumPy:
the numbers rng.standard_normal gives, and the generator left where NumPy leaves it."""
import numpy as np
import pytest

import sourcediff as sd
from sourcediff import runtime
from sourcediff.native import jit, sampling


def test_the_fill_is_installed_for_pcg64():
    assert sampling.install(jit.machine())
    assert set(runtime.FAST_NORMAL_FILLS) == {np.random.PCG64}


@pytest.mark.parametrize("shape", [(3,), (1024,), (1000, 3), (8, 300, 17), (100_003,)])
@pytest.mark.parametrize("seed", [0, 1, 2026])
def test_standard_normal_draws_numpys_numbers(shape, seed):
    sampling.install(jit.machine())
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    drawn = runtime.standard_normal(ours, shape)
    expected = numpys.standard_normal(shape)
    assert drawn.shape == expected.shape and drawn.dtype == expected.dtype
    np.testing.assert_array_equal(drawn, expected)
    np.testing.assert_array_equal(np.signbit(drawn), np.signbit(expected))
    assert ours.bit_generator.state == numpys.bit_generator.state
    assert ours.random() == numpys.random()  # and both go on alike


@pytest.mark.parametrize("bit_generator", [np.random.SFC64, np.random.Philox, np.random.PCG64DXSM])
def test_other_bit_generators_draw_with_numpy(bit_generator):
    ours, numpys = np.random.Generator(bit_generator(5)), np.random.Generator(bit_generator(5))
    np.testing.assert_array_equal(runtime.standard_normal(ours, (5000,)), numpys.standard_normal(5000))


def test_a_forward_gradient_of_a_network_draws_numpys_numbers():
    params = (np.linspace(-1.0, 1.0, 3000).reshape(1000, 3), 0.5)

    def loss(params):
        W, b = params
        return float(np.sum(np.tanh(W) * b))

    value, estimate = sd.forward_gradient(loss)(params, rng=np.random.default_rng(9))
    numpys = np.random.default_rng(9)
    v = (numpys.standard_normal((1000, 3)), numpys.standard_normal())
    W, b = params
    gradient = ((1.0 - np.tanh(W) ** 2) * b, float(np.sum(np.tanh(W))))  # by hand
    directional = np.sum(gradient[0] * v[0]) + gradient[1] * v[1]
    np.testing.assert_allclose(estimate[0], directional * v[0], rtol=1e-10)
    assert estimate[1] == pytest.approx(directional * v[1], rel=1e-10)
