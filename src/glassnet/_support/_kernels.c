/* Fused elementwise steps of a mini-batch run: the same IEEE operations, in the same order, as the NumPy code they
 * replace (glassnet.train.optimize.adam / sgd, glassnet.backprop.finish), one pass over memory instead of one per
 * operation. +, -, *, / and sqrt are correctly rounded in C as in NumPy, and nothing here may be contracted into a
 * fused multiply-add or reassociated (built with -ffp-contract=off, never -ffast-math), so the results are bit for
 * bit those of the NumPy code; tests/test_kernels.py checks that on random arrays of both dtypes.
 *
 * glassnet/_support/fused.py is the only caller. Every function here checks its arrays first (one float dtype, one size,
 * C-contiguous, the written ones writable and apart from the others) and raises ValueError before touching any;
 * _fused then runs the NumPy code, as it does when this module is missing (it is an optional build).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>

/* AVX2 clones where the compiler and the loader support picking one at run time; the plain build elsewhere. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

/* m ← β₁(m − g) + g; v ← β₂(v − g²) + g²; Θ ← Θ − step·m/(√v + ε): optimize.adam's update_, element by element. */
#define ADAM_LOOP(T, SQRT)                                                                                            \
    for (Py_ssize_t i = 0; i < n; i++) {                                                                            \
        T gi = g[i], mi = m[i], vi = v[i], g2 = gi * gi, d;                                                         \
        mi = mi - gi; mi = mi * b1; mi = mi + gi; m[i] = mi;                                                        \
        vi = vi - g2; vi = vi * b2; vi = vi + g2; v[i] = vi;                                                        \
        d = SQRT(vi); d = d + eps; d = mi / d; d = d * step;                                                        \
        th[i] = th[i] - d;                                                                                          \
    }

VECTOR_CLONES static void adam_f64(Py_ssize_t n, double *restrict th, double *restrict m, double *restrict v,
                                   const double *restrict g, double b1, double b2, double eps, double step) {
    ADAM_LOOP(double, sqrt)
}

VECTOR_CLONES static void adam_f32(Py_ssize_t n, float *restrict th, float *restrict m, float *restrict v,
                                   const float *restrict g, float b1, float b2, float eps, float step) {
    ADAM_LOOP(float, sqrtf)
}

/* ηD; v ← μv − ηD; Θ ← Θ − ηD + μv (Nesterov) or Θ ← Θ + v: optimize.sgd's update_, element by element. */
#define SGD_LOOP(T)                                                                                                   \
    for (Py_ssize_t i = 0; i < n; i++) {                                                                            \
        T gi = g[i] * eta, vi = v[i];                                                                               \
        vi = vi * mu; vi = vi - gi; v[i] = vi;                                                                      \
        if (nesterov) { T t = th[i] - gi; th[i] = t + vi * mu; } else { th[i] = th[i] + vi; }                       \
    }

VECTOR_CLONES static void sgd_f64(Py_ssize_t n, double *restrict th, double *restrict v, const double *restrict g,
                                  double eta, double mu, int nesterov) {
    SGD_LOOP(double)
}

VECTOR_CLONES static void sgd_f32(Py_ssize_t n, float *restrict th, float *restrict v, const float *restrict g,
                                  float eta, float mu, int nesterov) {
    SGD_LOOP(float)
}

/* G = Δ/m + c·Θ on columns 1.., G[:, 0] = Δ[:, 0]/m (c = λ/m; regularize = 0: G = Δ/m everywhere): backprop.finish. */
#define FINISH_LOOP(T)                                                                                                \
    for (Py_ssize_t r = 0; r < rows; r++) {                                                                         \
        const T *d = D + r * cols, *t = th + r * cols;                                                              \
        T *o = G + r * cols;                                                                                        \
        o[0] = d[0] / m;                                                                                            \
        if (regularize) { for (Py_ssize_t j = 1; j < cols; j++) o[j] = d[j] / m + c * t[j]; }                       \
        else { for (Py_ssize_t j = 1; j < cols; j++) o[j] = d[j] / m; }                                             \
    }

VECTOR_CLONES static void finish_f64(Py_ssize_t rows, Py_ssize_t cols, double *G, const double *D, const double *th,
                                     double m, double c, int regularize) {
    FINISH_LOOP(double)
}

VECTOR_CLONES static void finish_f32(Py_ssize_t rows, Py_ssize_t cols, float *G, const float *D, const float *th,
                                     float m, float c, int regularize) {
    FINISH_LOOP(float)
}

/* 8 for a native float64 buffer, 4 for float32, 0 for anything else. */
static int float_size(const Py_buffer *b) {
    const char *f = b->format;
    if (f == NULL) return 0;
    if (*f == '@' || *f == '=' || (*f == '<' && PY_LITTLE_ENDIAN) || (*f == '>' && PY_BIG_ENDIAN)) f++;
    if (f[0] == 'd' && f[1] == '\0' && b->itemsize == 8) return 8;
    if (f[0] == 'f' && f[1] == '\0' && b->itemsize == 4) return 4;
    return 0;
}

static int overlap(const Py_buffer *a, const Py_buffer *b) {
    const char *p = a->buf, *q = b->buf;
    return p < q + b->len && q < p + a->len;
}

/* Buffers of objs[0..count-1]: C-contiguous, one float dtype, the same length; the first `writable` ones writable
 * and apart from every other (the loops read and write them through restrict pointers). `same_ok`: buffer 1 may be
 * buffer 0 exactly (finish in place). */
static int get_buffers(PyObject **objs, Py_buffer *bufs, int count, int writable, Py_ssize_t *items, int *size,
                       int same_ok) {
    int got = 0;
    for (int i = 0; i < count; i++) {
        int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (i < writable ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(objs[i], &bufs[i], flags) < 0) goto fail;
        got++;
        int s = float_size(&bufs[i]);
        if (s == 0 || (i > 0 && (s != *size || bufs[i].len != bufs[0].len))) {
            PyErr_SetString(PyExc_ValueError, "expected C-contiguous float32 or float64 arrays of one dtype and size");
            goto fail;
        }
        *size = s;
    }
    for (int i = 0; i < writable; i++) {
        for (int j = i + 1; j < count; j++) {
            if (same_ok && i == 0 && j == 1 && bufs[0].buf == bufs[1].buf) continue;
            if (overlap(&bufs[i], &bufs[j])) {
                PyErr_SetString(PyExc_ValueError, "an array that is written overlaps another one");
                goto fail;
            }
        }
    }
    *items = bufs[0].len / *size;
    return 0;
fail:
    for (int i = 0; i < got; i++) PyBuffer_Release(&bufs[i]);
    return -1;
}

static void release(Py_buffer *bufs, int count) {
    for (int i = 0; i < count; i++) PyBuffer_Release(&bufs[i]);
}

static PyObject *adam(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[4];
    Py_buffer b[4];
    Py_ssize_t n;
    int size = 0;
    double b1, b2, eps, step;
    if (!PyArg_ParseTuple(args, "OOOOdddd:adam", &o[0], &o[1], &o[2], &o[3], &b1, &b2, &eps, &step)) return NULL;
    if (get_buffers(o, b, 4, 3, &n, &size, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (size == 8) adam_f64(n, b[0].buf, b[1].buf, b[2].buf, b[3].buf, b1, b2, eps, step);
    else adam_f32(n, b[0].buf, b[1].buf, b[2].buf, b[3].buf, (float)b1, (float)b2, (float)eps, (float)step);
    Py_END_ALLOW_THREADS
    release(b, 4);
    Py_RETURN_NONE;
}

static PyObject *sgd(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[3];
    Py_buffer b[3];
    Py_ssize_t n;
    int size = 0, nesterov;
    double eta, mu;
    if (!PyArg_ParseTuple(args, "OOOddp:sgd", &o[0], &o[1], &o[2], &eta, &mu, &nesterov)) return NULL;
    if (get_buffers(o, b, 3, 2, &n, &size, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (size == 8) sgd_f64(n, b[0].buf, b[1].buf, b[2].buf, eta, mu, nesterov);
    else sgd_f32(n, b[0].buf, b[1].buf, b[2].buf, (float)eta, (float)mu, nesterov);
    Py_END_ALLOW_THREADS
    release(b, 3);
    Py_RETURN_NONE;
}

static PyObject *finish(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[3];
    Py_buffer b[3];
    Py_ssize_t n, rows, cols;
    int size = 0, regularize;
    double m, c;
    if (!PyArg_ParseTuple(args, "OOOnddp:finish", &o[0], &o[1], &o[2], &rows, &m, &c, &regularize)) return NULL;
    if (get_buffers(o, b, 3, 1, &n, &size, 1) < 0) return NULL;
    if (rows <= 0 || n % rows != 0) {
        release(b, 3);
        PyErr_SetString(PyExc_ValueError, "rows must divide the number of elements");
        return NULL;
    }
    cols = n / rows;
    Py_BEGIN_ALLOW_THREADS
    if (size == 8) finish_f64(rows, cols, b[0].buf, b[1].buf, b[2].buf, m, c, regularize);
    else finish_f32(rows, cols, b[0].buf, b[1].buf, b[2].buf, (float)m, (float)c, regularize);
    Py_END_ALLOW_THREADS
    release(b, 3);
    Py_RETURN_NONE;
}

/* Whether no element is inf or NaN: the exponent bits of every element OR-ed together (all ones = not finite). */
#define FINITE_LOOP(U, EXP)                                                                                           \
    const U *u = buf; U seen = 0;                                                                                   \
    for (Py_ssize_t i = 0; i < n; i++) { U e = u[i] & EXP; seen |= (U)(e == EXP); }                                 \
    return seen == 0;

VECTOR_CLONES static int finite_f64(Py_ssize_t n, const void *buf) { FINITE_LOOP(uint64_t, 0x7ff0000000000000ULL) }

VECTOR_CLONES static int finite_f32(Py_ssize_t n, const void *buf) { FINITE_LOOP(uint32_t, 0x7f800000U) }

static PyObject *all_finite(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer b;
    Py_ssize_t n;
    int size = 0, ok;
    if (get_buffers(&arg, &b, 1, 0, &n, &size, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    ok = size == 8 ? finite_f64(n, b.buf) : finite_f32(n, b.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"adam", adam, METH_VARARGS, "One Adam step in place on flat arrays (theta, m, v; g is read)."},
    {"sgd", sgd, METH_VARARGS, "One SGD/momentum step in place on flat arrays (theta, velocity; g is read)."},
    {"all_finite", all_finite, METH_O, "Whether a float array holds no inf and no NaN."},
    {"finish", finish, METH_VARARGS, "D = Delta/m + (lam/m) theta, bias column 0 not regularized, into G."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_kernels",
    .m_doc = "Fused elementwise steps (an optional build; see glassnet._support.fused).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
