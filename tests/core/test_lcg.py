import numpy as np
import pytest

from core.compiled import kernels
from core.engine.lcg import LCG, shuffle_in_place
from core.engine.network import MLP


def lcg_by_hand(seed, count):
    values, state = [], seed
    for _ in range(count):
        state = (state * 1103515245 + 12345) % 2**31
        values.append(state)
    return values


def test_first_states_follow_the_formula():
    generator = LCG(1337)
    assert [generator.next() for _ in range(5)] == lcg_by_hand(1337, 5)


def test_vectorized_states_equal_repeated_next():
    for count in (1, 2, 3, 7, 64, 1000):
        fast, slow = LCG(1337), LCG(1337)
        assert fast.states(count).tolist() == [slow.next() for _ in range(count)]
        assert fast.state == slow.state  # the stream continues where it left off


def test_uniforms_lie_in_minus_one_one():
    values = LCG(42).uniforms(100_000)
    assert values.min() > -1 and values.max() <= 1
    assert abs(values.mean()) < 0.01


def test_first_weights_are_he_uniform_from_the_lcg():
    model = MLP.initialized((784, 256, 128, 64, 10), seed=1337, init="he")
    states = lcg_by_hand(1337, 3)
    bound = np.sqrt(6 / 784)
    expected = [np.float32((s - (2**30 - 1)) / 2**30 * bound) for s in states]
    assert model.weights[0][0, :3].tolist() == expected  # W1 first, row-major
    # W2 starts right after the 784*256 values of W1
    w2_state = lcg_by_hand(1337, 784 * 256 + 1)[-1]
    assert model.weights[1][0, 0] == np.float32((w2_state - (2**30 - 1)) / 2**30 * np.sqrt(6 / 256))
    assert all(np.all(b == 0) for b in model.biases)
    for weight in model.weights:
        assert np.abs(weight).max() <= np.sqrt(6 / weight.shape[0]) * (1 + 1e-6)


def test_asm_init_uses_sqrt_two_over_fan_in():
    he = MLP.initialized((784, 16, 10), init="he")
    asm = MLP.initialized((784, 16, 10), init="asm")
    np.testing.assert_allclose(asm.weights[0] * np.sqrt(3), he.weights[0], rtol=1e-6)


def test_shuffle_is_the_seeds_fisher_yates():
    indices = np.arange(10)
    shuffle_in_place(indices, LCG(1337))
    expected, draws = list(range(10)), lcg_by_hand(1337, 9)
    for i, draw in zip(range(9, 0, -1), draws):
        j = draw % (i + 1)
        expected[i], expected[j] = expected[j], expected[i]
    assert indices.tolist() == expected
    assert sorted(indices.tolist()) == list(range(10))


@pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed: only the Python shuffle exists")
def test_the_compiled_shuffle_gives_the_python_shuffles_permutation():
    compiled = np.arange(5000)
    shuffle_in_place(compiled, LCG(1337), compiled=True)
    plain = np.arange(5000)
    shuffle_in_place(plain, LCG(1337), compiled=False)
    np.testing.assert_array_equal(compiled, plain)
    assert not np.array_equal(plain, np.arange(5000))
