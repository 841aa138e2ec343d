// Coppice's shim over the few MPI calls it needs, with Open MPI loaded at run time (libmpi.so.40):
// a process that mpirun did not start never loads MPI, so one-process runs need no MPI installed.
// Every collective is the non-blocking form polled against a deadline, so a rank that died or hangs
// turns into an error on the others instead of a hang. Calls return 0 on success; otherwise the
// message (the call, this rank, MPI's error string or the timeout) is in `error`.
#ifndef COPPICE_CMPI_H
#define COPPICE_CMPI_H

#include <stddef.h>

/// Whether an MPI launcher (mpirun, srun with PMI) started this process.
int coppice_mpi_launched(void);
/// Loads libmpi and calls MPI_Init_thread (funneled); sets MPI_ERRORS_RETURN on the world communicator;
/// MPI_Finalize runs at exit.
int coppice_mpi_init(char *error, size_t length);
int coppice_mpi_rank(void);
int coppice_mpi_size(void);
/// This host's name as MPI reports it.
void coppice_mpi_processor_name(char *name, size_t length);

int coppice_mpi_barrier(double timeout, char *error, size_t length);
/// `bytes` bytes of `buffer` from `root` to every rank.
int coppice_mpi_broadcast(void *buffer, long bytes, int root, double timeout, char *error, size_t length);
/// In place: `op` 0 sum, 1 max, over `count` floats.
int coppice_mpi_allreduce_floats(float *buffer, long count, int op, double timeout, char *error, size_t length);
/// Same, over doubles.
int coppice_mpi_allreduce_doubles(double *buffer, long count, int op, double timeout, char *error, size_t length);
/// Every rank's `count` floats of `send`, in rank order, into `receive` (size × count).
int coppice_mpi_allgather_floats(const float *send, int count, float *receive, double timeout, char *error, size_t length);
/// One int to and from each rank (`send` and `receive` hold size ints).
int coppice_mpi_alltoall_ints(const int *send, int *receive, double timeout, char *error, size_t length);
/// MPI_Alltoallv on floats (counts and displacements in floats, one per rank).
int coppice_mpi_alltoallv_floats(const float *send, const int *sendCounts, const int *sendOffsets, float *receive,
                                 const int *receiveCounts, const int *receiveOffsets, double timeout, char *error, size_t length);

/// Marks this run failed: at exit the rank calls MPI_Abort (ending the others) instead of MPI_Finalize.
/// Set by any failed collective; call it on any other error that ends the process.
void coppice_mpi_mark_failed(void);
/// MPI_Abort on the world communicator (ends every rank).
void coppice_mpi_abort(int code);
void coppice_mpi_finalize(void);

#endif
