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

#include <stdarg.h>

#include <stdatomic.h>

#include "sinkpipe.h"

/* Whether a failure may pass if the same call is made again (docs/errors.md).
 * The `retriable` argument of sp_error_set is one of: */
#define SP_BYCODE 0    /* the class of the code: sp_code_retriable() */
#define SP_RETRIABLE 1 /* this failure is transient: a retry may succeed */
#define SP_FATAL (-1)  /* retrying the same call cannot help */

/* sp_code_retriable: the class of a code when the site knows no better: 1
 * for SP_ENET (network failures, timeouts) and SP_EBUSY (held by another
 * process or still running), 0 (fatal) for every other code. */
int sp_code_retriable(int code);

/* sp_error_set: fill err (if not NULL and still empty) with code, the
 * retriable flag (SP_BYCODE, SP_RETRIABLE or SP_FATAL; any other positive
 * value counts as SP_RETRIABLE, any negative one as SP_FATAL) and a
 * printf-style message, truncated to fit.  Returns `code` so that callers
 * can write `return sp_error_set(err, SP_EIO, 0, "...")`. */
int sp_error_set(sp_error *err, int code, int retriable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* sp_error_set_pipe: sp_error_set for a message that names `pipe` (it says
 * so in its text: "pipe 'x'…"); records it in err->pipe when this call set
 * the error.  Returns `code`. */
int sp_error_set_pipe(sp_error *err, const char *pipe, int code, int retriable,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* sp_error_vset: sp_error_set with a va_list. */
int sp_error_vset(sp_error *err, int code, int retriable, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* sp_error_locate: record where the error err holds points (path may be
 * NULL, key may be NULL), unless it already has a place.  No-op when err
 * is NULL or empty. */
void sp_error_locate(sp_error *err, const char *path, int line, const char *key);

/* sp_error_name_pipe: record that the message of the error err holds names
 * `pipe` (after sp_error_prefix(err, "pipe '%s'…", pipe)), unless it names
 * one already.  No-op when err is NULL or empty. */
void sp_error_name_pipe(sp_error *err, const char *pipe);

/* sp_error_flag: src's classification as an argument for sp_error_set, so
 * that a copy keeps it (SP_RETRIABLE or SP_FATAL, never SP_BYCODE). */
static inline int sp_error_flag(const sp_error *src)
{
    return src->retriable ? SP_RETRIABLE : SP_FATAL;
}

/* sp_error_head_len: the length of "connection '<conn>': <key><sep>", the
 * head of a connection error's message before its reason (key and sep may
 * be NULL).  For `check`, which shows the reason under its own head, so
 * that it is cut by length, never found by reading the message. */
size_t sp_error_head_len(const char *conn, const char *key, const char *sep);

/* sp_error_copy: fill err (if not NULL and still empty) with src's code,
 * flag and message (src must hold an error).  Returns src->code. */
int sp_error_copy(sp_error *err, const sp_error *src);

/* sp_error_prefix: prepend "prefix: " to an error already set (used to add
 * context such as the pipe name at a boundary).  No-op when err is empty. */
void sp_error_prefix(sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sp_cancelled: 1 when the cancel flag c (may be NULL) is raised.  The flag
 * is written by another thread (a job's canceller, a signal handler's
 * thread): it is read atomically, so the read is no data race. */
static inline int sp_cancelled(const atomic_int *c)
{
    return c && atomic_load_explicit(c, memory_order_relaxed) != 0;
}

#endif
