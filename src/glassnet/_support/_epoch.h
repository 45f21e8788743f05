/* One mini-batch epoch, written once for both float dtypes: _kernels.c includes this file twice, with
 *   T (double / float), SFX (the name suffix), GEMM_T (the Fortran GEMM's type), EXP, LOG1P, TANH, SQRT.
 *
 * The same formulas, in the same order per element, as the NumPy code it replaces: the batch objective of
 * glassnet.train.fitting (rows gathered, glassnet._fast.workspace._Lane.sums on one chunk of examples as columns,
 * glassnet.backprop.finish) and the update rules of glassnet.train.optimize (adam / sgd). Only the matrix products
 * (BLAS, here SciPy's through scipy.linalg.cython_blas) and the order of the sums over examples and weights (the bias
 * column of Delta, J, the regularization) may round differently, so the two agree to rounding, not bit for bit;
 * tests/test_epoch.py holds them together.
 *
 * Layout (as in the NumPy code): inside a batch the n examples are columns. a^(l) is (s_l, n) C-ordered, i.e. each
 * unit's n values are contiguous; Theta^(l) is (s_{l+1}, s_l + 1) C-ordered inside one flat buffer; the batch's rows
 * of X are gathered into an (n, s_1) C-ordered buffer, which is a^(1) = x^T seen from the other side.
 * For the column-major BLAS a C-ordered (p, q) matrix is a (q, p) matrix with leading dimension q.
 */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* z += b per unit (z - (-b) in the NumPy code: the same number), then g(z) in place. */
static void FN(hidden_forward)(int act, T *Z, const T *theta, Py_ssize_t r, Py_ssize_t c, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < r; j++) {
        T mb = -theta[j * c], *z = Z + j * n;
        switch (act) {
        case ACT_SIGMOID:  /* 1 / (1 + e^{-(z + b)}): -(z + b) as (-b) - z, as workspace._sigmoid_ */
            for (Py_ssize_t t = 0; t < n; t++) { T x = mb - z[t]; x = EXP(x); x = x + (T)1; z[t] = (T)1 / x; }
            break;
        case ACT_TANH:
            for (Py_ssize_t t = 0; t < n; t++) z[t] = TANH(z[t] - mb);
            break;
        case ACT_RELU:  /* np.maximum: NaN stays NaN */
            for (Py_ssize_t t = 0; t < n; t++) { T x = z[t] - mb; z[t] = (x > 0 || x != x) ? x : (T)0; }
            break;
        default:
            for (Py_ssize_t t = 0; t < n; t++) z[t] = z[t] - mb;
        }
    }
}

/* delta *= g'(z) from a (a is overwritten where the NumPy code overwrites it): activations.*_gradient_mul_. */
static void FN(hidden_backward)(int act, T *d, T *a, Py_ssize_t count) {
    switch (act) {
    case ACT_SIGMOID:
        for (Py_ssize_t i = 0; i < count; i++) { T x = d[i] * a[i]; T o = (T)1 - a[i]; d[i] = x * o; }
        break;
    case ACT_TANH:
        for (Py_ssize_t i = 0; i < count; i++) { T o = a[i] * a[i]; o = (T)1 - o; d[i] = d[i] * o; }
        break;
    case ACT_RELU:  /* np.sign(a) with a = max(z, 0) >= 0: 1, 0 or NaN */
        for (Py_ssize_t i = 0; i < count; i++) {
            T s = a[i] > 0 ? (T)1 : (a[i] < 0 ? (T)-1 : (a[i] == 0 ? (T)0 : a[i]));
            d[i] = d[i] * s;
        }
        break;
    default:
        break;
    }
}

/* z^(L) += b, then Sigma cost (returned, in double) and delta^(L) into d; Y (n, K) C-ordered, z and d (K, n). */
static double FN(output_layer)(int pair, T *Z, T *d, const T *Y, const T *theta, Py_ssize_t K, Py_ssize_t c,
                               Py_ssize_t n) {
    double J = 0.0;
    for (Py_ssize_t k = 0; k < K; k++) {
        T mb = -theta[k * c], *z = Z + k * n;
        for (Py_ssize_t t = 0; t < n; t++) z[t] = z[t] - mb;
    }
    if (pair == PAIR_SIGMOID_LOG) {
        /* Sigma softplus((1 - 2y) z) = Sigma log1p(e^{-|s|}) + Sigma max(s, 0), then delta = g(z) - y */
        double soft = 0.0, pos = 0.0;
        for (Py_ssize_t k = 0; k < K; k++) {
            T *z = Z + k * n, *dk = d + k * n;
            for (Py_ssize_t t = 0; t < n; t++) {
                T y = Y[t * K + k], s = y * (T)-2;
                s = s + (T)1;
                s = s * z[t];
                T e = -(s < 0 ? -s : s);
                soft += (double)LOG1P(EXP(e));
                pos += (double)((s > 0 || s != s) ? s : (T)0);
                T x = -z[t];
                x = EXP(x); x = x + (T)1; x = (T)1 / x;
                dk[t] = x - y;
            }
        }
        return soft + pos;
    }
    if (pair == PAIR_SOFTMAX_LOG) {
        /* per example: lse = max + log Sigma e^{z - max}; cost = Sigma y (lse - z); delta = softmax(z) - y */
        for (Py_ssize_t t = 0; t < n; t++) {
            T mx = Z[t];
            for (Py_ssize_t k = 1; k < K; k++) mx = Z[k * n + t] > mx ? Z[k * n + t] : mx;
            if (!(mx == mx) || mx == (T)INFINITY || mx == -(T)INFINITY) mx = (T)0;  /* scipy: non-finite max -> 0 */
            T sum = 0;
            for (Py_ssize_t k = 0; k < K; k++) { T e = EXP(Z[k * n + t] - mx); d[k * n + t] = e; sum += e; }
            T lse = LOG(sum) + mx;
            for (Py_ssize_t k = 0; k < K; k++) {
                T y = Y[t * K + k];
                J += (double)(y * (lse - Z[k * n + t]));
                d[k * n + t] = d[k * n + t] / sum - y;
            }
        }
        return J;
    }
    /* squared error: r = h - y, cost = 1/2 Sigma r^2; delta = r (identity) or r * h(1 - h) (sigmoid) */
    double sq = 0.0;
    for (Py_ssize_t k = 0; k < K; k++) {
        T *z = Z + k * n, *dk = d + k * n;
        for (Py_ssize_t t = 0; t < n; t++) {
            T y = Y[t * K + k], h = z[t];
            if (pair == PAIR_SIGMOID_SQUARED) { T x = EXP(-h); x = x + (T)1; h = (T)1 / x; }
            T r = h - y;
            sq += (double)(r * r);
            dk[t] = pair == PAIR_SIGMOID_SQUARED ? r * (h * ((T)1 - h)) : r;
        }
    }
    return 0.5 * sq;
}

/* Sigma x_i^2 in double, in 8 independent lanes (a strict-IEEE build vectorizes lanes, never one running sum). */
VECTOR_CLONES static double FN(sum_squares)(const T *x, Py_ssize_t count) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    Py_ssize_t i = 0;
    for (; i + 8 <= count; i += 8)
        for (int q = 0; q < 8; q++) lane[q] += (double)x[i + q] * (double)x[i + q];
    for (; i < count; i++) lane[0] += (double)x[i] * (double)x[i];
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

/* D = Delta/n (+ c Theta off the bias column), then the rule's step with it: backprop.finish and optimize.adam / sgd
 * on one element, the operations in their order. */
#define D_BIAS(j) (g[j] / nn)
#define D_REG(j) (g[j] / nn + c * th[j])
#define D_PLAIN(j) (g[j] / nn)
#define ADAM_AT(j, GI)                                                                                                \
    { T gi = GI, mi = m[j], vi = v[j], g2 = gi * gi, dd;                                                            \
      mi = mi - gi; mi = mi * b1; mi = mi + gi; m[j] = mi;                                                          \
      vi = vi - g2; vi = vi * b2; vi = vi + g2; v[j] = vi;                                                          \
      dd = SQRT(vi); dd = dd + eps; dd = mi / dd; dd = dd * st;                                                     \
      T ti = th[j] - dd; th[j] = ti; bad |= !((ti - ti) == 0); }
#define SGD_AT(j, GI)                                                                                                 \
    { T gg = GI, vi = m[j], ti = th[j]; gg = gg * eta;                                                              \
      vi = vi * mu; vi = vi - gg; m[j] = vi;                                                                        \
      if (nesterov) { T u = ti - gg; ti = u + vi * mu; } else { ti = ti + vi; }                                    \
      th[j] = ti; bad |= !((ti - ti) == 0); }

VECTOR_CLONES static int FN(adam_rows)(T *theta, const T *G, T *s1, T *s2, Py_ssize_t rows, Py_ssize_t cols, T nn,
                                      T c, int regularize, T b1, T b2, T eps, T st) {
    int bad = 0;
    for (Py_ssize_t r = 0; r < rows; r++) {
        T *th = theta + r * cols, *m = s1 + r * cols, *v = s2 + r * cols;
        const T *g = G + r * cols;
        ADAM_AT(0, D_BIAS(0))
        if (regularize) { for (Py_ssize_t j = 1; j < cols; j++) ADAM_AT(j, D_REG(j)) }
        else { for (Py_ssize_t j = 1; j < cols; j++) ADAM_AT(j, D_PLAIN(j)) }
    }
    return !bad;
}

VECTOR_CLONES static int FN(sgd_rows)(T *theta, const T *G, T *s1, Py_ssize_t rows, Py_ssize_t cols, T nn, T c,
                                     int regularize, T eta, T mu, int nesterov) {
    int bad = 0;
    for (Py_ssize_t r = 0; r < rows; r++) {
        T *th = theta + r * cols, *m = s1 + r * cols;
        const T *g = G + r * cols;
        SGD_AT(0, D_BIAS(0))
        if (regularize) { for (Py_ssize_t j = 1; j < cols; j++) SGD_AT(j, D_REG(j)) }
        else { for (Py_ssize_t j = 1; j < cols; j++) SGD_AT(j, D_PLAIN(j)) }
    }
    return !bad;
}

#undef D_BIAS
#undef D_REG
#undef D_PLAIN
#undef ADAM_AT
#undef SGD_AT

/* The epoch. Buffers: X (M, s_1), Y (M, K), order (M) row numbers, theta and G (the flat weights and scratch),
 * s1/s2 the rule's flat arrays (Adam's m and v; SGD's velocity and NULL). Returns an EPOCH_* status. */
static int FN(epoch)(epoch_args *e, const T *X, const T *Y, const int64_t *order, T *theta, T *G, T *s1, T *s2,
                     T *work) {
    GEMM_T gemm = (GEMM_T)e->gemm;
    const Py_ssize_t L = e->layers, M = e->M, B = e->batch, s0 = e->sizes[0], K = e->sizes[L];
    T *Xb = work, *Yb = Xb + B * s0, *bufs = Yb + B * K;
    T *A[MAX_LAYERS + 1], *Dl[MAX_LAYERS + 1];  /* A[l]: a^(l+1) (hidden) or z^(L); Dl[l]: delta^(l+1) */
    Py_ssize_t off[MAX_LAYERS + 1];
    off[0] = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        A[l + 1] = bufs; bufs += e->sizes[l + 1] * B;
        Dl[l + 1] = bufs; bufs += e->sizes[l + 1] * B;
        off[l + 1] = off[l] + e->sizes[l + 1] * (e->sizes[l] + 1);
    }
    T one = 1, zero = 0;
    for (Py_ssize_t start = 0; start < M; start += B) {
        if (e->should_stop != NULL) {
            PyEval_RestoreThread(e->tstate);
            PyObject *res = PyObject_CallNoArgs(e->should_stop);
            int stop = res == NULL ? -1 : PyObject_IsTrue(res);
            Py_XDECREF(res);
            e->tstate = PyEval_SaveThread();
            if (stop < 0) return EPOCH_ERROR;
            if (stop) return EPOCH_STOPPED;
        }
        const Py_ssize_t n = start + B <= M ? B : M - start;
        int in = (int)n;
        for (Py_ssize_t t = 0; t < n; t++) {  /* the batch's rows, as np.take(X, idx, axis=0) */
            const int64_t row = order[start + t];
            memcpy(Xb + t * s0, X + row * s0, (size_t)s0 * sizeof(T));
            memcpy(Yb + t * K, Y + row * K, (size_t)K * sizeof(T));
        }
        /* forward: z^(l+1) = Theta^(l)[:, 1:] a^(l) (one GEMM), then + bias and g in one pass */
        for (Py_ssize_t l = 0; l < L; l++) {
            int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
            T *th = theta + off[l];
            if (l == 0) gemm("T", "N", &in, &r, &s, &one, Xb, &s, th + 1, &c, &zero, A[1], &in);
            else gemm("N", "N", &in, &r, &s, &one, A[l], &in, th + 1, &c, &zero, A[l + 1], &in);
            if (l < L - 1) FN(hidden_forward)(e->act, A[l + 1], th, r, c, n);
        }
        double J_sum = FN(output_layer)(e->pair, A[L], Dl[L], Yb, theta + off[L - 1], K, e->sizes[L - 1] + 1, n);
        if (!isfinite(J_sum)) { e->bad_batch = e->batches + 1; e->bad_J = J_sum; return EPOCH_DIVERGED; }
        /* backward: Delta^(l) = delta^(l+1) [1, a^(l)]^T into G; delta^(l) = Theta^(l)[:, 1:]^T delta^(l+1) .* g' */
        for (Py_ssize_t l = L - 1; l >= 0; l--) {
            int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
            T *th = theta + off[l], *Gl = G + off[l], *d = Dl[l + 1];
            for (Py_ssize_t j = 0; j < r; j++) {  /* the bias column: Sigma_t delta_t (a_0 = 1) */
                T acc = 0;
                for (Py_ssize_t t = 0; t < n; t++) acc += d[j * n + t];
                Gl[j * c] = acc;
            }
            if (l == 0) gemm("N", "N", &s, &r, &in, &one, Xb, &s, d, &in, &zero, Gl + 1, &c);
            else gemm("T", "N", &s, &r, &in, &one, A[l], &in, d, &in, &zero, Gl + 1, &c);
            if (l > 0) {
                gemm("N", "T", &in, &s, &r, &one, d, &in, th + 1, &c, &zero, Dl[l], &in);
                FN(hidden_backward)(e->act, Dl[l], A[l], (Py_ssize_t)s * n);
            }
        }
        /* lambda's batch share (fitting.batch_lam) and D's (lambda_b / n), as the Python code computes them */
        double lam_b = e->lam * (double)n / (double)M, step = 0.0, reg = 0.0;
        if (e->rule == RULE_ADAM) {
            e->t += 1;
            step = e->eta * sqrt(1 - pow(e->beta_2, (double)e->t)) / (1 - pow(e->beta_1, (double)e->t));
        }
        int finite = 1;
        for (Py_ssize_t l = 0; l < L; l++) {
            Py_ssize_t rows = e->sizes[l + 1], cols = e->sizes[l] + 1;
            T *th = theta + off[l], nn = (T)n, c = (T)(lam_b / (double)n);
            if (lam_b != 0.0)  /* Sigma Theta[:, 1:]^2 before the step: the batch's regularization term */
                for (Py_ssize_t r = 0; r < rows; r++) reg += FN(sum_squares)(th + r * cols + 1, cols - 1);
            if (e->rule == RULE_ADAM)
                finite &= FN(adam_rows)(th, G + off[l], s1 + off[l], s2 + off[l], rows, cols, nn, c, lam_b != 0.0,
                                        (T)e->beta_1, (T)e->beta_2, (T)e->epsilon, (T)step);
            else
                finite &= FN(sgd_rows)(th, G + off[l], s1 + off[l], rows, cols, nn, c, lam_b != 0.0, (T)e->eta,
                                       (T)e->mu, e->nesterov);
        }
        double J = J_sum / (double)n + (lam_b == 0.0 ? 0.0 : lam_b / (2.0 * (double)n) * reg);
        e->batches += 1;
        if (!isfinite(J) || !finite) { e->bad_batch = e->batches; e->bad_J = J; return EPOCH_DIVERGED; }
        e->total += J * (double)n;
    }
    return EPOCH_OK;
}

#undef FN
