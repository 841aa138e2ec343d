// Open MPI 4.x through dlopen. The handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are, in Open MPI's
// ABI, the addresses of exported globals (mpi.h: `#define MPI_COMM_WORLD ((MPI_Comm) &ompi_mpi_comm_world)`),
// and MPI_Comm, MPI_Datatype, MPI_Op and MPI_Request are pointers; MPI_STATUS_IGNORE is NULL and
// MPI_IN_PLACE is (void *) 1. So no mpi.h is needed to build, and nothing of MPI to run one process.
#include "CMPI.h"
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *Handle;
#define IN_PLACE ((void *)1)
enum { THREAD_FUNNELED = 1, MAX_ERROR_STRING = 256 };

static struct {
    int (*initialized)(int *);
    int (*initThread)(int *, char ***, int, int *);
    int (*finalize)(void);
    int (*rank)(Handle, int *);
    int (*size)(Handle, int *);
    int (*processorName)(char *, int *);
    int (*setErrhandler)(Handle, Handle);
    int (*errorString)(int, char *, int *);
    int (*abort)(Handle, int);
    int (*test)(Handle *, int *, void *);
    int (*ibarrier)(Handle, Handle *);
    int (*ibcast)(void *, int, Handle, int, Handle, Handle *);
    int (*iallreduce)(const void *, void *, int, Handle, Handle, Handle, Handle *);
    int (*iallgather)(const void *, int, Handle, void *, int, Handle, Handle, Handle *);
    int (*ialltoallv)(const void *, const int *, const int *, Handle, void *, const int *, const int *, Handle, Handle, Handle *);
    int (*ialltoall)(const void *, int, Handle, void *, int, Handle, Handle, Handle *);
    Handle world, floats, doubles, bytes, ints, sum, max, errorsReturn;
} mpi;
static int worldRank = -1, worldSize = 1, failed = 0;

int coppice_mpi_launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMI_SIZE") != NULL || getenv("PMIX_RANK") != NULL;
}

static int fail(char *error, size_t length, const char *call, int code) {
    failed = 1;
    char text[MAX_ERROR_STRING] = "";
    int textLength = 0;
    if (mpi.errorString && code > 0) mpi.errorString(code, text, &textLength);
    snprintf(error, length, "%s failed on rank %d: %s (MPI error %d)", call, worldRank, text[0] ? text : "no message", code);
    return code ? code : -1;
}

// At exit: MPI_Finalize after a clean run; after a failure MPI_Abort, which ends the other ranks too
// (MPI_Finalize would wait for ranks that may never arrive).
static void finishAtExit(void) {
    if (worldRank < 0) return;
    if (failed) mpi.abort(mpi.world, 1);
    mpi.finalize();
}

void coppice_mpi_mark_failed(void) { failed = 1; }

int coppice_mpi_init(char *error, size_t length) {
    if (worldRank >= 0) return 0;
    // RTLD_GLOBAL: Open MPI's own plugins resolve their symbols against libmpi.
    void *library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
        snprintf(error, length, "cannot load Open MPI's libmpi.so.40 (%s); install openmpi-bin (scripts/setup.sh does)", dlerror());
        return -1;
    }
#define LOAD(field, symbol)                                                                                                     \
    if (!(*(void **)&mpi.field = dlsym(library, symbol))) {                                                                     \
        snprintf(error, length, "libmpi.so.40 has no %s: Coppice reads Open MPI 4's interface", symbol);                       \
        return -1;                                                                                                              \
    }
    LOAD(initialized, "MPI_Initialized") LOAD(initThread, "MPI_Init_thread") LOAD(finalize, "MPI_Finalize")
    LOAD(rank, "MPI_Comm_rank") LOAD(size, "MPI_Comm_size") LOAD(processorName, "MPI_Get_processor_name")
    LOAD(setErrhandler, "MPI_Comm_set_errhandler") LOAD(errorString, "MPI_Error_string") LOAD(abort, "MPI_Abort")
    LOAD(test, "MPI_Test") LOAD(ibarrier, "MPI_Ibarrier") LOAD(ibcast, "MPI_Ibcast") LOAD(iallreduce, "MPI_Iallreduce")
    LOAD(iallgather, "MPI_Iallgather") LOAD(ialltoallv, "MPI_Ialltoallv") LOAD(ialltoall, "MPI_Ialltoall")
    LOAD(world, "ompi_mpi_comm_world") LOAD(floats, "ompi_mpi_float") LOAD(doubles, "ompi_mpi_double")
    LOAD(bytes, "ompi_mpi_byte") LOAD(ints, "ompi_mpi_int") LOAD(sum, "ompi_mpi_op_sum") LOAD(max, "ompi_mpi_op_max")
    LOAD(errorsReturn, "ompi_mpi_errors_return")
#undef LOAD
    int ready = 0, provided = 0, code;
    mpi.initialized(&ready);
    if (!ready && (code = mpi.initThread(NULL, NULL, THREAD_FUNNELED, &provided))) return fail(error, length, "MPI_Init_thread", code);
    if ((code = mpi.setErrhandler(mpi.world, mpi.errorsReturn))) return fail(error, length, "MPI_Comm_set_errhandler", code);
    if ((code = mpi.rank(mpi.world, &worldRank)) || (code = mpi.size(mpi.world, &worldSize))) {
        return fail(error, length, "MPI_Comm_rank/size", code);
    }
    atexit(finishAtExit);
    return 0;
}

int coppice_mpi_rank(void) { return worldRank < 0 ? 0 : worldRank; }
int coppice_mpi_size(void) { return worldSize; }

void coppice_mpi_processor_name(char *name, size_t length) {
    char buffer[256] = "";
    int count = 0;
    if (worldRank >= 0) mpi.processorName(buffer, &count);
    snprintf(name, length, "%s", buffer);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Polls the request until it completes or `timeout` seconds pass. Open MPI moves a non-blocking
// collective forward only inside MPI calls, so the first second polls without pause (as a blocking
// call would); after that the rank waits on a slow or dead peer and sleeps between polls.
static int await(Handle *request, const char *call, double timeout, char *error, size_t length) {
    double start = now();
    for (;;) {
        int done = 0, code = mpi.test(request, &done, NULL);
        if (code) return fail(error, length, call, code);
        if (done) return 0;
        double waited = now() - start;
        if (waited > timeout) {
            snprintf(error, length, "%s timed out on rank %d after %.0f s: another rank stopped or is far behind", call, worldRank,
                     waited);
            failed = 1;
            return -1;
        }
        if (waited > 1.0) {
            struct timespec pause = {0, 200000};
            nanosleep(&pause, NULL);
        } else {
            sched_yield();
        }
    }
}

static int notReady(char *error, size_t length, const char *call) {
    snprintf(error, length, "%s before coppice_mpi_init", call);
    return -1;
}

#define START(call, expression)                                                                                                 \
    if (worldRank < 0) return notReady(error, length, call);                                                                    \
    Handle request = NULL;                                                                                                      \
    int code = (expression);                                                                                                    \
    if (code) return fail(error, length, call, code);                                                                           \
    return await(&request, call, timeout, error, length);

int coppice_mpi_barrier(double timeout, char *error, size_t length) { START("MPI_Ibarrier", mpi.ibarrier(mpi.world, &request)) }

int coppice_mpi_broadcast(void *buffer, long bytes, int root, double timeout, char *error, size_t length) {
    if (bytes > 0x7fffffffL) return fail(error, length, "MPI_Ibcast (over 2 GiB)", -1);
    START("MPI_Ibcast", mpi.ibcast(buffer, (int)bytes, mpi.bytes, root, mpi.world, &request))
}

int coppice_mpi_allreduce_floats(float *buffer, long count, int op, double timeout, char *error, size_t length) {
    if (count > 0x7fffffffL) return fail(error, length, "MPI_Iallreduce (over 2^31 values)", -1);
    START("MPI_Iallreduce", mpi.iallreduce(IN_PLACE, buffer, (int)count, mpi.floats, op ? mpi.max : mpi.sum, mpi.world, &request))
}

int coppice_mpi_allreduce_doubles(double *buffer, long count, int op, double timeout, char *error, size_t length) {
    if (count > 0x7fffffffL) return fail(error, length, "MPI_Iallreduce (over 2^31 values)", -1);
    START("MPI_Iallreduce", mpi.iallreduce(IN_PLACE, buffer, (int)count, mpi.doubles, op ? mpi.max : mpi.sum, mpi.world, &request))
}

int coppice_mpi_allgather_floats(const float *send, int count, float *receive, double timeout, char *error, size_t length) {
    START("MPI_Iallgather", mpi.iallgather(send, count, mpi.floats, receive, count, mpi.floats, mpi.world, &request))
}

int coppice_mpi_alltoallv_floats(const float *send, const int *sendCounts, const int *sendOffsets, float *receive,
                                 const int *receiveCounts, const int *receiveOffsets, double timeout, char *error, size_t length) {
    START("MPI_Ialltoallv", mpi.ialltoallv(send, sendCounts, sendOffsets, mpi.floats, receive, receiveCounts, receiveOffsets,
                                           mpi.floats, mpi.world, &request))
}

int coppice_mpi_alltoall_ints(const int *send, int *receive, double timeout, char *error, size_t length) {
    START("MPI_Ialltoall", mpi.ialltoall(send, 1, mpi.ints, receive, 1, mpi.ints, mpi.world, &request))
}

void coppice_mpi_abort(int code) {
    if (worldRank >= 0) mpi.abort(mpi.world, code);
    exit(code);
}

void coppice_mpi_finalize(void) {
    if (worldRank >= 0) mpi.finalize();
    worldRank = -1;
}
