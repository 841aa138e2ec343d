#ifndef C_FLOAT_FORMATS_H
#define C_FLOAT_FORMATS_H

#include "CCPUDispatch.h"
#include <stddef.h>
#include <stdint.h>

/* Shared by the float row kernels (FloatRows.c, FloatTiles.c, BF16Rows.c); formats 0: F32, 1: F16, 2: BF16. */

/* One value widened, the portable way (tails and CPUs without the vector kernels). */
static inline float widen(int format, const void *w, size_t j) {
    if (format == 0) return ((const float *)w)[j];
    uint16_t bits = ((const uint16_t *)w)[j];
    if (format == 1) {
        _Float16 h;
        __builtin_memcpy(&h, &bits, 2);
        return (float)h;
    }
    uint32_t wide = (uint32_t)bits << 16;
    float f;
    __builtin_memcpy(&f, &wide, 4);
    return f;
}

static inline size_t element_size(int format) { return format == 0 ? 4 : 2; }

/* Whether the AVX-512 decode rows (FloatRows.c, BF16Rows.c) prefetch 2 KB ahead: on Intel CPUs, not
   on AMD ones (FloatRows.c says why). */
int coppice_rows_prefetch(void);

#endif
