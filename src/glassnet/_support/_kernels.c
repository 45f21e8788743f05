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
#include <string.h>
#include <limits.h>
#include <float.h>

/* AVX-512 and AVX2 clones where the compiler and the loader support picking one at run time; the plain build
 * elsewhere. Every clone computes the same numbers (no contraction, no reassociation: the lanes are written out). The
 * AVX-512 one, measured on a Xeon (two threads, interleaved against the AVX2-only build): the exponentials 30% faster
 * in cache, ex4's J + D 5-6% and MNIST's 2% faster, the Adam epochs 0-2%. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#include "_vexp.h"

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

/* equal_bytes(a, b) -> whether two C-contiguous buffers of one length hold the same bytes (a memcmp: a cached copy
 * of y against y, on every public call that reuses y's targets). */
static PyObject *equal_bytes(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *a, *b;
    Py_buffer x, y;
    if (!PyArg_ParseTuple(args, "OO:equal_bytes", &a, &b)) return NULL;
    if (PyObject_GetBuffer(a, &x, PyBUF_C_CONTIGUOUS) < 0) return NULL;
    if (PyObject_GetBuffer(b, &y, PyBUF_C_CONTIGUOUS) < 0) { PyBuffer_Release(&x); return NULL; }
    int same = x.len == y.len && (x.len == 0 || memcmp(x.buf, y.buf, (size_t)x.len) == 0);
    PyBuffer_Release(&x);
    PyBuffer_Release(&y);
    return PyBool_FromLong(same);
}

/* _vexp.h's functions on whole arrays, in place (for tests/test_kernels.py, which bounds them in ulp): e^x, and
 * log(1 + x) for x in [0, 1]. */
VECTOR_CLONES static void exp_rows_f64(Py_ssize_t n, double *x) { for (Py_ssize_t i = 0; i < n; i++) x[i] = exp_f64(x[i]); }

VECTOR_CLONES static void exp_rows_f32(Py_ssize_t n, float *x) { for (Py_ssize_t i = 0; i < n; i++) x[i] = exp_f32(x[i]); }

VECTOR_CLONES static void log1p_rows_f64(Py_ssize_t n, double *x) {
    for (Py_ssize_t i = 0; i < n; i++) x[i] = log1p_unit_f64(x[i]);
}

VECTOR_CLONES static void log1p_rows_f32(Py_ssize_t n, float *x) {
    for (Py_ssize_t i = 0; i < n; i++) x[i] = log1p_unit_f32(x[i]);
}

static PyObject *in_place(PyObject *arg, void (*f64)(Py_ssize_t, double *), void (*f32)(Py_ssize_t, float *)) {
    Py_buffer b;
    Py_ssize_t n;
    int size = 0;
    if (get_buffers(&arg, &b, 1, 1, &n, &size, 0) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (size == 8) f64(n, b.buf);
    else f32(n, b.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    Py_RETURN_NONE;
}

static PyObject *exp_(PyObject *self, PyObject *arg) { (void)self; return in_place(arg, exp_rows_f64, exp_rows_f32); }

static PyObject *log1p_unit(PyObject *self, PyObject *arg) {
    (void)self;
    return in_place(arg, log1p_rows_f64, log1p_rows_f32);
}

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

/* ---------------------------------------------------------------------------------------------------------------
 * The compiled mini-batch epoch (see _epoch.h). Its matrix products call the Fortran BLAS whose GEMM pointers
 * set_blas received once (SciPy's scipy.linalg.cython_blas capsules: how plain C reaches the BLAS SciPy ships, with
 * nothing linked at build time); without them, epoch() refuses and the NumPy loop runs.
 * ------------------------------------------------------------------------------------------------------------- */

#define MAX_LAYERS 64
#define MAX_WORKERS 64
#define WIDE 64  /* examples per thread from which the epoch's later layers are split by examples */


#define EXP_CHUNK 256  /* examples per pass of the output layer's vectorized exponentials (a stack buffer) */
#define SOLO_CHECK_AFTER 16  /* batches an epoch's threads run before they may give up on sharing it (see _epoch.h) */
enum { ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_IDENTITY };
enum { PAIR_SIGMOID_LOG, PAIR_SOFTMAX_LOG, PAIR_SIGMOID_SQUARED, PAIR_IDENTITY_SQUARED };
enum { RULE_SGD, RULE_ADAM };
enum { EPOCH_OK, EPOCH_DIVERGED, EPOCH_STOPPED, EPOCH_ERROR, EPOCH_NOMEM, EPOCH_NOT_FINITE };

/* The epoch's own threads (POSIX): a sense-reversing barrier they meet at three times per batch. Every thread runs
 * single-threaded BLAS on its own rows, so the caller limits the BLAS to one thread around the call. */
#if defined(__unix__) || defined(__APPLE__)
#define EPOCH_THREADS 1
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* A barrier waiter spins this long before it sleeps: long enough for a partner that is running to arrive (a batch's
 * step takes tens to hundreds of microseconds), short enough that a partner waiting for a core (more threads than
 * cores: several fits at once) gets it soon: spinning and yielding there made a fit 12x slower. */
#define SPIN_NS 200000

typedef struct {
    atomic_int count, sense, sleepers;
    int P;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} spin_barrier;

static void barrier_init(spin_barrier *b, int P) {
    atomic_store(&b->count, 0);
    atomic_store(&b->sense, 0);
    atomic_store(&b->sleepers, 0);
    b->P = P;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void barrier_destroy(spin_barrier *b) {
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

/* Bytes of one core's L2 cache, 0 where the system does not say (then the epoch shares its gathered rows). */
static long l2_bytes(void) {
#ifdef _SC_LEVEL2_CACHE_SIZE
    long b = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return b > 0 ? b : 0;
#else
    return 0;
#endif
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long elapsed_ns(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)(t.tv_sec - t0->tv_sec) * 1000000000LL + (t.tv_nsec - t0->tv_nsec);
}

/* Spin (pausing) until *flag differs from `from`, for up to ns nanoseconds; whether it did. */
static int spin_until_changed(atomic_int *flag, int from, long long ns) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int spins = 1; atomic_load(flag) == from; spins++) {
        spin_pause();
        if ((spins & 63) == 0 && elapsed_ns(&t0) > ns) return atomic_load(flag) != from;
    }
    return 1;
}

/* Sense-reversing: the last thread to arrive flips the sense and wakes the sleepers, if any. The others spin on the
 * sense for up to SPIN_NS, then sleep on the condition variable. No lost wake-up: a sleeper counts itself before it
 * looks at the sense (under the mutex), and the last thread flips the sense before it looks at the count. */
static void barrier_wait(spin_barrier *b, int *local) {
    if (b->P == 1) return;
    int s = *local = !*local;
    if (atomic_fetch_add(&b->count, 1) == b->P - 1) {
        atomic_store(&b->count, 0);
        atomic_store(&b->sense, s);
        if (atomic_load(&b->sleepers) > 0) {
            pthread_mutex_lock(&b->mu);
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
        }
        return;
    }
    if (spin_until_changed(&b->sense, !s, SPIN_NS)) return;  /* the sense is 0 or 1: changed from !s is s */
    pthread_mutex_lock(&b->mu);
    atomic_fetch_add(&b->sleepers, 1);
    while (atomic_load(&b->sense) != s) pthread_cond_wait(&b->cv, &b->mu);
    atomic_fetch_sub(&b->sleepers, 1);
    pthread_mutex_unlock(&b->mu);
}

/* The kernels' worker threads: started once, on the first call that wants them, and kept. A call hands tasks
 * 1 .. P-1 to as many of them and runs task 0 itself. Between calls an idle worker spins for POOL_IDLE_NS before it
 * sleeps, so that the calls of an optimizer's loop, which come back to back, find it awake: waking a sleeping thread
 * (a futex; on a virtual machine the host has to wake the vCPU too) took 0.1-0.15 ms here, 4-8% of a 400-25-10
 * J + D on 5000 rows, when the workers were Python's own pool. One call at a time: a second caller that finds the
 * pool taken (two Python threads, each in a fit) runs its tasks on its own thread. */
#define POOL_IDLE_NS 1000000

typedef void (*pool_task)(void *arg, int k);

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_int generation;       /* bumped by every call that hands out tasks (wraps around: C11 atomics) */
    atomic_int pending;          /* tasks handed out and not yet finished */
    atomic_int sleepers, waiting;
    atomic_int taken;            /* a call holds the pool */
    atomic_int working;          /* workers inside a task now (pool_status) */
    pool_task fn;                /* this call's tasks: fn(arg, k) for k = 1 .. P-1, written before generation */
    void *arg;
    int P, started;              /* started: workers running (task numbers 1 .. started) */
    int born;                    /* the generation when the newest worker was started: its first call is the next */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static void *pool_worker(void *arg) {
    const int k = (int)(intptr_t)arg;
    int seen = pool.born;  /* not the generation now: the call that started it may have bumped it already */
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "glassnet-pool");  /* as top -H and /proc/<pid>/task/<tid>/comm show it */
#endif
    for (;;) {
        if (!spin_until_changed(&pool.generation, seen, POOL_IDLE_NS)) {
            pthread_mutex_lock(&pool.mu);  /* no lost wake-up: counted as a sleeper before it looks again */
            atomic_fetch_add(&pool.sleepers, 1);
            while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.mu);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = atomic_load(&pool.generation);
        if (k >= pool.P) continue;  /* this call wants fewer workers */
        atomic_fetch_add(&pool.working, 1);
        pool.fn(pool.arg, k);
        atomic_fetch_sub(&pool.working, 1);
        if (atomic_fetch_sub(&pool.pending, 1) == 1 && atomic_load(&pool.waiting) > 0) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_broadcast(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

/* The BLAS libraries handed over for their thread limit (see blas_limit_enter below). */
#define MAX_BLAS_LIBS 8
typedef int (*blas_get_fn)(void);
typedef void (*blas_set_fn)(int);
static struct {
    pthread_mutex_t mu;
    int libs, users;
    blas_get_fn get[MAX_BLAS_LIBS];
    blas_set_fn set[MAX_BLAS_LIBS];
    int saved[MAX_BLAS_LIBS];
} blas_limit = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* A forked child has only the thread that forked: it starts with no workers and the pool free. */
static void pool_after_fork(void) {
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    atomic_store(&pool.pending, 0);
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.waiting, 0);
    atomic_store(&pool.taken, 0);
    atomic_store(&pool.working, 0);
    pool.started = 0;
    pthread_mutex_init(&blas_limit.mu, NULL);  /* the child's only thread holds no limit */
    blas_limit.users = 0;
}

static void pool_register_fork(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;  /* the child's reset, registered once by whichever comes first */

/* Take the pool for up to `want` threads in all (the caller's included): how many this call may use (1: run alone,
 * the pool is taken or no worker could start). Every call that got more than 1 must end with pool_run. */
static int pool_take(int want) {
    if (want <= 1 || atomic_exchange(&pool.taken, 1)) return 1;
    if (want > MAX_WORKERS) want = MAX_WORKERS;
    pthread_once(&fork_once, pool_register_fork);
    pool.born = atomic_load(&pool.generation);
    while (pool.started < want - 1) {
        pthread_t tid;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&tid, &attr, pool_worker, (void *)(intptr_t)(pool.started + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.started++;
    }
    int P = pool.started + 1 < want ? pool.started + 1 : want;
    if (P == 1) atomic_store(&pool.taken, 0);
    return P;
}

/* Run fn(arg, k) for k = 0 .. P-1, task 0 on the calling thread, and return when all have finished; P from
 * pool_take (P == 1: just fn(arg, 0)). Frees the pool. */
static void pool_run(pool_task fn, void *arg, int P) {
    if (P <= 1) { fn(arg, 0); return; }
    pool.fn = fn; pool.arg = arg; pool.P = P;
    atomic_store(&pool.pending, P - 1);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.mu);
    }
    fn(arg, 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int spins = 1; atomic_load(&pool.pending) > 0; spins++) {
        spin_pause();
        if ((spins & 63) == 0 && elapsed_ns(&t0) > SPIN_NS) break;
    }
    if (atomic_load(&pool.pending) > 0) {
        pthread_mutex_lock(&pool.mu);
        atomic_fetch_add(&pool.waiting, 1);
        while (atomic_load(&pool.pending) > 0) pthread_cond_wait(&pool.done, &pool.mu);
        atomic_fetch_sub(&pool.waiting, 1);
        pthread_mutex_unlock(&pool.mu);
    }
    atomic_store(&pool.taken, 0);
}

/* The BLAS libraries' thread limit, set from here: while lanes run side by side, each calling the BLAS, every
 * library must run one thread. The libraries' own functions (OpenBLAS's openblas_get_num_threads and
 * openblas_set_num_threads, found by glassnet._support.threads and handed over as addresses by set_blas_threads),
 * and one count of callers: the first saves each library's count and sets it to 1, the last puts them back. The
 * Python version of the same (threadpoolctl's setters under a lock, in a context manager) cost 50 us per call on the
 * course's ex4 size, run just after the compiled call had filled the caches: 3% of the call. */

/* One more caller that wants the BLAS at one thread: returns what the libraries allowed before it (their smallest
 * count; 1 while another caller holds the limit), or 0 where no library was handed over (nothing done: the caller
 * must not call blas_limit_exit). */
static int blas_limit_enter(void) {
    int allowed = 0;
    pthread_mutex_lock(&blas_limit.mu);
    if (blas_limit.libs > 0) {
        allowed = 1;
        if (blas_limit.users++ == 0) {
            allowed = INT_MAX;
            for (int i = 0; i < blas_limit.libs; i++) {
                int n = blas_limit.saved[i] = blas_limit.get[i]();
                if (n < allowed) allowed = n;
                if (n != 1) blas_limit.set[i](1);
            }
            if (allowed < 1) allowed = 1;
        }
    }
    pthread_mutex_unlock(&blas_limit.mu);
    return allowed;
}

static void blas_limit_exit(void) {
    pthread_mutex_lock(&blas_limit.mu);
    if (--blas_limit.users == 0)
        for (int i = 0; i < blas_limit.libs; i++)
            if (blas_limit.saved[i] != 1) blas_limit.set[i](blas_limit.saved[i]);
    pthread_mutex_unlock(&blas_limit.mu);
}

/* The libraries' smallest thread count now (what a call may share out), 0 where none was handed over. */
static int blas_limit_threads(void) {
    int allowed = 0;
    pthread_mutex_lock(&blas_limit.mu);
    for (int i = 0; i < blas_limit.libs; i++) {
        int n = blas_limit.get[i]();
        if (i == 0 || n < allowed) allowed = n;
    }
    pthread_mutex_unlock(&blas_limit.mu);
    return blas_limit.libs > 0 && allowed < 1 ? 1 : allowed;
}

/* Hand over the libraries: (get, set) address pairs; refused (0) while a caller holds the limit. */
static int blas_limit_register(int libs, blas_get_fn *get, blas_set_fn *set) {
    pthread_once(&fork_once, pool_register_fork);
    pthread_mutex_lock(&blas_limit.mu);
    int ok = blas_limit.users == 0;
    if (ok) {
        for (int i = 0; i < libs; i++) { blas_limit.get[i] = get[i]; blas_limit.set[i] = set[i]; }
        blas_limit.libs = libs;
    }
    pthread_mutex_unlock(&blas_limit.mu);
    return ok;
}
#else
#define EPOCH_THREADS 0
#define MAX_BLAS_LIBS 8
typedef int (*blas_get_fn)(void);
typedef void (*blas_set_fn)(int);
static int blas_limit_enter(void) { return 0; }  /* no threads: nothing to limit */
static void blas_limit_exit(void) {}
static int blas_limit_threads(void) { return 0; }
static int blas_limit_register(int libs, blas_get_fn *get, blas_set_fn *set) { (void)libs; (void)get; (void)set; return 0; }
typedef struct { int P; } spin_barrier;
static void barrier_init(spin_barrier *b, int P) { b->P = P; }
static void barrier_destroy(spin_barrier *b) { (void)b; }
static long long now_ns(void) { return 0; }  /* one thread only: nothing to time */
static long l2_bytes(void) { return 0; }
static void barrier_wait(spin_barrier *b, int *local) { (void)b; (void)local; }
typedef void (*pool_task)(void *arg, int k);
static int pool_take(int want) { (void)want; return 1; }
static void pool_run(pool_task fn, void *arg, int P) { (void)P; fn(arg, 0); }
#endif

typedef void (*dgemm_fn)(const char *, const char *, const int *, const int *, const int *, const double *,
                         const double *, const int *, const double *, const int *, const double *, double *,
                         const int *);
typedef void (*sgemm_fn)(const char *, const char *, const int *, const int *, const int *, const float *,
                         const float *, const int *, const float *, const int *, const float *, float *, const int *);
static void *blas_dgemm = NULL, *blas_sgemm = NULL;

typedef struct {
    void *gemm;
    Py_ssize_t layers, M, batch, sizes[MAX_LAYERS + 1];
    int act, pair, rule, nesterov;
    int check;                      /* look at every gathered row of X for NaN and inf (EPOCH_NOT_FINITE) */
    double lam, eta, mu, beta_1, beta_2, epsilon;
    long long t;                    /* Adam's step count, carried on */
    PyObject *should_stop;          /* polled before every batch (None: never) */
    PyThreadState *tstate;          /* the GIL is released between polls */
    double total, bad_J;            /* Sigma_batches J_b |b|; the cost of the batch that diverged */
    long long batches, bad_batch;
    int status;                     /* EPOCH_* */
} epoch_args;

#define T double
#define SFX _f64
#define FINITE finite_f64
#define GEMM_T dgemm_fn
#define VEXP exp_f64
#define LOG log
#define VLOG1P log1p_unit_f64
#define TANH tanh
#define SQRT sqrt
#include "_epoch.h"
#undef T
#undef SFX
#undef FINITE
#undef GEMM_T
#undef VEXP
#undef LOG
#undef VLOG1P
#undef TANH
#undef SQRT

#define T float
#define SFX _f32
#define FINITE finite_f32
#define GEMM_T sgemm_fn
#define VEXP exp_f32
#define LOG logf
#define VLOG1P log1p_unit_f32
#define TANH tanhf
#define SQRT sqrtf
#include "_epoch.h"

static void *capsule_pointer(PyObject *cap) {
    if (!PyCapsule_CheckExact(cap)) {
        PyErr_SetString(PyExc_TypeError, "set_blas: expected PyCapsule objects (scipy.linalg.cython_blas.__pyx_capi__)");
        return NULL;
    }
    return PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));
}

static PyObject *set_blas(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *d, *s;
    if (!PyArg_ParseTuple(args, "OO:set_blas", &d, &s)) return NULL;
    void *pd = capsule_pointer(d), *ps = pd ? capsule_pointer(s) : NULL;
    if (pd == NULL || ps == NULL) return NULL;
    blas_dgemm = pd;
    blas_sgemm = ps;
    Py_RETURN_NONE;
}

static int int_buffer(PyObject *obj, Py_buffer *b, Py_ssize_t count) {
    if (PyObject_GetBuffer(obj, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *f = b->format ? b->format : "";
    if (*f == '@' || *f == '=' || *f == '<') f++;
    if (b->itemsize != 8 || !((f[0] == 'q' || f[0] == 'l') && f[1] == '\0') || b->len != count * 8) {
        PyBuffer_Release(b);
        PyErr_SetString(PyExc_ValueError, "order: expected a C-contiguous int64 array of M row numbers");
        return -1;
    }
    return 0;
}

/* The layer sizes [s_1, ..., s_L] into e->sizes and e->layers (L - 1): 2 to 65 sizes in 1 .. 2^30 (a 32-bit BLAS's
 * dimensions), ValueError otherwise. */
static int parse_sizes(PyObject *sizes, epoch_args *e) {
    PyObject *seq = PySequence_Fast(sizes, "sizes: expected a sequence of ints");
    if (seq == NULL) return -1;
    Py_ssize_t ns = PySequence_Fast_GET_SIZE(seq);
    if (ns < 2 || ns > MAX_LAYERS + 1) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "sizes: expected 2 to 65 layer sizes");
        return -1;
    }
    e->layers = ns - 1;
    for (Py_ssize_t i = 0; i < ns; i++) {
        e->sizes[i] = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(seq, i));
        if (e->sizes[i] == -1 && PyErr_Occurred()) { Py_DECREF(seq); return -1; }
        if (e->sizes[i] < 1 || e->sizes[i] >= INT_MAX / 2) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "sizes: expected layer sizes in 1 .. 2^30");
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* epoch(X, Y, order, theta, G, s1, s2, sizes, batch, act, pair, lam, rule, params, t, should_stop, workers[, check])
 * -> (status, total, batches, t, bad_batch, bad_J). params: (eta, beta_1, beta_2, epsilon) for Adam,
 * (eta, mu, nesterov) for SGD; s2 is None for SGD; workers: threads at most (>= 1); check: stop with
 * EPOCH_NOT_FINITE before the first batch that gathered a row of X holding NaN or inf. ValueError (nothing touched)
 * for arrays it cannot take. */
static PyObject *epoch(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[7], *sizes, *params, *should_stop;
    Py_ssize_t batch;
    int act, pair, rule, workers, check = 0;
    double lam;
    long long t;
    if (!PyArg_ParseTuple(args, "OOOOOOOOniidiOLOi|p:epoch", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &sizes,
                          &batch, &act, &pair, &lam, &rule, &params, &t, &should_stop, &workers, &check)) return NULL;
    epoch_args e;
    memset(&e, 0, sizeof e);
    e.check = check;
    e.act = act; e.pair = pair; e.rule = rule; e.lam = lam; e.t = t; e.batch = batch;
    e.should_stop = should_stop == Py_None ? NULL : should_stop;
    if (act < 0 || act > ACT_IDENTITY || pair < 0 || pair > PAIR_IDENTITY_SQUARED || (rule != RULE_SGD && rule !=
        RULE_ADAM) || batch < 1 || workers < 1) {
        PyErr_SetString(PyExc_ValueError,
                        "epoch: unknown activation, output/loss pair or rule, or batch < 1, or workers < 1");
        return NULL;
    }
    if (rule == RULE_ADAM) {
        if (!PyArg_ParseTuple(params, "dddd:adam params", &e.eta, &e.beta_1, &e.beta_2, &e.epsilon)) return NULL;
    } else if (!PyArg_ParseTuple(params, "ddp:sgd params", &e.eta, &e.mu, &e.nesterov)) return NULL;
    if (parse_sizes(sizes, &e) < 0) return NULL;
    const Py_ssize_t ns = e.layers + 1;
    Py_ssize_t weights = 0;
    for (Py_ssize_t i = 1; i < ns; i++) weights += e.sizes[i] * (e.sizes[i - 1] + 1);
    if (batch >= INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "batch: too many rows for a 32-bit BLAS");
        return NULL;
    }
    /* the float buffers: X, Y, theta, G, s1 and (Adam) s2 */
    Py_buffer b[7];
    int got[7] = {0}, size = 0, ok = 0;
    Py_buffer order;
    int have_order = 0;
    int count = rule == RULE_ADAM ? 7 : 6;
    for (int i = 0; i < count; i++) {
        if (i == 2) continue;
        int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (i >= 3 ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(o[i], &b[i], flags) < 0) goto done;
        got[i] = 1;
        int s = float_size(&b[i]);
        if (s == 0 || (size && s != size)) {
            PyErr_SetString(PyExc_ValueError, "expected C-contiguous float32 or float64 arrays of one dtype");
            goto done;
        }
        size = s;
    }
    Py_ssize_t M = b[0].len / size / e.sizes[0];
    e.M = M;
    if (M < 1 || b[0].len != M * e.sizes[0] * size || b[1].len != M * e.sizes[e.layers] * size) {
        PyErr_SetString(PyExc_ValueError, "X, Y: expected (M, s_1) and (M, K) arrays");
        goto done;
    }
    for (int i = 3; i < count; i++) {
        if (b[i].len != weights * size) {
            PyErr_SetString(PyExc_ValueError, "theta, G, state: expected flat arrays of every weight");
            goto done;
        }
        for (int j = 0; j < count; j++) {
            if (j != 2 && j != i && overlap(&b[i], &b[j])) {
                PyErr_SetString(PyExc_ValueError, "an array that is written overlaps another one");
                goto done;
            }
        }
    }
    if (int_buffer(o[2], &order, M) < 0) goto done;
    have_order = 1;
    const int64_t *ord = order.buf;
    for (Py_ssize_t i = 0; i < M; i++) {
        if (ord[i] < 0 || ord[i] >= M) {
            PyErr_SetString(PyExc_ValueError, "order: row numbers must be in 0 .. M-1");
            goto done;
        }
    }
    e.gemm = size == 8 ? blas_dgemm : blas_sgemm;
    if (e.gemm == NULL) {
        PyErr_SetString(PyExc_ValueError, "epoch: no BLAS set (set_blas was not called)");
        goto done;
    }
    Py_ssize_t B = batch < M ? batch : M, units = 0;
    for (Py_ssize_t l = 1; l < ns; l++) units += 2 * e.sizes[l];
    e.batch = B;
    /* two buffers of the batch's rows and targets (threads gather the next while others read this one), then a and
     * delta of every layer */
    void *work = PyMem_RawMalloc((size_t)(B * (2 * (e.sizes[0] + e.sizes[e.layers]) + units)) * (size_t)size);
    if (work == NULL) { PyErr_NoMemory(); goto done; }
    int status;
    e.tstate = PyEval_SaveThread();
    if (size == 8)
        status = epoch_f64(&e, b[0].buf, b[1].buf, ord, b[3].buf, b[4].buf, b[5].buf,
                           rule == RULE_ADAM ? b[6].buf : NULL, work, workers);
    else
        status = epoch_f32(&e, b[0].buf, b[1].buf, ord, b[3].buf, b[4].buf, b[5].buf,
                           rule == RULE_ADAM ? b[6].buf : NULL, work, workers);
    PyEval_RestoreThread(e.tstate);
    PyMem_RawFree(work);
    if (status == EPOCH_NOMEM) { PyErr_NoMemory(); goto done; }
    if (status == EPOCH_ERROR) goto done;
    ok = 1;
    PyObject *result = Py_BuildValue("(idLLLd)", status, e.total, e.batches, e.t, e.bad_batch, e.bad_J);
    for (int i = 0; i < count; i++) if (got[i]) PyBuffer_Release(&b[i]);
    PyBuffer_Release(&order);
    return result;
done:
    (void)ok;
    for (int i = 0; i < count; i++) if (got[i]) PyBuffer_Release(&b[i]);
    if (have_order) PyBuffer_Release(&order);
    return NULL;
}

/* A full-batch call's lanes: lane w sums rows lo[w] .. lo[w+1]-1 of X with its own buffers (pointer lists indexed
 * as FN(sums) takes them: thetas and Delta by l, A and Dl by l + 1). */
typedef struct {
    epoch_args e;                   /* e.M: this lane's rows */
    Py_ssize_t lo;                  /* its first row */
    void *ptr[3][MAX_LAYERS + 1];   /* its A, Dl, Delta */
    double J;
} sums_lane;

typedef struct {
    const char *X, *Y;
    char *Z;                        /* predictions (NULL: the sums): z^(L) rows, (M, K) */
    size_t x_row, y_row;            /* bytes of a row of X and of Y (and of Z) */
    void *theta[MAX_LAYERS + 1];
    void *wt;                       /* Theta^(1)[:, 1:] transposed, shared by the lanes (see first_layer) */
    sums_lane *lane;
    int lanes, threads, size;
} sums_job;

/* Thread t's lanes: t, t + threads, ... (one each where the pool gave a thread per lane). */
static void sums_task(void *arg, int t) {
    sums_job *j = arg;
    for (int w = t; w < j->lanes; w += j->threads) {
        sums_lane *n = &j->lane[w];
        const char *x = j->X + (size_t)n->lo * j->x_row, *y = j->Y + (size_t)n->lo * j->y_row;
        char *z = j->Z == NULL ? NULL : j->Z + (size_t)n->lo * j->y_row;
        if (j->size == 8)
            n->J = sums_f64(&n->e, (const double *)x, (const double *)y, (double *)z, (double *const *)j->theta,
                            j->wt, (double *const *)n->ptr[0], (double *const *)n->ptr[1], (double *const *)n->ptr[2]);
        else
            n->J = sums_f32(&n->e, (const float *)x, (const float *)y, (float *)z, (float *const *)j->theta,
                            j->wt, (float *const *)n->ptr[0], (float *const *)n->ptr[1], (float *const *)n->ptr[2]);
    }
}

/* Delta of lanes 1.. added into lane 0's, lane by lane in order (the order of the workspace's NumPy reduction). */
static void sums_reduce(sums_job *j) {
    const epoch_args *e = &j->lane[0].e;
    for (int w = 1; w < j->lanes; w++)
        for (Py_ssize_t l = 0; l < e->layers; l++) {
            Py_ssize_t n = e->sizes[l + 1] * (e->sizes[l] + 1);
            if (j->size == 8) {
                double *D = j->lane[0].ptr[2][l]; const double *Dw = j->lane[w].ptr[2][l];
                for (Py_ssize_t i = 0; i < n; i++) D[i] += Dw[i];
            } else {
                float *D = j->lane[0].ptr[2][l]; const float *Dw = j->lane[w].ptr[2][l];
                for (Py_ssize_t i = 0; i < n; i++) D[i] += Dw[i];
            }
        }
}

/* sums(X, Y, thetas, lanes, sizes, rows, act, pair[, rows_form, limit, out, lam, predict]) -> Sigma cost over the
 * rows of X (out: (that, Sigma Theta[:, 1:]^2 over every layer, 0 where lam is 0), with D in out; predict: the forward
 * pass alone, z^(L) written into Y's rows, returning whether every z^(2) was finite). lanes: a list
 * of k >= 1 (A, Dl, Delta) triples of lists of L arrays; lane w takes rows M*w//k .. M*(w+1)//k - 1 (each at least
 * one) in chunks of `rows`, on a thread of its own where the kernels' pool has one (else lanes share threads), and
 * writes Sigma_t delta [1, a]^T over them into its Delta; lane 0's Delta then holds the sum over every lane. A and
 * Dl: a^(l+1) (z^(L)) and delta^(l+1) buffers of s_{l+1} * rows items at least. Every array C-contiguous, one float
 * dtype; ValueError (nothing touched) otherwise. rows_form: ask the first layer's product as a product of rows (see
 * first_layer; glassnet._fast.workspace.first_layer_as_rows decides), Theta^(1) transposed into the array given there
 * (True: into memory of its own). The GIL is released while it runs. Where k > 1
 * the BLAS must run one thread: limit asks this call to see to it (blas_limit_enter, with the libraries handed over
 * by set_blas_threads); otherwise the caller limits it. */
static PyObject *sums(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *X, *Y, *thetas, *lanes, *sizes, *out = Py_None, *form = Py_False;
    Py_ssize_t rows;
    int act, pair, limit = 0, limited = 0, predict = 0;
    double lam = 0.0, squares = 0.0;
    void *own_wt = NULL;
    if (!PyArg_ParseTuple(args, "OOOOOnii|OpOdp:sums", &X, &Y, &thetas, &lanes, &sizes, &rows, &act, &pair, &form,
                          &limit, &out, &lam, &predict))
        return NULL;
    const int finishing = out != Py_None;
    if (finishing && predict) {
        PyErr_SetString(PyExc_ValueError, "sums: predictions have no D to finish");
        return NULL;
    }
    /* rows_form: False or None (the dot form), True (Theta^(1) transposed into memory of its own), or an array of at
     * least s_1 * s_2 items to transpose it into (a workspace's: nothing allocated per call) */
    const int wt_given = form != Py_None && !PyBool_Check(form), rows_form = wt_given || form == Py_True;
    if (finishing && !(lam >= 0.0 && lam <= DBL_MAX)) {
        PyErr_SetString(PyExc_ValueError, "sums: lam must be a finite number >= 0");
        return NULL;
    }
    if (act < 0 || act > ACT_IDENTITY || pair < 0 || pair > PAIR_IDENTITY_SQUARED || rows < 1 || rows >= INT_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "sums: unknown activation or output/loss pair, or rows out of range");
        return NULL;
    }
    if (!PyList_Check(lanes) || PyList_GET_SIZE(lanes) < 1 || PyList_GET_SIZE(lanes) > MAX_WORKERS) {
        PyErr_SetString(PyExc_ValueError, "sums: lanes must be a list of 1 to 64 (A, Dl, Delta) triples");
        return NULL;
    }
    const int k = (int)PyList_GET_SIZE(lanes);
    sums_job job = {0}, *j = &job;
    j->lanes = k;
    j->lane = PyMem_Calloc((size_t)k, sizeof *j->lane);
    if (j->lane == NULL) return PyErr_NoMemory();
    epoch_args *e = &j->lane[0].e;
    e->act = act; e->pair = pair; e->batch = rows;
    Py_ssize_t L = 0, count = 0;
    int got = 0, size = 0;
    double J = 0.0;
    PyObject **objs = NULL;
    Py_buffer *b = NULL;
    if (parse_sizes(sizes, e) < 0) goto done;
    L = e->layers;
    /* buffers: X, Y, the L thetas, then per lane A, Dl and Delta (L arrays each), then out's L arrays */
    objs = PyMem_Malloc(sizeof *objs * (size_t)(2 + L + 3 * L * k + L + 1));
    b = PyMem_Malloc(sizeof *b * (size_t)(2 + L + 3 * L * k + L + 1));
    if (objs == NULL || b == NULL) { PyErr_NoMemory(); goto done; }
    objs[count++] = X; objs[count++] = Y;
    PyObject *lists[2 + 3 * MAX_WORKERS];
    lists[0] = thetas;
    for (int w = 0; w < k; w++) {
        PyObject *lane = PyList_GET_ITEM(lanes, w);
        if (!PyTuple_Check(lane) || PyTuple_GET_SIZE(lane) != 3) {
            PyErr_SetString(PyExc_ValueError, "sums: every lane must be an (A, Dl, Delta) tuple");
            goto done;
        }
        for (int q = 0; q < 3; q++) lists[1 + 3 * w + q] = PyTuple_GET_ITEM(lane, q);
    }
    /* out may be lane 0's own Delta list (the very object): D is then finished in place, over the sums */
    const int in_place = finishing && out == PyTuple_GET_ITEM(PyList_GET_ITEM(lanes, 0), 2);
    if (finishing && !in_place) lists[1 + 3 * k] = out;
    for (int q = 0; q < 1 + 3 * k + (finishing && !in_place); q++) {
        if (!PyList_Check(lists[q]) || PyList_GET_SIZE(lists[q]) != L) {
            PyErr_SetString(PyExc_ValueError, "sums: thetas, A, Dl, Delta and out must be lists of one array per layer");
            goto done;
        }
        for (Py_ssize_t l = 0; l < L; l++) objs[count++] = PyList_GET_ITEM(lists[q], l);
    }
    if (wt_given) objs[count++] = form;  /* last: written */
    for (Py_ssize_t i = 0; i < count; i++) {
        int writable = i >= 2 + L || (predict && i == 1);  /* A, Dl, Delta, out (predictions: Y) are written */
        if (PyObject_GetBuffer(objs[i], &b[i], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
            goto done;
        got++;
        int s = float_size(&b[i]);
        if (s == 0 || (size && s != size)) {
            PyErr_SetString(PyExc_ValueError, "expected C-contiguous float32 or float64 arrays of one dtype");
            goto done;
        }
        size = s;
    }
    const Py_ssize_t M = b[0].len / size / e->sizes[0];
    if (M < k || M >= INT_MAX / 2 || b[0].len != M * e->sizes[0] * size || b[1].len != M * e->sizes[L] * size) {
        PyErr_SetString(PyExc_ValueError, "X, Y: expected (M, s_1) and (M, K) arrays with a row at least per lane");
        goto done;
    }
    for (Py_ssize_t l = 0; l < L; l++) {
        Py_ssize_t weights = e->sizes[l + 1] * (e->sizes[l] + 1) * size, unit_rows = e->sizes[l + 1] * rows * size;
        if (b[2 + l].len != weights) goto wrong_size;
        for (int w = 0; w < k; w++) {
            const Py_buffer *lane = b + 2 + L + 3 * L * w;
            if (lane[l].len < unit_rows || lane[L + l].len < unit_rows || lane[2 * L + l].len != weights)
                goto wrong_size;
        }
        if (finishing && !in_place && b[2 + L + 3 * L * k + l].len != weights) goto wrong_size;
    }
    if (wt_given && b[count - 1].len < e->sizes[0] * e->sizes[1] * size) goto wrong_size;
    for (Py_ssize_t i = predict ? 1 : 2 + L; i < count; i++)  /* written arrays apart from every other */
        for (Py_ssize_t q = 0; q < count; q++)
            if (q != i && overlap(&b[i], &b[q])) {
                PyErr_SetString(PyExc_ValueError, "an array that is written overlaps another one");
                goto done;
            }
    e->gemm = size == 8 ? blas_dgemm : blas_sgemm;
    if (e->gemm == NULL) {
        PyErr_SetString(PyExc_ValueError, "sums: no BLAS set (set_blas was not called)");
        goto done;
    }
    j->X = b[0].buf; j->Y = b[1].buf; j->size = size;
    if (predict) j->Z = b[1].buf;
    j->x_row = (size_t)(e->sizes[0] * size); j->y_row = (size_t)(e->sizes[L] * size);
    for (Py_ssize_t l = 0; l < L; l++) j->theta[l] = b[2 + l].buf;
    for (int w = 0; w < k; w++) {
        const Py_buffer *lane = b + 2 + L + 3 * L * w;
        for (Py_ssize_t l = 0; l < L; l++) {
            j->lane[w].ptr[0][l + 1] = lane[l].buf;
            j->lane[w].ptr[1][l + 1] = lane[L + l].buf;
            j->lane[w].ptr[2][l] = lane[2 * L + l].buf;
        }
        if (w > 0) j->lane[w].e = *e;
        j->lane[w].lo = M * w / k;
        j->lane[w].e.M = M * (w + 1) / k - M * w / k;
    }
    const Py_ssize_t r1 = e->sizes[1], s0 = e->sizes[0];
    if (wt_given) j->wt = b[count - 1].buf;
    else if (rows_form) {
        j->wt = own_wt = PyMem_RawMalloc((size_t)(r1 * s0 * size));
        if (j->wt == NULL) { PyErr_NoMemory(); goto done; }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; j->wt != NULL && i < s0; i++)  /* wt[i, q] = Theta^(1)[q, 1 + i] */
        for (Py_ssize_t q = 0; q < r1; q++) {
            if (size == 8) ((double *)j->wt)[i * r1 + q] = ((const double *)j->theta[0])[q * (s0 + 1) + 1 + i];
            else ((float *)j->wt)[i * r1 + q] = ((const float *)j->theta[0])[q * (s0 + 1) + 1 + i];
        }
    int P = k;
    if (limit && k > 1) {  /* the lanes side by side: the BLAS at one thread while they run */
        int allowed = blas_limit_enter();
        limited = allowed > 0;
        if (limited && allowed < P) P = allowed;  /* the limit fell since the caller looked: fewer threads */
    }
    j->threads = pool_take(P);
    pool_run(sums_task, j, j->threads);
    if (limited) blas_limit_exit();
    if (!predict) sums_reduce(j);
    /* out: D = Delta/M + (lam/M) Theta (glassnet.backprop.finish, by finish's kernel: bit for bit the NumPy code), and
     * the sum of the squared non-bias weights for the cost's regularization term (the epoch's sum_squares) */
    for (Py_ssize_t l = 0; finishing && l < L; l++) {
        const Py_ssize_t r = e->sizes[l + 1], c = e->sizes[l] + 1;
        void *G = in_place ? j->lane[0].ptr[2][l] : b[2 + L + 3 * L * k + l].buf;
        const double m = (double)M, cm = lam / m;
        if (size == 8) {
            const double *th = j->theta[l];
            finish_f64(r, c, G, j->lane[0].ptr[2][l], th, m, cm, lam != 0.0);
            for (Py_ssize_t q = 0; lam != 0.0 && q < r; q++) squares += sum_squares_f64(th + q * c + 1, c - 1);
        } else {
            const float *th = j->theta[l];
            finish_f32(r, c, G, j->lane[0].ptr[2][l], th, (float)m, (float)cm, lam != 0.0);
            for (Py_ssize_t q = 0; lam != 0.0 && q < r; q++) squares += sum_squares_f32(th + q * c + 1, c - 1);
        }
    }
    Py_END_ALLOW_THREADS
    for (int w = 0; w < k; w++) J += j->lane[w].J;
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    PyMem_Free(b); PyMem_Free(objs); PyMem_Free(j->lane); PyMem_RawFree(own_wt);
    if (finishing) return Py_BuildValue("(dd)", J, squares);
    if (predict) return PyBool_FromLong(J == 0.0);  /* every row's z^(2) finite */
    return PyFloat_FromDouble(J);
wrong_size:
    PyErr_SetString(PyExc_ValueError, "sums: an array of the wrong size for its layer");
done:
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    PyMem_Free(b); PyMem_Free(objs); PyMem_Free(j->lane); PyMem_RawFree(own_wt);
    return NULL;
}

/* set_blas_threads([(get, set), ...]) -> whether they were taken: the BLAS libraries' thread-count functions, as
 * addresses (int (*)(void) and void (*)(int)); an empty list hands none over. Refused while a caller holds the limit. */
static PyObject *set_blas_threads(PyObject *self, PyObject *pairs) {
    (void)self;
    blas_get_fn get[MAX_BLAS_LIBS];
    blas_set_fn set[MAX_BLAS_LIBS];
    if (!PyList_Check(pairs) || PyList_GET_SIZE(pairs) > MAX_BLAS_LIBS) {
        PyErr_SetString(PyExc_ValueError, "set_blas_threads: expected a list of at most 8 (get, set) address pairs");
        return NULL;
    }
    const int libs = (int)PyList_GET_SIZE(pairs);
    for (int i = 0; i < libs; i++) {
        PyObject *pair = PyList_GET_ITEM(pairs, i);
        void *g, *t;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_ValueError, "set_blas_threads: expected (get, set) address pairs");
            return NULL;
        }
        g = PyLong_AsVoidPtr(PyTuple_GET_ITEM(pair, 0));
        t = g ? PyLong_AsVoidPtr(PyTuple_GET_ITEM(pair, 1)) : NULL;
        if (g == NULL || t == NULL) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "set_blas_threads: a null address");
            return NULL;
        }
        get[i] = (blas_get_fn)g;
        set[i] = (blas_set_fn)t;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = blas_limit_register(libs, get, set);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(ok);
}

/* blas_limit(enter) -> enter: the libraries at one thread for one more caller, and what they allowed before it (0:
 * none handed over, nothing done); not enter: that caller is done (the last one puts the counts back), None. */
static PyObject *blas_limit_(PyObject *self, PyObject *arg) {
    (void)self;
    int enter = PyObject_IsTrue(arg), allowed = 0;
    if (enter < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    if (enter) allowed = blas_limit_enter();
    else blas_limit_exit();
    Py_END_ALLOW_THREADS
    if (!enter) Py_RETURN_NONE;
    return PyLong_FromLong(allowed);
}

/* blas_threads() -> the smallest thread count among the libraries handed over, 0 where none was. */
static PyObject *blas_threads_(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    int n;
    Py_BEGIN_ALLOW_THREADS
    n = blas_limit_threads();
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(n);
}

/* pool_status() -> (threads the pool has started, how many of them are running a task now). */
static PyObject *pool_status(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
#if EPOCH_THREADS
    return Py_BuildValue("(ii)", pool.started, atomic_load(&pool.working));
#else
    return Py_BuildValue("(ii)", 0, 0);
#endif
}

static PyMethodDef methods[] = {
    {"adam", adam, METH_VARARGS, "One Adam step in place on flat arrays (theta, m, v; g is read)."},
    {"sgd", sgd, METH_VARARGS, "One SGD/momentum step in place on flat arrays (theta, velocity; g is read)."},
    {"all_finite", all_finite, METH_O, "Whether a float array holds no inf and no NaN."},
    {"equal_bytes", equal_bytes, METH_VARARGS, "Whether two C-contiguous buffers hold the same bytes."},
    {"exp", exp_, METH_O, "e^x in place on a float array, by the epoch's vectorized exponential."},
    {"log1p_unit", log1p_unit, METH_O, "log(1 + x) in place for x in [0, 1], by the output layer's vectorized log1p."},
    {"finish", finish, METH_VARARGS, "D = Delta/m + (lam/m) theta, bias column 0 not regularized, into G."},
    {"set_blas", set_blas, METH_VARARGS, "The dgemm and sgemm capsules of scipy.linalg.cython_blas, for epoch()."},
    {"epoch", epoch, METH_VARARGS, "One mini-batch epoch in compiled code (see glassnet._support.fused.epoch)."},
    {"pool_status", pool_status, METH_NOARGS, "(threads of the kernels' pool, how many are running a task now)."},
    {"sums", sums, METH_VARARGS, "Full-batch cost and Delta sums in compiled code (see glassnet._support.fused.sums)."},
    {"set_blas_threads", set_blas_threads, METH_O, "The BLAS libraries' (get, set) thread-count functions, as addresses."},
    {"blas_limit", blas_limit_, METH_O, "blas_limit(True): BLAS at one thread for one more caller; False: done."},
    {"blas_threads", blas_threads_, METH_NOARGS, "The smallest thread count of the BLAS libraries handed over (0: none)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_kernels",
    .m_doc = "Fused elementwise steps (an optional build; see glassnet._support.fused).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    PyObject *m = PyModule_Create(&module);
    /* the status of an epoch that found a row of X not finite (its check argument): builds without it lack both */
    if (m != NULL && PyModule_AddIntConstant(m, "EPOCH_NOT_FINITE", EPOCH_NOT_FINITE) < 0) { Py_DECREF(m); return NULL; }
    return m;
}
