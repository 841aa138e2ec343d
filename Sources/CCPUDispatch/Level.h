// Shared by the `_level` entry points of this target (not part of the module's API).
#ifndef C_CPU_DISPATCH_LEVEL_H
#define C_CPU_DISPATCH_LEVEL_H
#include "CCPUDispatch.h"

/// The level a kernel runs: the one asked for, lowered to what this CPU supports.
static inline int coppice_level_supported(int level) {
    int supported = coppice_isa_hardware();
    return level < supported ? level : supported;
}

#endif
