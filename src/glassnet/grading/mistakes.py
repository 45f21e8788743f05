"""The typical mistakes in a student's backprop, each written once as an exact variant of the correct answer.

Every entry of :data:`MISTAKES` has a name, the lecture formula it breaks, the array to look at, and ``net(p)``: the
``(J, grad)`` that ``nnCostFunction`` returns when it makes exactly this mistake, computed from the correct pieces
``p`` (:class:`glassnet.grading.cases.Pieces`) — never from a second copy of the lecture's backprop. Mistakes inside
backpropagation re-run :func:`glassnet.backprop.deltas` on changed inputs: g′ there is ``a .* (1 - a)`` of the hidden
activations, so "g′ of a" is deltas with ``sigmoid(a)`` in place of a, and a δ^(L) with a g′ factor is deltas with
the target Y moved so that a − Y′ = (a − y) .* g′(z^(L)). Entries the mistake leaves undetermined are NaN (compared
with nothing). ``gprime(z)``, where present, is what the student's ``sigmoidGradient`` returns.

The course's signature has one hidden layer; the variants are written for L = 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from glassnet.activations import sigmoid
from glassnet.api import cost_and_gradient
from glassnet.backprop import accumulate, deltas, finish
from glassnet.cost import cost_from_z
from glassnet.forward import ForwardCache
from glassnet.grading.cases import Pieces

__all__ = ["Mistake", "MISTAKES", "by_name"]


@dataclass(frozen=True)
class Mistake:
    """One typical mistake: what a student did, the lecture formula it breaks, where to look, and its exact answer."""

    name: str
    title: str
    formula: str
    look_at: str
    net: Callable[[Pieces], tuple[float, np.ndarray]] | None = None
    gprime: Callable[[np.ndarray], np.ndarray] | None = None
    # neither: a mistake of randInitializeWeights, named by the grader's checks of the initial weights


def _bias_regularized_cost(p: Pieces):
    bias = sum(float(np.sum(t[:, 0] ** 2)) for t in p.thetas)
    return p.answer(J=p.J + p.lam / (2 * p.m) * bias)


def _bias_regularized_gradient(p: Pieces):
    D = [d.copy() for d in p.D]
    for d, t in zip(D, p.thetas):
        d[:, 0] += p.lam / p.m * t[:, 0]
    return p.answer(D=D)


def _cost_missing_1_over_m(p: Pieces):
    return p.answer(J=p.m * p.J_data + p.reg)


def _gradient_missing_1_over_m(p: Pieces):
    return p.answer(D=[p.m * d + r for d, r in zip(p.D_data, p.D_reg)])


def _cost_lambda_over_m(p: Pieces):
    return p.answer(J=p.J_data + 2 * p.reg)


def _gradient_lambda_over_2m(p: Pieces):
    return p.answer(D=[d + r / 2 for d, r in zip(p.D_data, p.D_reg)])


def _bias_row_kept(p: Pieces):
    # δ^(2) keeps a row for the bias unit, so D^(1) gets an extra first row (its values depend on what was
    # multiplied there: unknown, NaN); the other rows are the correct ones.
    D = list(p.D)
    D[0] = np.vstack([np.full((1, D[0].shape[1]), np.nan), D[0]])
    return p.answer(D=D)


def _gprime_of_a(p: Pieces):
    hidden = [sigmoid(a) for a in p.cache.activations[1:-1]]  # deltas takes g′ = a(1 - a): sigmoid(a) gives g′(a)
    return p.answer(D=p.gradients_with(p.deltas_with(hidden_activations=hidden)))


def _gprime_z_one_minus_z(p: Pieces):
    hidden = list(p.cache.z[1:-1])  # sigmoidGradient(z) = z(1 - z): deltas with a := z
    return p.answer(D=p.gradients_with(p.deltas_with(hidden_activations=hidden)))


def _output_delta_with_gprime(p: Pieces):
    a = p.cache.output
    Y_moved = a - (a - p.Y) * a * (1 - a)  # so that deltas' δ^(L) = a - Y_moved = (a - y) .* g′(z^(L))
    return p.answer(D=p.gradients_with(p.deltas_with(Y=Y_moved)))


def _labels_shift(p: Pieces) -> int:
    """Which label the unit of label k gets when the other convention's labels are used: k + shift."""
    return 1 if p.convention.first_label == 0 else -1


def _one_hot_other_start(p: Pieces):
    # y == k for k in 1..K on labels 0..K-1 (or for k in 0..K-1 on labels 1..K): unit j fires for label j + shift.
    shift = _labels_shift(p)
    Y = np.zeros_like(p.Y)
    for j in range(p.K):
        Y[:, j] = p.y == j + shift
    J, D = cost_and_gradient(p.thetas, p.X, Y, p.lam)  # J and D are right for the wrong targets
    return p.answer(J=J, D=D)


def _labels_wrapped(p: Pieces):
    # np.eye(K)[y - 1] on labels 0..K-1: label k lights unit k - 1, label 0 the last unit.
    shift = _labels_shift(p)
    Y = np.roll(p.Y, -shift, axis=1)
    J, D = cost_and_gradient(p.thetas, p.X, Y, p.lam)
    return p.answer(J=J, D=D)


def _params_rolled_other_order(p: Pieces):
    # nn_params reshaped in the other order (and grad unrolled in that same order): the code works on other Θ.
    other = p.convention.other
    thetas = other.unpack(p.convention.pack(p.thetas), p.case.sizes)
    J, D = cost_and_gradient(thetas, p.X, p.y, p.lam)
    return J, other.pack(D)


def _grad_unrolled_other_order(p: Pieces):
    return p.J, p.convention.other.pack(p.D)


def _wrong_sign(p: Pieces):
    return p.answer(D=[r - d for d, r in zip(p.D_data, p.D_reg)])


def _a_without_bias(p: Pieces):
    return p.answer(D=[d[:, 1:] for d in p.D])


def _cost_no_regularization(p: Pieces):
    return p.answer(J=p.J_data)


def _gradient_no_regularization(p: Pieces):
    return p.answer(D=p.D_data)


def _gradient_lambda_not_over_m(p: Pieces):
    return p.answer(D=[d + p.m * r for d, r in zip(p.D_data, p.D_reg)])


def _untouched_template(p: Pieces):
    return 0.0, np.zeros_like(p.answer()[1])


def _gradient_lambda_times_D(p: Pieces):
    # Theta_grad[:, 1:] += (λ/m) * Theta_grad[:, 1:]: the data term scaled, column 0 as it is
    D = []
    for d in p.D_data:
        d = d.copy()
        d[:, 1:] *= 1 + p.lam / p.m
        D.append(d)
    return p.answer(D=D)


def _gradient_bias_column_zero(p: Pieces):
    D = [d.copy() for d in p.D]
    for d in D:
        d[:, 0] = 0.0
    return p.answer(D=D)


def _hidden_bias_sigmoid_one(p: Pieces):
    # a2 = sigmoid([1, z2]): the bias unit of the hidden layer is g(1), so z3, the output, J and every D change
    bias = float(sigmoid(np.array(1.0)))
    theta2 = p.thetas[1]
    a2 = p.cache.activations[1]
    z3 = bias * theta2[:, 0] + a2 @ theta2[:, 1:].T
    cache = ForwardCache(z=[None, p.cache.z[1], z3], activations=[p.cache.activations[0], a2, sigmoid(z3)])
    delta = deltas(p.thetas, cache, p.Y)
    Delta = accumulate(cache, delta)
    Delta[1][:, 0] *= bias  # Δ^(2)_i0 = Σ_t δ^(3)_i a^(2)_0 with a^(2)_0 = g(1)
    return p.answer(J=cost_from_z(z3, p.Y) + p.reg, D=finish(p.thetas, Delta, p.m, p.lam))


MISTAKES: tuple[Mistake, ...] = (
    Mistake("bias-regularized-cost", "the bias column is regularized in J",
            "J = … + (λ/2m) Σ_l Σ_i Σ_{j≥1} (Θ^(l)_ij)²: the sum starts at j = 1, not at the bias column j = 0",
            "the regularization term of J: Θ^(l)[:, 1:], not Θ^(l)", net=_bias_regularized_cost),
    Mistake("bias-regularized-gradient", "the bias column is regularized in D",
            "D^(l)_ij = Δ^(l)_ij/m + (λ/m)Θ^(l)_ij for j ≥ 1 only; D^(l)_i0 = Δ^(l)_i0/m",
            "column 0 of D^(l) (Theta_grad[:, 0])", net=_bias_regularized_gradient),
    Mistake("cost-missing-1/m", "J is not divided by m",
            "J = −(1/m) Σ_t Σ_k [y_k log h_k + (1 − y_k) log(1 − h_k)] + …", "the data term of J",
            net=_cost_missing_1_over_m),
    Mistake("gradient-missing-1/m", "Δ is not divided by m",
            "D^(l) = (1/m) Δ^(l) + (λ/m)Θ^(l)", "D^(l) = Delta/m (every layer)", net=_gradient_missing_1_over_m),
    Mistake("cost-lambda-over-m", "J is regularized with λ/m instead of λ/(2m)",
            "J = … + (λ/2m) Σ (Θ^(l)_ij)²", "the factor of the regularization term of J", net=_cost_lambda_over_m),
    Mistake("gradient-lambda-over-2m", "D is regularized with λ/(2m) instead of λ/m",
            "D^(l)_ij = Δ^(l)_ij/m + (λ/m)Θ^(l)_ij", "the factor of the regularization term of D^(l)",
            net=_gradient_lambda_over_2m),
    Mistake("bias-row-kept", "the bias row of (Θ^(2))ᵀδ^(3) is not dropped",
            "δ^(2) = (Θ^(2))ᵀδ^(3) .* g′(z^(2)) with the row of the bias unit removed: δ^(2) has s_2 entries",
            "δ^(2) and D^(1): D^(1) must be s_2 × (s_1 + 1), it has an extra first row", net=_bias_row_kept),
    Mistake("gprime-of-a", "g′ is applied to a instead of z (sigmoidGradient(a2))",
            "δ^(2) = (Θ^(2))ᵀδ^(3) .* g′(z^(2)), where g′(z^(2)) = a^(2) .* (1 − a^(2))",
            "the g′ factor of δ^(2): sigmoidGradient(z2), or a2 * (1 - a2), not sigmoidGradient(a2)",
            net=_gprime_of_a),
    Mistake("gprime-z-one-minus-z", "sigmoidGradient computes z(1 − z) instead of g(z)(1 − g(z))",
            "g′(z) = g(z)(1 − g(z))", "sigmoidGradient: apply g before the product", net=_gprime_z_one_minus_z,
            gprime=lambda z: z * (1 - z)),
    Mistake("output-delta-gprime", "δ^(L) has a g′(z^(L)) factor (the squared-error habit)",
            "δ^(L) = a^(L) − y for the logistic cost: no g′ factor at the output",
            "δ^(3) (delta3 = a3 - Y), and so D^(2) and D^(1)", net=_output_delta_with_gprime),
    Mistake("one-hot-other-start", "the one-hot Y is built for the other label start",
            "y^(t) has y_k = 1 for the unit k of label y^(t) (labels 0..K−1 here, 1..K in Octave)",
            "Y, the one-hot matrix of y (and so J, δ^(3), every D)", net=_one_hot_other_start),
    Mistake("labels-off-by-one", "labels off by one (np.eye(K)[y - 1] or similar)",
            "y^(t) has y_k = 1 for the unit k of label y^(t)",
            "Y, the one-hot matrix of y: each label lights its neighbour's unit", net=_labels_wrapped),
    Mistake("params-other-order", "nn_params is reshaped in the wrong order (row- vs column-major)",
            "Θ^(1), Θ^(2) rolled from nn_params the way they were unrolled",
            "the reshape of nn_params into Theta1, Theta2 (and of the gradient back)", net=_params_rolled_other_order),
    Mistake("grad-other-order", "the gradient is unrolled in the wrong order (row- vs column-major)",
            "grad unrolled like nn_params: D^(1) then D^(2), in the same order as Θ",
            "the unrolling of Theta1_grad, Theta2_grad into grad", net=_grad_unrolled_other_order),
    Mistake("wrong-sign", "the gradient has the wrong sign (δ^(L) = y − a)",
            "δ^(L) = a^(L) − y", "δ^(3) = a3 - Y (the sign), and so every D", net=_wrong_sign),
    Mistake("a-without-bias", "a^(l) is used without its bias unit in Δ",
            "Δ^(l) = Δ^(l) + δ^(l+1)(a^(l))ᵀ with a^(l) = [1; g(z^(l))]: Δ^(l) is s_{l+1} × (s_l + 1)",
            "Δ^(l) and D^(l): column 0 (the bias) is missing", net=_a_without_bias),
    Mistake("cost-no-regularization", "the regularization term is left out of J",
            "J = −(1/m) Σ_t Σ_k [y_k log h_k + (1 − y_k) log(1 − h_k)] + (λ/2m) Σ_l Σ_i Σ_{j≥1} (Θ^(l)_ij)²",
            "J: add (λ/2m)(ΣΘ1[:, 1:]² + ΣΘ2[:, 1:]²)", net=_cost_no_regularization),
    Mistake("gradient-no-regularization", "the regularization term is left out of D",
            "D^(l)_ij = Δ^(l)_ij/m + (λ/m)Θ^(l)_ij for j ≥ 1", "D^(l)[:, 1:]: add (λ/m)Θ^(l)[:, 1:]",
            net=_gradient_no_regularization),
    Mistake("gradient-lambda-not-over-m", "λΘ in D is not divided by m",
            "D^(l)_ij = Δ^(l)_ij/m + (λ/m)Θ^(l)_ij for j ≥ 1", "the factor of the regularization term of D^(l): λ/m",
            net=_gradient_lambda_not_over_m),
    Mistake("untouched-template", "the template is untouched: J = 0 and grad = 0",
            "J = −(1/m) Σ_t Σ_k [y_k log h_k + (1 − y_k) log(1 − h_k)] + …; D^(l) = Δ^(l)/m + (λ/m)Θ^(l)",
            "nnCostFunction: the feed-forward, J and backpropagation are still to be written",
            net=_untouched_template),
    Mistake("gradient-lambda-times-D", "D is regularized with (λ/m)·D instead of (λ/m)·Θ",
            "D^(l)_ij = Δ^(l)_ij/m + (λ/m)Θ^(l)_ij for j ≥ 1: Θ, not D",
            "the regularization term of D^(l): (λ/m) * Theta[:, 1:], not (λ/m) * Theta_grad[:, 1:]",
            net=_gradient_lambda_times_D),
    Mistake("gradient-bias-column-zero", "column 0 of D is left at 0",
            "D^(l)_i0 = Δ^(l)_i0/m: the bias column is not regularized but it has a gradient",
            "column 0 of D^(l) (Theta_grad[:, 0] = Delta[:, 0] / m)", net=_gradient_bias_column_zero),
    Mistake("hidden-bias-sigmoid-one", "the hidden bias unit is sigmoid(1) instead of 1",
            "a^(2) = [1; g(z^(2))]: the bias unit a^(2)_0 = 1 is added after g",
            "a2: sigmoid(z2) first, then the column of ones (not sigmoid([1, z2]))", net=_hidden_bias_sigmoid_one),
    Mistake("init-one-sign", "the initial weights have only one sign (rand * ε)",
            "Θ^(l)_ij drawn uniformly from [−ε_init, ε_init]: rand(L_out, 1 + L_in) * 2ε − ε",
            "randInitializeWeights: multiply by 2ε and subtract ε"),
    Mistake("init-shape-swapped", "the initial weights have their axes swapped",
            "Θ^(l) has shape s_{l+1} × (s_l + 1): W = rand(L_out, 1 + L_in)",
            "randInitializeWeights: rows L_out, columns 1 + L_in"),
)


def by_name(name: str) -> Mistake:
    """The mistake called ``name``."""
    for mistake in MISTAKES:
        if mistake.name == name:
            return mistake
    raise KeyError(f"no mistake called {name!r}; known: {', '.join(m.name for m in MISTAKES)}")
