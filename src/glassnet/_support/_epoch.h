/* One mini-batch epoch, written once for both float dtypes: _kernels.c includes this file twice, with
 *   T (double / float), SFX (the name suffix), GEMM_T (the Fortran GEMM's type), VEXP and VLOG1P (_vexp.h), LOG,
 *   TANH, SQRT.
 *
 * The same formulas, in the same order per element, as the NumPy code it replaces: the batch objective of
 * glassnet.train.fitting (rows gathered, glassnet._fast.workspace._Lane.sums on one chunk of examples as columns,
 * glassnet.backprop.finish) and the update rules of glassnet.train.optimize (adam / sgd). Only the matrix products
 * (BLAS, here SciPy's through scipy.linalg.cython_blas), the order of the sums over examples and weights (the bias
 * column of Delta, J, the regularization) and D = Delta * (1/n) (one division fewer per weight than Delta / n, a
 * quarter of Adam's time at batch 16) may round differently, so the two agree to rounding, not bit for bit;
 * tests/test_epoch.py holds them together, on one thread and on several.
 *
 * Layout (as in the NumPy code): inside a batch the n examples are columns. a^(l) is (s_l, n) C-ordered, i.e. each
 * unit's n values are contiguous; Theta^(l) is (s_{l+1}, s_l + 1) C-ordered inside one flat buffer; the batch's rows
 * of X are gathered into an (n, s_1) C-ordered buffer, which is a^(1) = x^T seen from the other side.
 * For the column-major BLAS a C-ordered (p, q) matrix is a (q, p) matrix with leading dimension q, so a block of
 * columns (examples) t0 .. t0 + w - 1 of a^(l) is the (w, s_l) matrix at a + t0 with leading dimension n.
 */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* Sigma x_i in double, in 8 independent lanes (a strict-IEEE build vectorizes lanes, never one running sum). */
VECTOR_CLONES static double FN(sum_lanes)(const T *x, Py_ssize_t count) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    Py_ssize_t i = 0;
    for (; i + 8 <= count; i += 8)
        for (int q = 0; q < 8; q++) lane[q] += (double)x[i + q];
    for (; i < count; i++) lane[0] += (double)x[i];
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

/* g(z + b) = 1 / (1 + e^{-(z + b)}) in place on n examples, -(z + b) as (-b) - z (mb = -b), as
 * workspace._sigmoid_; vectorized (VEXP: _vexp.h). */
VECTOR_CLONES static void FN(sigmoid_rows)(T *z, T mb, Py_ssize_t n) {
    for (Py_ssize_t t = 0; t < n; t++) { T x = mb - z[t]; x = VEXP(x); x = x + (T)1; z[t] = (T)1 / x; }
}

/* sigmoid-log output, unit k's n examples (Y read with stride K), vectorized: the cost's two terms per example,
 * softplus(s) = log1p(e^{-|s|}) + max(s, 0) with s = (1 - 2y) z, into E and Pos (output_layer sums them in double),
 * and delta = g(z) - y into d. */
VECTOR_CLONES static void FN(sigmoid_log_rows)(const T *z, T *E, T *Pos, T *d, const T *Y, Py_ssize_t K,
                                               Py_ssize_t n) {
    for (Py_ssize_t t = 0; t < n; t++) {
        T y = Y[t * K], s = y * (T)-2;
        s = s + (T)1;
        s = s * z[t];
        T e = -(s < 0 ? -s : s);
        E[t] = VLOG1P(VEXP(e));
        Pos[t] = (s > 0 || s != s) ? s : (T)0;
    }
    for (Py_ssize_t t = 0; t < n; t++) {
        T x = -z[t];
        x = VEXP(x); x = x + (T)1; x = (T)1 / x;
        d[t] = x - Y[t * K];
    }
}

/* z += b per unit (z - (-b) in the NumPy code: the same number), then g(z) in place: r units (rows, ld apart) of n
 * examples. */
static void FN(hidden_forward)(int act, T *Z, const T *theta, Py_ssize_t r, Py_ssize_t c, Py_ssize_t n,
                               Py_ssize_t ld) {
    for (Py_ssize_t j = 0; j < r; j++) {
        T mb = -theta[j * c], *z = Z + j * ld;
        switch (act) {
        case ACT_SIGMOID:
            FN(sigmoid_rows)(z, mb, n);
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

/* delta *= g'(z) from a: activations.*_gradient_mul_, on r units (rows, ld apart) of n examples. */
static void FN(hidden_backward)(int act, T *D, const T *A, Py_ssize_t r, Py_ssize_t n, Py_ssize_t ld) {
    for (Py_ssize_t j = 0; j < r; j++) {
        T *d = D + j * ld;
        const T *a = A + j * ld;
        switch (act) {
        case ACT_SIGMOID:
            for (Py_ssize_t i = 0; i < n; i++) { T x = d[i] * a[i]; T o = (T)1 - a[i]; d[i] = x * o; }
            break;
        case ACT_TANH:
            for (Py_ssize_t i = 0; i < n; i++) { T o = a[i] * a[i]; o = (T)1 - o; d[i] = d[i] * o; }
            break;
        case ACT_RELU:  /* np.sign(a) with a = max(z, 0) >= 0: 1, 0 or NaN */
            for (Py_ssize_t i = 0; i < n; i++) {
                T s = a[i] > 0 ? (T)1 : (a[i] < 0 ? (T)-1 : (a[i] == 0 ? (T)0 : a[i]));
                d[i] = d[i] * s;
            }
            break;
        default:
            return;
        }
    }
}

/* z^(L) += b, then Sigma cost (returned, in double) and delta^(L) into d; Y (n, K) C-ordered, z and d K units
 * (rows, ld apart) of n examples. */
static double FN(output_layer)(int pair, T *Z, T *d, const T *Y, const T *theta, Py_ssize_t K, Py_ssize_t c,
                               Py_ssize_t n, Py_ssize_t ld) {
    double J = 0.0;
    for (Py_ssize_t k = 0; k < K; k++) {
        T mb = -theta[k * c], *z = Z + k * ld;
        for (Py_ssize_t t = 0; t < n; t++) z[t] = z[t] - mb;
    }
    if (pair == PAIR_SIGMOID_LOG) {
        /* Sigma softplus((1 - 2y) z) = Sigma log1p(e^{-|s|}) + Sigma max(s, 0), then delta = g(z) - y */
        double soft = 0.0, pos = 0.0;
        for (Py_ssize_t k = 0; k < K; k++) {
            T *z = Z + k * ld, *dk = d + k * ld, E[EXP_CHUNK], Pos[EXP_CHUNK];
            for (Py_ssize_t t0 = 0; t0 < n; t0 += EXP_CHUNK) {
                const Py_ssize_t w = n - t0 < EXP_CHUNK ? n - t0 : EXP_CHUNK;
                FN(sigmoid_log_rows)(z + t0, E, Pos, dk + t0, Y + t0 * K + k, K, w);
                soft += FN(sum_lanes)(E, w);
                pos += FN(sum_lanes)(Pos, w);
            }
        }
        return soft + pos;
    }
    if (pair == PAIR_SOFTMAX_LOG) {
        /* per example: lse = max + log Sigma e^{z - max}; cost = Sigma y (lse - z); delta = softmax(z) - y */
        for (Py_ssize_t t = 0; t < n; t++) {
            T mx = Z[t];
            for (Py_ssize_t k = 1; k < K; k++) mx = Z[k * ld + t] > mx ? Z[k * ld + t] : mx;
            if (!(mx == mx) || mx == (T)INFINITY || mx == -(T)INFINITY) mx = (T)0;  /* scipy: non-finite max -> 0 */
            T sum = 0;
            for (Py_ssize_t k = 0; k < K; k++) { T e = VEXP(Z[k * ld + t] - mx); d[k * ld + t] = e; sum += e; }
            T lse = LOG(sum) + mx;
            for (Py_ssize_t k = 0; k < K; k++) {
                T y = Y[t * K + k];
                J += (double)(y * (lse - Z[k * ld + t]));
                d[k * ld + t] = d[k * ld + t] / sum - y;
            }
        }
        return J;
    }
    /* squared error: r = h - y, cost = 1/2 Sigma r^2; delta = r (identity) or r * h(1 - h) (sigmoid) */
    double sq = 0.0;
    for (Py_ssize_t k = 0; k < K; k++) {
        T *z = Z + k * ld, *dk = d + k * ld;
        for (Py_ssize_t t = 0; t < n; t++) {
            T y = Y[t * K + k], h = z[t];
            if (pair == PAIR_SIGMOID_SQUARED) { T x = VEXP(-h); x = x + (T)1; h = (T)1 / x; }
            T r = h - y;
            sq += (double)(r * r);
            dk[t] = pair == PAIR_SIGMOID_SQUARED ? r * (h * ((T)1 - h)) : r;
        }
    }
    return 0.5 * sq;
}

/* Delta's bias column (a_0 = 1): D[j, 0] = Sigma_t delta_jt for r units of n examples (rows of d), into a matrix of
 * c columns; added to what is there with `add` (a later chunk), else written. In 16 independent lanes, as NumPy's
 * sum keeps 8: one running sum waits out the adder's latency on every example (a quarter of the elementwise time of
 * a full-batch evaluation at 300 hidden units). */
VECTOR_CLONES static void FN(bias_column)(T *D, Py_ssize_t c, const T *d, Py_ssize_t r, Py_ssize_t n, int add) {
    for (Py_ssize_t j = 0; j < r; j++) {
        const T *x = d + j * n;
        T lane[16] = {0};
        Py_ssize_t q = 0;
        for (; q + 16 <= n; q += 16)
            for (int i = 0; i < 16; i++) lane[i] += x[q + i];
        for (; q < n; q++) lane[q & 15] += x[q];
        for (int w = 8; w >= 1; w /= 2)  /* pairwise: 16 -> 8 -> 4 -> 2 -> 1 */
            for (int i = 0; i < w; i++) lane[i] += lane[i + w];
        D[j * c] = add ? D[j * c] + lane[0] : lane[0];
    }
}

/* z = Theta[:, 1:] x for r units (rows of theta, c apart) and the n rows of x (s features each, C-ordered), into
 * z (r rows of n, units by examples: the layout of A). Three ways to ask the BLAS, the same sums of products:
 *  - plain: z as X Theta^T in one product (both operands read along the features: the dot-product form);
 *  - `turn`: the transpose (examples by units) into `scratch` (r * n), turned round here. An epoch shared by threads
 *    does that for wide float32 batches: OpenBLAS's sgemm (SkylakeX kernels) runs that product faster that way round
 *    for a few tens of units (48 units of 784 inputs, 200 examples: 86 -> 102 GFLOPS on one core; the epoch 2-4%
 *    faster on two threads);
 *  - `wt` given (Theta[:, 1:] transposed, s rows of r): the same transpose as a plain product of two matrices read
 *    along their rows, which OpenBLAS serves faster for a thin first layer and slower for a wider one (see
 *    glassnet._fast.workspace.first_layer_as_rows, which decides, with the measurements). The full-batch sums, which
 *    keep Theta for the whole call, make that copy once. */
static void FN(first_layer)(GEMM_T gemm, const T *x, const T *theta, const T *wt, T *z, T *scratch, int n, int r,
                            int s, int c, int turn) {
    T one = 1, zero = 0;
    if (wt != NULL) gemm("N", "N", &r, &n, &s, &one, wt, &r, x, &s, &zero, scratch, &r);
    else if (turn) gemm("T", "N", &r, &n, &s, &one, theta + 1, &c, x, &s, &zero, scratch, &r);
    else {
        gemm("T", "N", &n, &r, &s, &one, x, &s, theta + 1, &c, &zero, z, &n);
        return;
    }
    for (Py_ssize_t t = 0; t < n; t++)  /* read in order; the r rows of z each fill a cache line in turn */
        for (Py_ssize_t j = 0; j < r; j++) z[j * (Py_ssize_t)n + t] = scratch[t * (Py_ssize_t)r + j];
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

/* D = Delta * (1/n) (+ c Theta off the bias column), then the rule's step with it: backprop.finish and optimize.adam /
 * sgd on one element, the operations in their order. */
#define D_BIAS(j) (g[j] * rn)
#define D_REG(j) (g[j] * rn + c * th[j])
#define D_PLAIN(j) (g[j] * rn)
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

VECTOR_CLONES static int FN(adam_rows)(T *theta, const T *G, T *s1, T *s2, Py_ssize_t rows, Py_ssize_t cols, T rn,
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

VECTOR_CLONES static int FN(sgd_rows)(T *theta, const T *G, T *s1, Py_ssize_t rows, Py_ssize_t cols, T rn, T c,
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

/* What the epoch's threads share. A batch runs in four phases, the threads meeting (barrier) between them:
 *   1. each thread gathers a share of the batch's rows of X and Y, into one of two buffers by the batch's parity (so
 *      a thread may gather batch b+1 while another still reads batch b's). Where it fits in a core's L2 cache
 *      beside the weights the thread steps (OWN_X), each thread gathers every row of X into a buffer of its own
 *      instead: 2. and 4. read all of them, and copying a row again costs less than reading it from the cache of
 *      the core that copied it (float32, 784 inputs, batches of 200 on two threads: 6% faster an epoch; where it
 *      does not fit, as float64 there, 4% slower);
 *   2. thread k computes its units u[k] .. u[k+1]-1 of the first hidden layer (rows of Theta^(1) and of a^(2)) for
 *      every example: the largest product, split by the rows of Theta^(1);
 *   3. thread k takes its share of the examples (columns) through every later layer, the cost, and back to
 *      delta^(2): those steps mix all units of a layer but never two examples (thread 0 takes them all where the
 *      batch is narrow);
 *   4. thread k forms Delta^(1) rows of its units and steps them; thread 0 also every later Theta (few weights).
 * Only thread 0 (the caller) touches Python and e. Threads that wait at the barriers more than they work (no core of
 * their own) stop sharing: thread 0 takes every unit and example over (see SOLO_CHECK_AFTER). */
typedef struct {
    epoch_args *e;
    const T *X, *Y;
    const int64_t *order;
    T *theta, *G, *s1, *s2;
    T *Xb[MAX_WORKERS], *Yb[2];
    T *A[MAX_LAYERS + 1], *Dl[MAX_LAYERS + 1];  /* A[l]: a^(l+1) (hidden) or z^(L); Dl[l]: delta^(l+1) */
    Py_ssize_t off[MAX_LAYERS + 1], u[MAX_WORKERS + 1];
    int P, own_x;                   /* own_x: each thread gathers all of X into Xb[k] (see 1. above) */
    spin_barrier bar;
    /* written before a barrier by one thread, read after it by all: */
    int stop;                       /* should_stop said stop (EPOCH_STOPPED) or failed (EPOCH_ERROR); 0: go on */
    struct {                        /* per thread, a cache line each (no two threads write one line) */
        _Alignas(64) double J_part; /* Sigma cost of its examples of this batch */
        double reg;                 /* Sigma Theta[:, 1:]^2 of its rows before the step */
        int finite;                 /* its rows stayed finite after the step */
        int bad_x;                  /* e->check: a row of X it gathered for this batch holds NaN or inf */
        long long waited, span;     /* ns it has waited at barriers, and ns since it started (before each batch) */
    } slot[MAX_WORKERS];
} FN(shared);

/* Thread k's part of the epoch (every thread runs it; k = 0 in the caller, which alone touches Python and e). */
static void FN(work)(FN(shared) *S, int k) {
    epoch_args *e = S->e;
    GEMM_T gemm = (GEMM_T)e->gemm;
    const Py_ssize_t L = e->layers, M = e->M, B = e->batch, s0 = e->sizes[0], K = e->sizes[L];
    const int c0 = (int)s0 + 1;
    int P = S->P, mine = (int)(S->u[k + 1] - S->u[k]);  /* thread 0 takes everything over if the threads go solo */
    Py_ssize_t u0 = S->u[k];
    T *theta = S->theta, *G = S->G;
    T one = 1, zero = 0;
    int sense = 0, parity = 0;
    long long t = e->t, started = now_ns(), waited = 0, t_wait;
    Py_ssize_t prev_n = 0;
    double prev_lam_b = 0.0;
#define WAIT_AT_BARRIER() (t_wait = now_ns(), barrier_wait(&S->bar, &sense), waited += now_ns() - t_wait)
    for (Py_ssize_t start = 0;; start += B) {
        const Py_ssize_t n = start < M ? (start + B <= M ? B : M - start) : 0;
        int in = (int)n, s0i = (int)s0;
        T *Xb = S->own_x ? S->Xb[k] : S->Xb[parity], *Yb = S->Yb[parity];
        if (k == 0 && n && e->should_stop != NULL) {
            PyEval_RestoreThread(e->tstate);
            PyObject *res = PyObject_CallNoArgs(e->should_stop);
            int stop = res == NULL ? -1 : PyObject_IsTrue(res);
            Py_XDECREF(res);
            e->tstate = PyEval_SaveThread();
            S->stop = stop < 0 ? EPOCH_ERROR : (stop ? EPOCH_STOPPED : 0);
        }
        int bad_x = 0;
        if (S->own_x)  /* 1. every row of X, into this thread's buffer */
            for (Py_ssize_t q = 0; q < n; q++)
                memcpy(Xb + q * s0, S->X + S->order[start + q] * s0, (size_t)s0 * sizeof(T));
        for (Py_ssize_t q = n * k / P; q < n * (k + 1) / P; q++) {  /* 1. this thread's share of the rows */
            const int64_t row = S->order[start + q];
            if (!S->own_x) memcpy(Xb + q * s0, S->X + row * s0, (size_t)s0 * sizeof(T));
            memcpy(Yb + q * K, S->Y + row * K, (size_t)K * sizeof(T));
            /* the fit's one look at X for NaN and inf, on the row just copied (in cache): no pass of its own */
            if (e->check) bad_x |= !(sizeof(T) == 8 ? finite_f64(s0, Xb + q * s0) : finite_f32(s0, Xb + q * s0));
        }
        S->slot[k].bad_x = bad_x;
        S->slot[k].waited = waited;
        S->slot[k].span = now_ns() - started;
        WAIT_AT_BARRIER();
        if (prev_n) {  /* the previous batch, now that every thread's part of it is done: each thread decides alike */
            double J_sum = 0.0, reg = 0.0;
            int finite = 1;
            for (int q = 0; q < P; q++) { J_sum += S->slot[q].J_part; reg += S->slot[q].reg; finite &= S->slot[q].finite; }
            double J = J_sum / (double)prev_n + (prev_lam_b == 0.0 ? 0.0 : prev_lam_b / (2.0 * (double)prev_n) * reg);
            if (k == 0) e->batches += 1;
            if (!isfinite(J) || !finite) {
                if (k == 0) { e->bad_batch = e->batches; e->bad_J = J; e->status = EPOCH_DIVERGED; }
                break;
            }
            if (k == 0) e->total += J * (double)prev_n;
        }
        if (n == 0) break;
        if (S->stop) { if (k == 0) e->status = S->stop; break; }
        {  /* a row of this batch not finite: stop before it is used (every thread reads the same slots) */
            int bad_x = 0;
            for (int q = 0; q < P; q++) bad_x |= S->slot[q].bad_x;
            if (bad_x) { if (k == 0) { e->status = EPOCH_NOT_FINITE; e->bad_batch = e->batches + 1; } break; }
        }
        if (P > 1 && start >= SOLO_CHECK_AFTER * B) {
            /* A thread that waits at the barriers more than it works has no core of its own (more threads than
             * cores: other fits, other programs): then thread 0 finishes the epoch alone, as one thread runs it. Every
             * thread reads the same numbers (published before the barrier), so all decide alike. */
            int solo = 0;
            for (int q = 0; q < P; q++) solo |= 2 * S->slot[q].waited > S->slot[q].span;
            if (solo) {
                if (k > 0) break;
                P = 1; mine = (int)e->sizes[1]; u0 = 0;
                S->bar.P = 1;
            }
        }
        /* 2. this thread's units of the first layer: z = Theta^(1)[u, 1:] x (one GEMM), + bias and g in one pass */
        if (mine > 0) {
            T *z = S->A[1] + u0 * n, *th = theta + u0 * c0;
            /* turned round for a wide float32 batch; scratch: this thread's rows of delta^(2), written in 3. after
             * the threads meet */
            FN(first_layer)(gemm, Xb, th, NULL, z, S->Dl[1] + u0 * n, in, mine, s0i, c0,
                            sizeof(T) == 4 && P > 1 && n >= WIDE * P);
            if (L > 1) FN(hidden_forward)(e->act, z, th, mine, c0, n, n);
        }
        WAIT_AT_BARRIER();
        /* 3. this thread's examples through the later layers, the cost, and every delta down to delta^(2); a batch
         * of fewer than WIDE examples per thread stays with thread 0 (products that thin cost more than they save) */
        const int wide = n >= WIDE * P;
        const Py_ssize_t t0 = wide ? n * k / P : 0, w = wide ? n * (k + 1) / P - t0 : (k == 0 ? n : 0);
        int iw = (int)w;
        S->slot[k].J_part = 0.0;
        if (w > 0) {
            for (Py_ssize_t l = 1; l < L; l++) {
                int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
                T *th = theta + S->off[l];
                gemm("N", "N", &iw, &r, &s, &one, S->A[l] + t0, &in, th + 1, &c, &zero, S->A[l + 1] + t0, &in);
                if (l < L - 1) FN(hidden_forward)(e->act, S->A[l + 1] + t0, th, r, c, w, n);
            }
            S->slot[k].J_part = FN(output_layer)(e->pair, S->A[L] + t0, S->Dl[L] + t0, Yb + t0 * K,
                                            theta + S->off[L - 1], K, e->sizes[L - 1] + 1, w, n);
            for (Py_ssize_t l = L - 1; l >= 1 && isfinite(S->slot[k].J_part); l--) {
                int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
                gemm("N", "T", &iw, &s, &r, &one, S->Dl[l + 1] + t0, &in, theta + S->off[l] + 1, &c, &zero,
                     S->Dl[l] + t0, &in);
                FN(hidden_backward)(e->act, S->Dl[l] + t0, S->A[l] + t0, s, w, n);
            }
        }
        WAIT_AT_BARRIER();
        {
            double J_sum = 0.0;
            for (int q = 0; q < P; q++) J_sum += S->slot[q].J_part;
            if (!isfinite(J_sum)) {
                if (k == 0) { e->bad_batch = e->batches + 1; e->bad_J = J_sum; e->status = EPOCH_DIVERGED; }
                break;
            }
        }
        /* 4. lambda's batch share (fitting.batch_lam) and D's (lambda_b / n), as the Python code computes them */
        const double lam_b = e->lam * (double)n / (double)M;
        double step = 0.0, reg = 0.0;
        if (e->rule == RULE_ADAM) {
            t += 1;
            step = e->eta * sqrt(1 - pow(e->beta_2, (double)t)) / (1 - pow(e->beta_1, (double)t));
        }
        const T rn = (T)(1.0 / (double)n), cr = (T)(lam_b / (double)n);
        int finite = 1;
        /* Delta^(l) = delta^(l+1) [1, a^(l)]^T into G, then the step on those rows: this thread's rows of Theta^(1);
         * thread 0 also every later Theta */
        for (Py_ssize_t l = k == 0 ? L - 1 : 0; l >= 0; l--) {
            const Py_ssize_t first = l == 0 ? u0 : 0;
            int r = l == 0 ? mine : (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
            if (r == 0) continue;
            T *th = theta + S->off[l] + first * c, *Gl = G + S->off[l] + first * c, *d = S->Dl[l + 1] + first * n;
            FN(bias_column)(Gl, c, d, r, n, 0);
            if (l == 0) gemm("N", "N", &s, &r, &in, &one, Xb, &s, d, &in, &zero, Gl + 1, &c);
            else gemm("T", "N", &s, &r, &in, &one, S->A[l], &in, d, &in, &zero, Gl + 1, &c);
            if (lam_b != 0.0)  /* Sigma Theta[:, 1:]^2 before the step: the batch's regularization term */
                for (Py_ssize_t j = 0; j < r; j++) reg += FN(sum_squares)(th + j * c + 1, c - 1);
            Py_ssize_t at = S->off[l] + first * c;
            if (e->rule == RULE_ADAM)
                finite &= FN(adam_rows)(th, Gl, S->s1 + at, S->s2 + at, r, c, rn, cr, lam_b != 0.0,
                                        (T)e->beta_1, (T)e->beta_2, (T)e->epsilon, (T)step);
            else
                finite &= FN(sgd_rows)(th, Gl, S->s1 + at, r, c, rn, cr, lam_b != 0.0, (T)e->eta, (T)e->mu,
                                       e->nesterov);
        }
        S->slot[k].reg = reg;
        S->slot[k].finite = finite;
        if (k == 0) e->t = t;
        prev_n = n;
        prev_lam_b = lam_b;
        parity ^= 1;
    }
#undef WAIT_AT_BARRIER
}

/* Z (predictions) NULL: Sigma cost over the M rows of X, and Delta^(l) = Sigma_t delta^(l+1) [1, a^(l)]^T (overwritten): the full-batch sums
 * of glassnet._fast.workspace._Lane.sums in compiled code, on one thread (the workspace's lanes are the threads), in
 * chunks of e->batch rows read straight from X (C-ordered rows: a chunk is a^(1) seen from the other side, no
 * gather). theta[l]: Theta^(l+1), (s_{l+1}, s_l + 1) C-ordered; wt: Theta^(1)[:, 1:] transposed (s_1, s_2), or NULL
 * (see first_layer); A[l], Dl[l] (l = 1..L): a^(l+1) (z^(L) for l = L) and delta^(l+1), s_l * e->batch each (Dl[1]
 * is the first layer's scratch before it holds delta^(2)); Delta[l] shaped like theta[l]. The same steps as an epoch's batch (forward,
 * output_layer, backward), with Delta summed over the chunks by the GEMM (beta = 1 after the first). Z given: the
 * forward pass alone, z^(L) (the output's bias added, no output activation) into Z's rows; returns the number of
 * chunks whose z^(2) held NaN or inf (Y, Dl[2..] and Delta are not touched). */
static double FN(sums)(const epoch_args *e, const T *X, const T *Y, T *Z, T *const *theta, const T *wt, T *const *A,
                       T *const *Dl, T *const *Delta) {
    GEMM_T gemm = (GEMM_T)e->gemm;
    const Py_ssize_t L = e->layers, M = e->M, s0 = e->sizes[0], K = e->sizes[L];
    T one = 1, zero = 0;
    double J = 0.0;
    for (Py_ssize_t start = 0; start < M; start += e->batch) {
        const Py_ssize_t n = M - start < e->batch ? M - start : e->batch;
        const T *x = X + start * s0;
        int in = (int)n;
        T beta = start == 0 ? zero : one;
        for (Py_ssize_t l = 0; l < L; l++) {
            int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
            if (l == 0) FN(first_layer)(gemm, x, theta[0], wt, A[1], Dl[1], in, r, s, c, 0);
            else gemm("N", "N", &in, &r, &s, &one, A[l], &in, theta[l] + 1, &c, &zero, A[l + 1], &in);
            /* predictions: a non-finite x makes its row of z^(2) non-finite (inf * 0 is NaN); counted for the caller */
            if (l == 0 && Z != NULL && !FINITE((Py_ssize_t)r * n, A[1])) J += 1.0;
            if (l < L - 1) FN(hidden_forward)(e->act, A[l + 1], theta[l], r, c, n, n);
        }
        if (Z != NULL) {  /* predictions: z^(L) + b into the chunk's rows of Z, (M, K) C-ordered; no cost, no Delta */
            const Py_ssize_t c = e->sizes[L - 1] + 1;
            const T *th = theta[L - 1];
            for (Py_ssize_t t = 0; t < n; t++)
                for (Py_ssize_t k = 0; k < K; k++) Z[(start + t) * K + k] = A[L][k * n + t] + th[k * c];
            continue;
        }
        J += FN(output_layer)(e->pair, A[L], Dl[L], Y + start * K, theta[L - 1], K, e->sizes[L - 1] + 1, n, n);
        for (Py_ssize_t l = L - 1; l >= 1; l--) {
            int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
            gemm("N", "T", &in, &s, &r, &one, Dl[l + 1], &in, theta[l] + 1, &c, &zero, Dl[l], &in);
            FN(hidden_backward)(e->act, Dl[l], A[l], s, n, n);
        }
        for (Py_ssize_t l = 0; l < L; l++) {
            int r = (int)e->sizes[l + 1], s = (int)e->sizes[l], c = s + 1;
            const T *d = Dl[l + 1];
            T *D = Delta[l];
            FN(bias_column)(D, c, d, r, n, start > 0);
            if (l == 0) gemm("N", "N", &s, &r, &in, &one, x, &s, d, &in, &beta, D + 1, &c);
            else gemm("T", "N", &s, &r, &in, &one, A[l], &in, d, &in, &beta, D + 1, &c);
        }
    }
    return J;
}

static void FN(task)(void *S, int k) { FN(work)((FN(shared) *)S, k); }

/* The epoch. Buffers: X (M, s_1), Y (M, K), order (M) row numbers, theta and G (the flat weights and scratch),
 * s1/s2 the rule's flat arrays (Adam's m and v; SGD's velocity and NULL), work (see work_size). Runs on up to
 * `workers` threads (the caller and workers - 1 more; fewer where the first hidden layer has fewer units or a thread
 * cannot start). Returns an EPOCH_* status. */
static int FN(epoch)(epoch_args *e, const T *X, const T *Y, const int64_t *order, T *theta, T *G, T *s1, T *s2,
                     T *work, int workers) {
    const size_t bytes = (sizeof(FN(shared)) + 63) / 64 * 64;  /* the slots are cache-line aligned */
    FN(shared) *S = aligned_alloc(64, bytes);
    if (S == NULL) return EPOCH_NOMEM;
    memset(S, 0, bytes);
    const Py_ssize_t L = e->layers, B = e->batch, s0 = e->sizes[0], K = e->sizes[L];
    S->e = e; S->X = X; S->Y = Y; S->order = order; S->theta = theta; S->G = G; S->s1 = s1; S->s2 = s2;
    T *bufs = work;
    for (int p = 0; p < 2; p++) { S->Xb[p] = bufs; bufs += B * s0; S->Yb[p] = bufs; bufs += B * K; }
    S->off[0] = 0;
    for (Py_ssize_t l = 0; l < L; l++) {
        S->A[l + 1] = bufs; bufs += e->sizes[l + 1] * B;
        S->Dl[l + 1] = bufs; bufs += e->sizes[l + 1] * B;
        S->off[l + 1] = S->off[l] + e->sizes[l + 1] * (e->sizes[l] + 1);
    }
    /* one hidden layer at least, and a unit of it for every thread */
    int P = L < 2 ? 1 : workers;
    if (P > e->sizes[1]) P = (int)e->sizes[1];
    if (P > MAX_WORKERS) P = MAX_WORKERS;
    if (P < 1) P = 1;
    e->status = EPOCH_OK;
    P = pool_take(P);  /* the threads it gets: the units are split among those */
    S->P = P;
    barrier_init(&S->bar, P);
    /* Split the first hidden layer's units so that every thread has about the same work: thread 0 also carries
     * every layer past the first, counted as the units of Theta^(1) that have as many weights. */
    const Py_ssize_t h = e->sizes[1];
    double extra = 0.0;
    for (Py_ssize_t l = 1; l < L; l++) extra += (double)(e->sizes[l + 1] * (e->sizes[l] + 1)) / (double)(s0 + 1);
    S->u[0] = 0;
    for (int k = 1; k < P; k++) {
        double at = (double)k * ((double)h + extra) / (double)P - extra;
        /* BLAS kernels work in blocks of 4 or 8 columns: a block's width costs less than a ragged one */
        Py_ssize_t cut = h >= 8 * (Py_ssize_t)P ? 4 * (Py_ssize_t)(at / 4.0 + 0.5) : (Py_ssize_t)(at + 0.5);
        if (cut < S->u[k - 1]) cut = S->u[k - 1];
        if (cut > h) cut = h;
        S->u[k] = cut;
    }
    S->u[P] = h;
    /* OWN_X (see 1.): a thread's copy of X and the rows it steps (Theta^(1), G and the rule's one or two arrays)
     * within three quarters of its L2 cache; threads past the second need a buffer more */
    Py_ssize_t widest = 0;
    for (int k = 0; k < P; k++) if (S->u[k + 1] - S->u[k] > widest) widest = S->u[k + 1] - S->u[k];
    const double arrays = e->rule == RULE_ADAM ? 4.0 : 3.0;
    const double kept = ((double)B * (double)s0 + arrays * (double)widest * (double)(s0 + 1)) * (double)sizeof(T);
    S->own_x = P > 1 && kept <= 0.75 * (double)l2_bytes();
    for (int k = 2; k < P && S->own_x; k++) {
        S->Xb[k] = aligned_alloc(64, ((size_t)B * (size_t)s0 * sizeof(T) + 63) / 64 * 64);
        if (S->Xb[k] == NULL) { for (int q = 2; q < k; q++) free(S->Xb[q]); S->own_x = 0; }
    }
    pool_run(FN(task), S, P);
    barrier_destroy(&S->bar);
    for (int k = 2; k < P && S->own_x; k++) free(S->Xb[k]);
    free(S);
    return e->status;
}

#undef FN
