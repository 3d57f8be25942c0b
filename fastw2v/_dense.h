/* Dense math of one training step, shared by every architecture and logistic objective.
 *
 * A step scores n_in input rows against n_out output rows with logistic units:
 *   g[o][b] = (label[o] - sigmoid(in_b . out_o)) * alpha * in_weight[b] * out_weight[o]
 *   input_grad[b] += sum_o g[o][b] out_o      (from the output rows before their update)
 *   out_o         += sum_b g[o][b] in_b
 * Skip-gram per pair is n_in = 1; batched skip-gram shares one output set (negatives, or the
 * centre word's Huffman path) among a window's context rows; CBOW's single input is the mean.
 *
 * Written with GCC/Clang vector extensions (8 and 4 lanes, plain C elsewhere) and register
 * blocked: scores four at a time against one loaded row, and each updated row 32 floats at a
 * time in four independent sums, so that no multiply-add waits on the one before. Measured
 * against the same step through three sgemm calls, which pays BLAS's call overhead on products
 * of a few thousand flops: the loop is 2 to 2.5x faster (bench/RESULTS.md). On x86-64 with GCC
 * or Clang the step is compiled twice, for the x86-64 baseline and for x86-64-v3 (AVX2 + FMA),
 * and the loader picks the one the CPU runs, so a portable build still uses the wide registers.
 */
#ifndef FASTW2V_DENSE_H
#define FASTW2V_DENSE_H

#include <math.h>
#include <stddef.h>

/* target_clones needs the loader's ifunc support: glibc has it, musl does not. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__) && \
    !defined(FASTW2V_NO_CLONES) && \
    ((defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11) || \
     (defined(__clang__) && __clang_major__ >= 14))
#define FW_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FW_CLONES
#endif

/* Every element of every weight row stays within +-FW_WEIGHT_LIMIT. Training at ordinary rates
 * never gets near it (vectors are of order 1); it bounds every score and step, so that no
 * setting, alpha = 1 included, can overflow into Inf or NaN. */
/* The helpers below are inlined into each clone of the step, so that they are compiled for its
 * instruction set: a separate copy would be baseline code passing vectors through memory. */
#if defined(__GNUC__) || defined(__clang__)
#define FW_INLINE static inline __attribute__((always_inline))
#else
#define FW_INLINE static inline
#endif

/* GCC warns that returning an 8-lane vector from a baseline (non-AVX) function has another ABI
 * than with AVX. Every such function here is inlined into its caller, so no call crosses. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define FW_WEIGHT_LIMIT 1000.0f

/* The logistic function as word2vec.c and gensim train with it: a table of 1000 values on [-6, 6),
 * read without interpolation at index int((x + 6) * 83) (83 being 1000 / 6 / 2 in their integer
 * arithmetic), and no step at all where |x| >= 6. The table reads the value at the left end of a
 * cell 0.012 wide and maps [-6, 6) onto [-6, 5.976), so it runs up to 0.009 below the exact
 * sigmoid (0.007 on average for |x| < 0.5). tests/test_gensim_differential.py holds fastw2v to
 * gensim's updates with it, step for step. */
#define FW_MAX_EXP 6
#define FW_EXP_TABLE_SIZE 1000

static float fw_sigmoid_table[FW_EXP_TABLE_SIZE];

static void fw_init_sigmoid(void) {
    for (int i = 0; i < FW_EXP_TABLE_SIZE; i++) {
        float e = (float)exp((i / (float)FW_EXP_TABLE_SIZE * 2 - 1) * FW_MAX_EXP);
        fw_sigmoid_table[i] = e / (e + 1);
    }
}

/* label - sigmoid(score), of which a logistic output's gradient is made; 0 beyond +-6 (and for a
 * NaN score), where the reference implementations skip the output. */
static inline float fw_logistic_error(float label, float score) {
    if (!(score > -FW_MAX_EXP && score < FW_MAX_EXP)) return 0.0f;
    return label - fw_sigmoid_table[(int)((score + FW_MAX_EXP) *
                                          (FW_EXP_TABLE_SIZE / FW_MAX_EXP / 2))];
}

/* -log(sigmoid(x)) without overflow for large |x|. */
static inline double fw_neg_log_sigmoid(double x) {
    return x > 0 ? log1p(exp(-x)) : -x + log1p(exp(x));
}

#if defined(__GNUC__) || defined(__clang__)
/* Eight lanes: one AVX register in the x86-64-v3 build, two SSE registers in the baseline. */
typedef float fw_v8 __attribute__((vector_size(32)));

/* Four lanes, for what a row has left past its last multiple of eight (dim = 100 leaves four). */
typedef float fw_v4 __attribute__((vector_size(16)));
typedef int fw_i4 __attribute__((vector_size(16)));

FW_INLINE fw_v4 fw_load4(const float *p) {
    fw_v4 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

FW_INLINE fw_v8 fw_load8(const float *p) {
    fw_v8 v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

FW_INLINE float fw_dot(int dim, const float *restrict x, const float *restrict y) {
    fw_v8 acc = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= dim; i += 8) acc += fw_load8(x + i) * fw_load8(y + i);
    float total = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < dim; i++) total += x[i] * y[i];
    return total;
}

FW_INLINE void fw_axpy(int dim, float a, const float *restrict x, float *restrict y) {
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
        fw_v8 v = fw_load8(y + i) + a * fw_load8(x + i);
        __builtin_memcpy(y + i, &v, sizeof v);
    }
    for (; i < dim; i++) y[i] += a * x[i];
}
#else
FW_INLINE float fw_dot(int dim, const float *x, const float *y) {
    float total = 0;
    for (int i = 0; i < dim; i++) total += x[i] * y[i];
    return total;
}

FW_INLINE void fw_axpy(int dim, float a, const float *x, float *y) {
    for (int i = 0; i < dim; i++) y[i] += a * x[i];
}
#endif

static inline void fw_clamp_rows(size_t count, float *y) {
    for (size_t i = 0; i < count; i++) {
        float v = y[i] < FW_WEIGHT_LIMIT ? y[i] : FW_WEIGHT_LIMIT;
        y[i] = v > -FW_WEIGHT_LIMIT ? v : -FW_WEIGHT_LIMIT;
    }
}

/* Ask for the cache line holding `address`, to be read soon (a table entry, not a row). */
static inline void fw_prefetch_line(const void *address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 0, 3);
#else
    (void)address;
#endif
}

/* Ask for every cache line of a row about to be read and written: the noise words' rows are
 * random and mostly out of cache, and fetching them together overlaps their misses. */
static inline void fw_prefetch_row(const float *row, int dim) {
#if defined(__GNUC__) || defined(__clang__)
    for (int i = 0; i < dim; i += 16) __builtin_prefetch(row + i, 1, 3);
#else
    (void)row;
    (void)dim;
#endif
}

#if defined(__GNUC__) || defined(__clang__)
typedef int fw_i8 __attribute__((vector_size(32)));

/* |v| clipped to FW_WEIGHT_LIMIT; a NaN lane becomes +FW_WEIGHT_LIMIT. */
FW_INLINE fw_v8 fw_clamp8(fw_v8 v) {
    const fw_v8 high = {FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT,
                        FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT};
    fw_i8 over = ~(v <= high);
    v = (fw_v8)(((fw_i8)v & ~over) | ((fw_i8)high & over));
    fw_i8 under = v < -high;
    return (fw_v8)(((fw_i8)v & ~under) | ((fw_i8)(-high) & under));
}

FW_INLINE void fw_store8(float *p, fw_v8 v) { __builtin_memcpy(p, &v, sizeof v); }

FW_INLINE fw_v4 fw_clamp4(fw_v4 v) {
    const fw_v4 high = {FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT, FW_WEIGHT_LIMIT};
    fw_i4 over = ~(v <= high);
    v = (fw_v4)(((fw_i4)v & ~over) | ((fw_i4)high & over));
    fw_i4 under = v < -high;
    return (fw_v4)(((fw_i4)v & ~under) | ((fw_i4)(-high) & under));
}

FW_INLINE void fw_store4(float *p, fw_v4 v) { __builtin_memcpy(p, &v, sizeof v); }
#endif

/* rows[r] += sum_k coef[k * stride + r * step] * sources[k], for r < n_rows and k < n_sources:
 * each target row is read and written once, its terms summed in registers; with `clamp` the
 * sum is clipped to +-FW_WEIGHT_LIMIT (NaN included) as it is stored; with `from_zero` the rows
 * are not read but taken as zeros (the same sums, bit for bit, as zeroing them first). A row is
 * done 32 floats at a time in four independent sums, so that the chain of n_sources
 * multiply-adds into one register does not stall on the previous one. */
FW_INLINE void fw_accumulate_rows(int dim, int n_rows, float *const *rows, int n_sources,
                                      float *const *sources, const float *coef, int stride,
                                      int step, int clamp, int from_zero) {
#if defined(__GNUC__) || defined(__clang__)
    const fw_v8 zero8 = {0};
    const fw_v4 zero4 = {0};
#endif
    for (int r = 0; r < n_rows; r++) {
        float *row = rows[r];
        const float *c = coef + (size_t)r * step;
        int i = 0;
#if defined(__GNUC__) || defined(__clang__)
        for (; i + 32 <= dim; i += 32) {
            fw_v8 a0 = zero8, a1 = zero8, a2 = zero8, a3 = zero8;
            if (!from_zero) {
                a0 = fw_load8(row + i);
                a1 = fw_load8(row + i + 8);
                a2 = fw_load8(row + i + 16);
                a3 = fw_load8(row + i + 24);
            }
            for (int k = 0; k < n_sources; k++) {
                const float *src = sources[k] + i;
                float ck = c[(size_t)k * stride];
                a0 += ck * fw_load8(src);
                a1 += ck * fw_load8(src + 8);
                a2 += ck * fw_load8(src + 16);
                a3 += ck * fw_load8(src + 24);
            }
            if (clamp) {
                a0 = fw_clamp8(a0);
                a1 = fw_clamp8(a1);
                a2 = fw_clamp8(a2);
                a3 = fw_clamp8(a3);
            }
            fw_store8(row + i, a0);
            fw_store8(row + i + 8, a1);
            fw_store8(row + i + 16, a2);
            fw_store8(row + i + 24, a3);
        }
        for (; i + 8 <= dim; i += 8) {
            fw_v8 acc = from_zero ? zero8 : fw_load8(row + i);
            for (int k = 0; k < n_sources; k++) acc += c[(size_t)k * stride] * fw_load8(sources[k] + i);
            fw_store8(row + i, clamp ? fw_clamp8(acc) : acc);
        }
        for (; i + 4 <= dim; i += 4) {
            fw_v4 acc = from_zero ? zero4 : fw_load4(row + i);
            for (int k = 0; k < n_sources; k++) acc += c[(size_t)k * stride] * fw_load4(sources[k] + i);
            fw_store4(row + i, clamp ? fw_clamp4(acc) : acc);
        }
#endif
        for (; i < dim; i++) {
            float acc = from_zero ? 0.0f : row[i];
            for (int k = 0; k < n_sources; k++) acc += c[(size_t)k * stride] * sources[k][i];
            if (clamp) {
                acc = acc <= FW_WEIGHT_LIMIT ? acc : FW_WEIGHT_LIMIT;
                acc = acc >= -FW_WEIGHT_LIMIT ? acc : -FW_WEIGHT_LIMIT;
            }
            row[i] = acc;
        }
    }
}

/* scores[b] = x . ys[b] for b < n: x is loaded once for up to four rows at a time. */
FW_INLINE void fw_dots(int dim, const float *restrict x, int n, float *const *ys,
                           float *scores) {
    int b = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; b + 4 <= n; b += 4) {
        const float *y0 = ys[b], *y1 = ys[b + 1], *y2 = ys[b + 2], *y3 = ys[b + 3];
        fw_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        int i = 0;
        for (; i + 8 <= dim; i += 8) {
            fw_v8 xv = fw_load8(x + i);
            s0 += xv * fw_load8(y0 + i);
            s1 += xv * fw_load8(y1 + i);
            s2 += xv * fw_load8(y2 + i);
            s3 += xv * fw_load8(y3 + i);
        }
        fw_v4 q0 = {0}, q1 = {0}, q2 = {0}, q3 = {0};
        for (; i + 4 <= dim; i += 4) {
            fw_v4 xv = fw_load4(x + i);
            q0 += xv * fw_load4(y0 + i);
            q1 += xv * fw_load4(y1 + i);
            q2 += xv * fw_load4(y2 + i);
            q3 += xv * fw_load4(y3 + i);
        }
        float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
        for (int l = 0; l < 4; l++) {
            t0 += (s0[l] + s0[l + 4]) + q0[l];
            t1 += (s1[l] + s1[l + 4]) + q1[l];
            t2 += (s2[l] + s2[l + 4]) + q2[l];
            t3 += (s3[l] + s3[l + 4]) + q3[l];
        }
        for (; i < dim; i++) {
            t0 += x[i] * y0[i];
            t1 += x[i] * y1[i];
            t2 += x[i] * y2[i];
            t3 += x[i] * y3[i];
        }
        scores[b] = t0;
        scores[b + 1] = t1;
        scores[b + 2] = t2;
        scores[b + 3] = t3;
    }
#endif
    for (; b < n; b++) scores[b] = fw_dot(dim, x, ys[b]);
}

/* scores[o] = x . ys[o] for o < n, four rows at a time, each summed exactly as fw_dot sums it
 * (same lanes, same reduction, same tail), so the results are fw_dot's to the bit. One input
 * against many outputs (CBOW's mean, a skip-gram pair) is otherwise a chain of dependent
 * multiply-adds per output; four rows side by side keep four chains in flight and load x once. */
FW_INLINE void fw_dots_of_one(int dim, const float *restrict x, int n, float *const *ys,
                              float *scores) {
    int o = 0;
#if defined(__GNUC__) || defined(__clang__)
    float spare[3];
    for (; o < n; o += 4) {
        /* A last block of fewer than four rows repeats its last row, whose extra scores are
         * dropped: cheaper than single chains for the rest. */
        int last = n - 1;
        const float *y0 = ys[o], *y1 = ys[o + 1 <= last ? o + 1 : last];
        const float *y2 = ys[o + 2 <= last ? o + 2 : last], *y3 = ys[o + 3 <= last ? o + 3 : last];
        fw_v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        int i = 0;
        for (; i + 8 <= dim; i += 8) {
            fw_v8 xv = fw_load8(x + i);
            s0 += fw_load8(y0 + i) * xv;
            s1 += fw_load8(y1 + i) * xv;
            s2 += fw_load8(y2 + i) * xv;
            s3 += fw_load8(y3 + i) * xv;
        }
        float t0 = ((s0[0] + s0[4]) + (s0[1] + s0[5])) + ((s0[2] + s0[6]) + (s0[3] + s0[7]));
        float t1 = ((s1[0] + s1[4]) + (s1[1] + s1[5])) + ((s1[2] + s1[6]) + (s1[3] + s1[7]));
        float t2 = ((s2[0] + s2[4]) + (s2[1] + s2[5])) + ((s2[2] + s2[6]) + (s2[3] + s2[7]));
        float t3 = ((s3[0] + s3[4]) + (s3[1] + s3[5])) + ((s3[2] + s3[6]) + (s3[3] + s3[7]));
        for (; i < dim; i++) {
            t0 += y0[i] * x[i];
            t1 += y1[i] * x[i];
            t2 += y2[i] * x[i];
            t3 += y3[i] * x[i];
        }
        scores[o] = t0;
        *(o + 1 <= last ? &scores[o + 1] : &spare[0]) = t1;
        *(o + 2 <= last ? &scores[o + 2] : &spare[1]) = t2;
        *(o + 3 <= last ? &scores[o + 3] : &spare[2]) = t3;
    }
#endif
    for (; o < n; o++) scores[o] = fw_dot(dim, ys[o], x);
}

/* row += step, clipped to +-FW_WEIGHT_LIMIT (a NaN becomes the limit): an input row takes the
 * step its prediction computed. */
FW_INLINE void fw_add_row(int dim, const float *restrict step, float *restrict row) {
    int i = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; i + 8 <= dim; i += 8) fw_store8(row + i, fw_clamp8(fw_load8(row + i) + fw_load8(step + i)));
    for (; i + 4 <= dim; i += 4) fw_store4(row + i, fw_clamp4(fw_load4(row + i) + fw_load4(step + i)));
#endif
    for (; i < dim; i++) {
        float v = row[i] + step[i];
        v = v <= FW_WEIGHT_LIMIT ? v : FW_WEIGHT_LIMIT;
        row[i] = v >= -FW_WEIGHT_LIMIT ? v : -FW_WEIGHT_LIMIT;
    }
}

FW_CLONES static void fw_add_step(int dim, const float *restrict step, float *restrict row) {
    fw_add_row(dim, step, row);
}

#if defined(__GNUC__) || defined(__clang__)
/* -log(sigmoid(z)) of eight lanes, to a few float ulps (relative error below 1e-6 against the
 * float64 formula over the whole float range): max(-z, 0) + log1p(exp(-|z|)), the exponential by
 * range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial, log1p(u) as 2 atanh(u / (2 + u))
 * by its series (u / (2 + u) <= 1/3, so seven terms leave an error below 1e-8). The loss of a
 * step costs a few vector instructions per pair this way, against a double-precision exp and
 * log1p per pair: the loss stays exact, and computing it stays cheap. */
FW_INLINE fw_v8 fw_neg_log_sigmoid8(fw_v8 z) {
    const fw_v8 zero = {0}, half = zero + 0.5f, one = zero + 1.0f;
    fw_i8 negative = z < zero;
    fw_v8 a = (fw_v8)(((fw_i8)z & ~negative) | ((fw_i8)(-z) & negative)); /* |z| */
    fw_v8 relu = (fw_v8)((fw_i8)(-z) & negative);                           /* max(-z, 0) */
    /* exp(-a), a clipped to 80: beyond it exp(-a) < 2e-35 adds nothing to max(-z, 0). */
    fw_v8 x = -a;
    fw_i8 beyond = x < zero - 80.0f;
    x = (fw_v8)(((fw_i8)x & ~beyond) | ((fw_i8)(zero - 80.0f) & beyond));
    fw_i8 k = -__builtin_convertvector(half - x * 1.44269504088896341f, fw_i8);
    fw_v8 kf = __builtin_convertvector(k, fw_v8);
    fw_v8 r = (x - kf * 0.693359375f) + kf * 2.12194440e-4f;
    fw_v8 p = 1.9875691500e-4f * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    fw_v8 e = p * (r * r) + r + one;
    fw_v8 scale = (fw_v8)((k + 127) << 23);
    fw_v8 u = e * scale;
    fw_v8 t = u / (u + 2.0f);
    fw_v8 t2 = t * t;
    fw_v8 series = t2 * (1.0f / 13) + 1.0f / 11;
    series = series * t2 + 1.0f / 9;
    series = series * t2 + 1.0f / 7;
    series = series * t2 + 1.0f / 5;
    series = series * t2 + 1.0f / 3;
    series = series * t2 + one;
    return relu + 2.0f * t * series;
}
#endif

/* sum_j weights[j] * -log(sigmoid(z[j])) for j < n; both arrays are padded with zeros to a
 * multiple of eight. Called on the pairs of many steps at once (fw_logistic_step only lists
 * them), so that the vectors' polynomial chains run side by side: a step of CBOW has six
 * pairs, one vector, and alone would wait on its whole chain. */
FW_CLONES static double fw_weighted_loss(int n, const float *z, const float *weights) {
#if defined(__GNUC__) || defined(__clang__)
    fw_v8 total = {0};
    for (int j = 0; j < n; j += 8) total += fw_load8(weights + j) * fw_neg_log_sigmoid8(fw_load8(z + j));
    return ((double)total[0] + total[4] + total[1] + total[5]) +
           ((double)total[2] + total[6] + total[3] + total[7]);
#else
    double total = 0.0;
    for (int j = 0; j < n; j++) total += weights[j] * fw_neg_log_sigmoid(z[j]);
    return total;
#endif
}

/* out = (rows[0] + rows[1] + ... + rows[n - 1]) * scale, the sum kept in registers 32 floats at
 * a time (CBOW's hidden layer): the same additions in the same order as adding each row into
 * `out` in turn, without storing and reloading `out` for every row. */
FW_CLONES static void fw_sum_rows(int dim, int n, float *const *rows, float scale,
                                  float *restrict out) {
    int i = 0;
#if defined(__GNUC__) || defined(__clang__)
    for (; i + 32 <= dim; i += 32) {
        fw_v8 a0 = fw_load8(rows[0] + i), a1 = fw_load8(rows[0] + i + 8);
        fw_v8 a2 = fw_load8(rows[0] + i + 16), a3 = fw_load8(rows[0] + i + 24);
        for (int k = 1; k < n; k++) {
            const float *row = rows[k] + i;
            a0 += fw_load8(row);
            a1 += fw_load8(row + 8);
            a2 += fw_load8(row + 16);
            a3 += fw_load8(row + 24);
        }
        if (scale != 1.0f) {
            a0 *= scale;
            a1 *= scale;
            a2 *= scale;
            a3 *= scale;
        }
        fw_store8(out + i, a0);
        fw_store8(out + i + 8, a1);
        fw_store8(out + i + 16, a2);
        fw_store8(out + i + 24, a3);
    }
    for (; i + 8 <= dim; i += 8) {
        fw_v8 acc = fw_load8(rows[0] + i);
        for (int k = 1; k < n; k++) acc += fw_load8(rows[k] + i);
        fw_store8(out + i, scale != 1.0f ? acc * scale : acc);
    }
#endif
    for (; i < dim; i++) {
        float acc = rows[0][i];
        for (int k = 1; k < n; k++) acc += rows[k][i];
        out[i] = scale != 1.0f ? acc * scale : acc;
    }
}

/* rows[r] += steps[r * stride], clipped, for r < n, one row after the other (a row listed twice
 * takes both steps, the second on top of the first): the input rows of a prediction in one
 * call of the cloned code rather than one call per row. */
FW_CLONES static void fw_add_steps(int dim, int n, const float *steps, size_t stride,
                                   float *const *rows) {
    for (int r = 0; r < n; r++) fw_add_row(dim, steps + r * stride, rows[r]);
}

/* One logistic step over n_in inputs x n_out outputs, whose steps are added to input_grads
 * (n_in rows of dim floats), or written there with `grads_unset` (the first objective of a
 * prediction, which saves zeroing them). For the loss, each pair's score signed by
 * its label and its weight are written to loss_scores[o * n_in + b] and loss_weights[...] (when
 * not NULL), for fw_weighted_loss to sum later. `scratch` holds n_in * n_out floats and
 * `input_rows` n_in pointers. Inputs and outputs must
 * be distinct rows, and every output row distinct from the others (callers merge duplicates
 * into weights). */
FW_CLONES static void fw_logistic_step(int dim, int n_in, float *const *inputs,
                                         const float *in_weights, int n_out,
                                         float *const *outputs, const float *labels,
                                         const float *out_weights, float alpha,
                                         float *input_grads, int grads_unset, float *scratch,
                                         float **input_rows, float *loss_scores,
                                         float *loss_weights) {
    if (n_in == 1) {
        fw_dots_of_one(dim, inputs[0], n_out, outputs, scratch);
    } else {
        /* Inputs four at a time against each output; the inputs past the last multiple of four
         * each against all outputs, four outputs at a time, rather than in one dependent chain
         * per output: the same sums, so the same bits. */
        int blocked = n_in & ~3;
        float leftover[64];
        if (blocked)
            for (int o = 0; o < n_out; o++) fw_dots(dim, outputs[o], blocked, inputs, scratch + (size_t)o * n_in);
        for (int b = blocked; b < n_in; b++) {
            for (int first = 0; first < n_out; first += 64) {
                int count = n_out - first < 64 ? n_out - first : 64;
                fw_dots_of_one(dim, inputs[b], count, outputs + first, leftover);
                for (int o = 0; o < count; o++) scratch[(size_t)(first + o) * n_in + b] = leftover[o];
            }
        }
    }
    for (int o = 0; o < n_out; o++) {
        float *scores = scratch + (size_t)o * n_in;
        for (int b = 0; b < n_in; b++) {
            float score = scores[b];
            float weight = in_weights[b] * out_weights[o];
            if (loss_scores) {
                loss_scores[o * n_in + b] = labels[o] > 0.5f ? score : -score;
                loss_weights[o * n_in + b] = weight;
            }
            scratch[o * n_in + b] = fw_logistic_error(labels[o], score) * alpha * weight;
        }
    }
    /* The inputs' steps, from the output rows before their update. */
    for (int b = 0; b < n_in; b++) input_rows[b] = input_grads + (size_t)b * dim;
    fw_accumulate_rows(dim, n_in, input_rows, n_out, outputs, scratch, n_in, 1, 0, grads_unset);
    /* Then each output row, once. */
    fw_accumulate_rows(dim, n_out, (float *const *)outputs, n_in, inputs, scratch, 1, n_in, 1, 0);
}

#endif
