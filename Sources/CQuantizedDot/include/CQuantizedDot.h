#ifndef C_QUANTIZED_DOT_H
#define C_QUANTIZED_DOT_H

#include <stddef.h>
#include <stdint.h>

/// Integer dot products of ggml's Q4_0 / Q8_0 / Q4_1 weight rows (blocks of 32 weights with an F16 scale)
/// with one activation vector quantized to int8 blocks of 32 (`scales[b]`, `values[32 b ..< 32 b + 32]`,
/// `sums[b]` = Σ of the block's int8 values), as llama.cpp decodes: 32 multiply-adds in one or two
/// AVX2 / AVX-512-VNNI instructions instead of widening every weight to F32. Swift cannot reach these
/// instructions, hence this small C target.

/// Whether the vector kernels run on this CPU (x86-64 with AVX2, FMA and F16C; VNNI used when
/// present). Callers keep their own F32 path where they do not: elsewhere `coppice_dot_rows` is
/// plain C, correct but slow.
int coppice_quantized_dot_available(void);

/// For tests: run the AVX2 kernels even where VNNI (integer rows) or AVX-512 (F32/F16/BF16 rows) is
/// present (not thread-safe; set it before use).
void coppice_quantized_dot_prefer_avx2(int prefer);

/// The ISA level (CCPUDispatch's `COPPICE_ISA_*`) the row kernels run at: `coppice_isa()` (CPUID,
/// capped by the environment variable COPPICE_ISA), lowered to AVX2 by
/// `coppice_quantized_dot_prefer_avx2`; generic off x86-64.
int coppice_rows_level(void);

/// y[r] = row r · x for `count` rows `stride` bytes apart starting at `rows`, each `blocks` blocks of
/// `kind` 0: Q8_0 (34 bytes a block), 1: Q4_0 (18 bytes) or 2: Q4_1 (20 bytes).
void coppice_dot_rows(int kind, int blocks, const uint8_t *rows, size_t stride, int count, const float *scales,
                      const int8_t *values, const int32_t *sums, float *y);

/// y[i · ldy + r] = Q4_1 row r · token i's quantized activations (`scales[i · blocks + b]`,
/// `values[32 · (i · blocks + b) …]`, `sums[i · blocks + b]`) for `count` rows `stride` bytes apart and
/// `tokens` tokens: prefill, four tokens per pass over a row.
void coppice_q4_1_multiply(int blocks, const uint8_t *rows, size_t stride, int count, int tokens, const float *scales,
                           const int8_t *values, const int32_t *sums, float *y, size_t ldy);

/// Whether the VNNI variants run (the CPU has AVX-512-VNNI and the AVX2 ones are not preferred).
int coppice_quantized_dot_uses_vnni(void);

/// Interleaved Q4_0 / Q8_0 (Interleaved.c): `rows` (a multiple of 8) GGML rows of `blocks` blocks
/// (Q4_0 where `q4` ≠ 0) rearranged so that eight rows' blocks lie side by side; the same bytes.
void coppice_interleave(int q4, int rows, int blocks, const uint8_t *source, uint8_t *target);

/// Row `lane` (< 8) of one interleaved group back in GGML's layout (`blocks` GGML blocks).
void coppice_deinterleave_row(int q4, int blocks, const uint8_t *group, int lane, uint8_t *row);

/// y[t · ldy + 8g + r] = row 8g + r · x_t for `count` interleaved groups of 8 rows starting at `groups`
/// and `tokens` activation rows quantized to int8 blocks one after another (`scales[t · blocks + b]`,
/// `values[t · 32 · blocks …]`, `sums[t · blocks + b]`), as in `coppice_dot_rows`.
void coppice_q4_0x8_multiply(int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                             const int8_t *values, const int32_t *sums, float *y, size_t ldy);

/// The same for interleaved Q8_0 (the activations' sums are not needed); `shifted` holds the same
/// values + 128 (`coppice_shift_activations`), the unsigned operand of the VNNI kernel.
void coppice_q8_0x8_multiply(int blocks, const uint8_t *groups, int count, int tokens, const float *scales,
                             const int8_t *values, const uint8_t *shifted, float *y, size_t ldy);

/// shifted[i] = values[i] + 128 as unsigned bytes.
void coppice_shift_activations(const int8_t *values, size_t count, uint8_t *shifted);

/// y[r] = row r · x for `count` rows of `columns` F32 (`format` 0), F16 (1) or BF16 (2) values, `stride`
/// bytes apart (FloatRows.c; the vector kernel where `coppice_quantized_dot_available`).
void coppice_float_dot_rows(int format, const void *rows, size_t stride, int count, int columns, const float *x, float *y);

/// target[i] = source[i] widened to F32 for `count` values in those formats.
void coppice_float_widen(int format, const void *source, size_t count, float *target);

/// F32/F16/BF16 rows (a multiple of 8, `columns` a multiple of 8) rearranged in groups of eight rows,
/// each group eight rows' first 8 values, then their next 8, … (the same bytes).
void coppice_float_interleave(int format, int rows, int columns, const uint8_t *source, uint8_t *target);

/// y[8g + r] = row 8g + r · x for `count` interleaved groups starting at `groups`.
void coppice_float_dot_groups(int format, const void *groups, int count, int columns, const float *x, float *y);

/// Rows first ..< first + count of an interleaved matrix (`groups`: its first group) widened to F32,
/// row-major into `target`.
void coppice_float_widen_interleaved(int format, const void *groups, int first, int count, int columns, float *target);

/// y[t · ldy + r] = row r · token t for `count` rows of `columns` values in `format` (row r at `rows` +
/// r · `stride` bytes; where `interleaved`, `count` a multiple of 8 and `rows` the first group) and
/// `tokens` activation rows: `x` (t · columns), or where `pairs` is not NULL and
/// `coppice_bf16_rows_available` (BF16 rows), x rounded to BF16 (t · 2⌈columns / 2⌉ values).
/// Register tiles of rows × tokens (FloatTiles.c), for a few tokens at a time.
void coppice_float_multiply(int format, const void *rows, size_t stride, int interleaved, int count, int columns, const float *x,
                            const uint16_t *pairs, int tokens, float *y, size_t ldy);

/// Whether BF16 rows (`format` 2 above) run on AVX512-BF16 (BF16Rows.c): the CPU has it and the AVX2
/// kernels are not preferred. Then x is rounded to BF16 first, as llama.cpp's BF16 rows do.
int coppice_bf16_rows_available(void);

/// `coppice_float_dot_rows` for BF16 rows with VDPBF16PS (only where `coppice_bf16_rows_available`).
void coppice_bf16_dot_rows(const void *rows, size_t stride, int count, int columns, const float *x, float *y);

/// `coppice_float_dot_groups` for BF16 groups with VDPBF16PS (only where `coppice_bf16_rows_available`).
void coppice_bf16_dot_groups(const void *groups, int count, int columns, const float *x, float *y);

#endif
