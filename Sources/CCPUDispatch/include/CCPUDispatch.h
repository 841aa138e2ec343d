#ifndef C_CPU_DISPATCH_H
#define C_CPU_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

/// What this CPU and its operating system let a process run, read once from CPUID and XGETBV
/// (x86-64) or known at build time (arm64: NEON). Swift has no per-function target attributes, so the
/// ISA-specific kernels live in C files compiled with `__attribute__((target(...)))` and are chosen
/// at run time from these, never from compiler flags.
typedef struct {
    int avx2, fma, f16c;                    // with OS support for YMM state
    int avx512f, avx512bw, avx512vl, avx512dq; // with OS support for ZMM and opmask state
    int avx512vnni, avx512bf16, avx512fp16, avx512vbmi2;
    int amx;                                // AMX-TILE, -INT8 and -BF16, and the OS granted tile data
    int neon;
} coppice_cpu_features;

/// The hardware's features (not capped by COPPICE_ISA).
coppice_cpu_features coppice_cpu_detect(void);

/// Whether the CPU has AVX512-VBMI2 (byte and word expand), read once.
int coppice_cpu_has_vbmi2(void);

/// The CPU's name (CPUID brand string on x86-64; "unknown" where there is none), NUL-terminated.
void coppice_cpu_brand(char *buffer, int size);

/// ISA levels the dispatched kernels are written for, lowest first.
enum { COPPICE_ISA_GENERIC = 0, COPPICE_ISA_AVX2 = 1, COPPICE_ISA_AVX512 = 2, COPPICE_ISA_AVX512_VNNI = 3 };

/// The highest level `features` supports.
int coppice_isa_supported(coppice_cpu_features features);

/// The highest level this CPU supports (CPUID read once: in a virtual machine every CPUID traps to
/// the hypervisor).
int coppice_isa_hardware(void);

/// The level the kernels use: the supported one, capped by the environment variable COPPICE_ISA
/// (generic, avx2, avx512, avx512-vnni). Read once, then cached.
int coppice_isa(void);

/// Multiply-add throughput of the calling thread at `level`: independent FMA chains (multiply and add
/// for the generic level) for `iterations` rounds. Returns FLOP per second.
double coppice_fma_probe(int level, long iterations);

/// y[i] = exp(x[i]) for `count` values at the current ISA level (±1 ulp-class polynomial, as the Swift
/// `SIMDMath.exp`), with a scalar twin for the generic level.
void coppice_exp(const float *x, float *y, size_t count);

/// `coppice_exp` at `level` (lowered to the supported level): each variant, for tests.
void coppice_exp_level(int level, const float *x, float *y, size_t count);

/// Σ exp(x[i] − shift) over `count` values at the current ISA level, writing each exp(x[i] − shift) to
/// z[i] where `z` is not NULL (softmax rows: shift = the row's maximum).
float coppice_exp_sum(const float *x, float shift, float *z, size_t count);

/// `coppice_exp_sum` at `level` (lowered to the supported level): each variant, for tests.
float coppice_exp_sum_level(int level, const float *x, float shift, float *z, size_t count);

/// The activations `coppice_activation` computes.
enum { COPPICE_SIGMOID = 0, COPPICE_TANH = 1, COPPICE_SILU = 2 };

/// y[i] = op(x[i]) at the current ISA level: sigmoid 1 / (1 + e^-x), tanh 2 / (1 + e^-2x) − 1, SiLU
/// x / (1 + e^-x), on the exp above.
void coppice_activation(int op, const float *x, float *y, size_t count);

/// `coppice_activation` at `level` (lowered to the supported level): each variant, for tests.
void coppice_activation_level(int level, int op, const float *x, float *y, size_t count);

/// The direct convolution's inner kernel at `level` (lowered to the supported level): for `tiles`
/// tiles of 64 flat outputs and 4 output channels j,
/// out[j·rowLength + 64·tile + i] = Σ_c Σ_t packed[(c·taps + t)·4 + j] · padded[c·pitch + 64·tile + offsets[t] + i].
void coppice_direct_conv_tiles(int level, const float *padded, const float *packed, const long *offsets, int taps, int channels,
                               long pitch, int tiles, long rowLength, float *out);

/// CSR rows [firstRow, endRow) times a vector at `level` (lowered to the supported level): y[r] =
/// Σ values[k]·x[column k] over starts[r] ..< starts[r+1]; `indices` are int32, or uint16 where
/// `shortIndices` ≠ 0. The caller has validated the columns against x.
void coppice_csr_rows_times_vector(int level, const int32_t *starts, const float *values, const void *indices, int shortIndices,
                                   long firstRow, long endRow, const float *x, float *y);

/// Block-sparse rows: for block rows [firstBlockRow, endBlockRow) of an r × c BSR matrix [rows ×
/// columns] (block row b's blocks are blockStarts[b] ..< blockStarts[b+1], block k's first column is
/// blockColumns[k]·c and its values values[k·r·c ..< (k+1)·r·c], row-major), yT[row][0..<n] =
/// Σ block values · xT[column][0..<n], at `level` (lowered to the supported level); `accumulator` is
/// r·n floats of scratch.
void coppice_bsr_block_rows(int level, const float *values, const int32_t *blockStarts, const int32_t *blockColumns, long r, long c,
                            long rows, long columns, long firstBlockRow, long endBlockRow, const float *xT, long n, float *yT,
                            float *accumulator);

/// One CSR row times a dense matrix at `level`, which the caller has checked against the CPU
/// (`coppice_isa()` or lower): out[c] = Σ_k values[k] · xT[indices[k]·ldx + c] for c < n, over the row's
/// `count` nonzeros.
void coppice_csr_row_times_dense(int level, const float *values, const int32_t *indices, long count, const float *xT, long ldx,
                                 float *out, long n);

/// C[m×n] = A[m×k]·B[k×n] for row-major A, B, C at `level` (lowered to the supported level), made for
/// narrow B (vector variants for n ≤ 16; wider runs the generic twin); reads and writes only n columns.
void coppice_narrow_product(int level, long m, int n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc);

/// Masked weight rows [firstRow, endRow) times x (pruned decode): row r keeps the columns whose bits are
/// set in masks[r·columns/8 ...] (bit j of byte b: column 8b + j), their values packed in column order
/// from values + offsets[r] bytes: F32 (format 0), F16 (1), BF16 (2), or int8 (3) scaled by one F16
/// scale per 32 columns, scales[r·columns/32 ...] (NULL for the other formats). y[r] = Σ_j w[r][j]·x[j].
/// columns % 32 == 0; `values` readable 64 bytes past the last row's values. At the AVX512-VNNI level
/// on a CPU with AVX512-VBMI2, F16 and BF16 rows expand 32 values per instruction (`vpexpandw`).
void coppice_masked_rows(int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                         long firstRow, long endRow, int columns, const float *x, float *y);
/// `coppice_masked_rows` at `level` (lowered to the supported level): each variant, for tests.
void coppice_masked_rows_level(int level, int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets,
                               const uint16_t *scales, long firstRow, long endRow, int columns, const float *x, float *y);
/// Whether Q8_0 masked rows at `level` run the integer kernel (AVX512-VNNI level and VBMI2):
/// `coppice_masked_rows_q8_integer` instead of `coppice_masked_rows`.
int coppice_masked_q8_integer(int level);
/// Q8_0 masked rows times x quantized to int8 blocks of 32 (`xScales`, `xValues`, `xSums` as
/// BlockQuantization.quantizeActivations gives them), as the dense Q8_0 rows multiply: y[r] =
/// Σ_b scale_w[b]·xScales[b]·Σ_j w·x. Only where `coppice_masked_q8_integer` says so.
void coppice_masked_rows_q8_integer(const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                                    long firstRow, long endRow, int columns, const float *xScales, const int8_t *xValues,
                                    const int32_t *xSums, float *y);
/// Q8_0 masked rows [firstRow, endRow) as ggml Q8_0 blocks again (34 bytes per 32 columns), back to back
/// from `out`: integer prefill multiplies them as the dense rows.
void coppice_masked_q8_blocks(const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                              long firstRow, long endRow, int columns, uint8_t *out);
/// Nonzero values (±0 is zero) of one row stored as `format` (the codes above; Q8_0: its blocks), at
/// `level` (lowered to the supported level).
long coppice_row_nonzeros(int level, int format, const uint8_t *row, int columns);
/// One stored row packed at `level`: its mask (columns/8 bytes), its nonzero values in column order to
/// `values` (returns their bytes; up to 64 bytes past them may be written) and, for Q8_0, its block
/// scales (columns/32) to `scales`.
long coppice_masked_pack_row(int level, int format, const uint8_t *row, int columns, uint8_t *mask, uint8_t *values, uint16_t *scales);
/// The same rows widened to dense F32 rows, out[(r − firstRow)·columns ...] (prefill's panels).
void coppice_masked_expand(int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets, const uint16_t *scales,
                           long firstRow, long endRow, int columns, float *out);
/// `coppice_masked_expand` at `level` (lowered to the supported level), for tests.
void coppice_masked_expand_level(int level, int format, const uint8_t *masks, const uint8_t *values, const int64_t *offsets,
                                 const uint16_t *scales, long firstRow, long endRow, int columns, float *out);
/// DLRM's dot interaction for the groups of 8 examples [firstGroup, endGroup) at `level` (lowered to
/// the supported level): `vectors` are n row-major [batch][d] matrices; group g's examples are
/// interleaved to interleaved[g·n·d·8 ..< (g+1)·n·d·8] as [n][d][8] (zero past the batch), `sums`
/// (pairs·8 floats of scratch) receives the pairs with examples in lanes, and out[row][p] the dot
/// product of pair p = (i, j < i), i(i−1)/2 + j, for each example row of the group.
void coppice_dot_interaction_groups(int level, const float *const *vectors, int n, long batch, int d, long firstGroup,
                                    long endGroup, float *interleaved, float *sums, float *out);
/// The dot interaction's backward pass for groups [firstGroup, endGroup) at `level` (lowered to the
/// supported level): from the forward's `interleaved` vectors and the pairs' gradient g [batch][pairs],
/// dx[i][row][c] = Σ_{j≠i} g[row][pair(i, j)]·x_j[row][c] for the n vectors; `weights` is n·n·8 floats
/// of scratch.
void coppice_dot_interaction_backward_groups(int level, const float *interleaved, int n, long batch, int d, const float *g,
                                             long firstGroup, long endGroup, float *weights, float *dx);
/// EmbeddingBag pooling for bags [firstBag, endBag): out[b][0..<d] = sum (mean where `mean` ≠ 0) of
/// the table rows indices[offsets[b] ..< offsets[b+1]] (the last bag ends at `count`), prefetching the
/// rows of bags ahead. The caller has validated indices and offsets.
void coppice_embedding_bags(const float *table, int d, const int32_t *indices, long count, const int32_t *offsets, long bags,
                            long firstBag, long endBag, int mean, float *out);
/// One F(4×4,3×3) sparse Winograd convolution's shapes and buffers: `padded` is the input
/// [batch][channels][paddedHeight][paddedWidth], zero-padded and extended to whole tiles, with at least
/// 2 floats after its end; `output` is [batch][filters][outHeight][outWidth].
typedef struct {
    const float *padded;
    float *output;
    long channels, filters, paddedHeight, paddedWidth, outHeight, outWidth;
    long tilesHigh, tilesWide, tiles;
} coppice_winograd_geometry;

/// Winograd-domain weights Q with exact zeros dropped, filter-major: the nonzeros of filter k at tile
/// position p are values/columns[starts[k·36 + p] ..< starts[k·36 + p + 1]] (columns: input channels).
typedef struct {
    const int32_t *starts, *columns;
    const float *values;
    const float *bias;  // per filter, or NULL
    int relu;           // ≠ 0: ReLU after the bias
} coppice_sparse_winograd_weights;

/// Whether the fused sparse Winograd kernels below run at `level` on this CPU (AVX2+FMA and up).
int coppice_sparse_winograd_available(int level);

/// Floats of a block's V (`coppice_sparse_winograd_input`) for a layer of `channels` input channels.
long coppice_sparse_winograd_block_floats(long channels, int w);

/// V = Bᵀ d B of block `block` (tiles 8w·block ..< 8w·(block+1), w ∈ {1, 2, 4}; tiles past the last
/// repeat it) for channels [firstChannel, firstChannel + channels): v is the block's [36][channels of
/// the layer][8w] (positions a little more than C·8w apart).
void coppice_sparse_winograd_input(int level, const coppice_winograd_geometry *g, long block, int w, long firstChannel, long channels,
                                   float *v);

/// Floats of scratch `coppice_sparse_winograd_filters` needs for `filters` filters at width w.
long coppice_sparse_winograd_scratch(int w, long filters);

/// For filters [firstFilter, firstFilter + filters) and block `block` with its V: M = Q ⊙ V summed over
/// the nonzeros (in `m`, `coppice_sparse_winograd_scratch` floats), Y = Aᵀ M A + bias (ReLU), written
/// to the tiles' places in the output (cropped).
void coppice_sparse_winograd_filters(int level, const coppice_winograd_geometry *g, const coppice_sparse_winograd_weights *q, long block,
                                     int w, long firstFilter, long filters, const float *v, float *m);
/// The dense F(4×4,3×3) path's transforms (CoppiceKernels/Conv2DWinograd.swift) for the 16 tiles of
/// block `block`, where `coppice_sparse_winograd_available(level)`: V = Bᵀ d B of channels
/// [firstChannel, firstChannel + channels) to v[p·C·rowLength + c·rowLength + lane] (v at the block's
/// first column), and Y = Aᵀ M A + bias of filters [firstFilter, firstFilter + filters) from
/// m[p·K·rowLength + k·rowLength + lane] to the tiles' places in the output (cropped).
void coppice_winograd_f4x3_input16(int level, const coppice_winograd_geometry *g, long block, long firstChannel, long channels, float *v,
                                   long rowLength);
void coppice_winograd_f4x3_output16(int level, const coppice_winograd_geometry *g, long block, long firstFilter, long filters, const float *m,
                                    long rowLength, const float *bias);

/// 2×2, stride-2 max pooling without padding over `planes` planes [height][width] at `level` (lowered
/// to the supported level): y [planes][height/2][width/2]; NaN wins.
void coppice_max_pool_2x2(int level, const float *x, float *y, long planes, long height, long width);

/// Whether BLIS (libblis.so.4) could be loaded; loads it on the first call. Not thread-safe on the
/// first call: call it once before threads use `coppice_blis_sgemm`.
int coppice_blis_available(void);

/// The kernel configuration BLIS chose for this CPU (e.g. "zen3", "skx", "haswell"); "" without BLIS.
const char *coppice_blis_arch(void);

/// C[m×n] = alpha·op(A)·op(B) + beta·C on row-major buffers through BLIS (`transA`/`transB` ≠ 0:
/// the operand is stored transposed). Only after `coppice_blis_available()` returned 1.
void coppice_blis_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda, const float *b,
                        long ldb, float beta, float *c, long ldc);

/// Whether oneDNN (libdnnl.so.2) could be loaded; loads it on the first call, capped at
/// `coppice_isa()`. Not thread-safe on the first call: call it once before threads use
/// `coppice_onednn_sgemm`.
int coppice_onednn_available(void);

/// The ISA oneDNN's kernels run at (e.g. "avx512_core_bf16", "avx2"); "" without oneDNN.
const char *coppice_onednn_isa(void);

/// C[m×n] = alpha·op(A)·op(B) + beta·C on row-major buffers through oneDNN on the calling thread
/// alone (`transA`/`transB` ≠ 0: the operand is stored transposed). Only after
/// `coppice_onednn_available()` returned 1.
void coppice_onednn_sgemm(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda, const float *b,
                          long ldb, float beta, float *c, long ldc);

/// Whether `coppice_bf16_multiply` runs its AVX512-BF16 kernel here (the CPU has it and COPPICE_ISA
/// allows AVX-512).
int coppice_bf16_product_available(void);

/// x[t][c] (`tokens` rows of `columns` F32) rounded to BF16 (nearest even) as pairs: word p of a row
/// holds columns 2p (low half) and 2p + 1 (high; 0 past the last column), (columns + 1) / 2 words a row.
void coppice_bf16_round_activations(const float *x, long tokens, long columns, uint32_t *pairs);

/// y[t · ldy + r] = Σ_c w[r][c] · x[t][c] for rows [first, first + count) of a BF16 matrix of `columns`
/// columns (row-major, or `interleaved` as `coppice_float_interleave` lays it out) and `tokens`
/// activation rows given as BF16 pairs (`coppice_bf16_round_activations`), at `level` (lowered to
/// what the CPU supports; the AVX-512 level needs AVX512-BF16 too, else the plain C twin runs).
void coppice_bf16_multiply(int level, const uint16_t *weights, int interleaved, long columns, long first, long count, const uint32_t *x,
                           long tokens, float *y, long ldy);

/// Whether `coppice_f16_multiply` runs its AVX-512 kernel here (COPPICE_ISA allows AVX-512).
int coppice_f16_product_available(void);

/// y[t · ldy + r] = Σ_c w[r][c] · x[t · columns + c] for rows [first, first + count) of an F16 matrix of
/// `columns` columns (row-major, or `interleaved` as `coppice_float_interleave` lays it out, `first` then
/// a multiple of 8) and `tokens` F32 activation rows, at `level` (lowered to what the CPU supports;
/// below AVX-512 the plain C twin runs).
void coppice_f16_multiply(int level, const uint16_t *weights, int interleaved, long columns, long first, long count, const float *x,
                          long tokens, float *y, long ldy);

#endif
