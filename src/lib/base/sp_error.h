/* sp_error: error codes and the caller-owned error record.
 *
 * Every fallible library function takes an `sp_error *err` (may be NULL) and
 * returns 0 on success or a negative sp_code.  The first failure fills the
 * record; later calls to sp_error_set() on a record that already holds an
 * error do nothing ("first failure wins"), so the root cause survives the way
 * up.  Messages are one line, lowercase, no final full stop, and name the
 * file/key/object/host they are about.  They never contain secret values. */
#ifndef SP_ERROR_H
#define SP_ERROR_H

#include "sinkpipe.h"

/* sp_error_set: fill err (if not NULL and still empty) with code, retriable
 * flag and a printf-style message, truncated to fit.  Returns `code` so that
 * callers can write `return sp_error_set(err, SP_EIO, 0, "...")`. */
int sp_error_set(sp_error *err, int code, int retriable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* sp_error_prefix: prepend "prefix: " to an error already set (used to add
 * context such as the pipe name at a boundary).  No-op when err is empty. */
void sp_error_prefix(sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sp_cancelled: 1 when the cancel flag c (may be NULL) is raised.  The flag
 * is written by another thread (a job's canceller, a signal handler's
 * thread): it is read atomically, so the read is no data race. */
static inline int sp_cancelled(const volatile int *c)
{
    return c && __atomic_load_n(c, __ATOMIC_RELAXED) != 0;
}

#endif
