#ifndef C_QUANTIZED_DOT_H
#define C_QUANTIZED_DOT_H

#include <stdint.h>

/// Integer dot products of ggml's Q4_0 / Q8_0 weight blocks (32 weights, an F16 scale each) with
/// activations quantized to int8 in blocks of 32 (`scales[b]`, `values[32 b ..< 32 b + 32]`), as
/// llama.cpp decodes: 32 multiply-adds per AVX2 instruction pair instead of widening every weight
/// to F32. Swift cannot reach these instructions, hence this small C target.

/// Whether the AVX2 kernels run on this CPU (x86-64 with AVX2, FMA and F16C); callers fall back
/// to their own F32 path when not.
int coppice_quantized_dot_available(void);

/// Σ over `blocks` blocks of row · x, the row stored as Q4_0 (18 bytes a block).
float coppice_dot_q4_0(int blocks, const uint8_t *row, const float *scales, const int8_t *values);

/// The same for a row stored as Q8_0 (34 bytes a block).
float coppice_dot_q8_0(int blocks, const uint8_t *row, const float *scales, const int8_t *values);

#endif
