/* sp_secret: the values that must never be shown, and the one scrubber
 * every message passes through before it is stored or shown.
 *
 * Registered: every value a {{ tb_secret('X') }} expanded to
 * (sp_env_resolve), whatever key it feeds, and every value of a secret key
 * (KAFKA_KEY, KAFKA_SECRET, S3_SECRET, ...).  With a value that looks like
 * addresses (has ',', ';' or ':'; not a JSON document or a PEM block) its
 * parts are registered too: the items of the list ("a:1,b:2"), and of each
 * item the address without scheme, user info or path ("host:port"), the
 * user info and its password, and the host alone, because client libraries
 * name those ("Could not resolve host: h", "h:9092/bootstrap: Connect
 * failed").
 *
 * The rule (docs/configuration.md, "Secrets"): an occurrence of a
 * registered value in a message becomes "***" when
 *   - the value is at least SP_SECRET_ANYWHERE characters long: wherever
 *     it occurs (such a value does not occur by chance), or
 *   - it is shorter: only as a whole token, i.e. when the value begins
 *     (ends) with a letter, digit or '_', the character before (after) it
 *     is not one.  A secret "ou" never turns "routine" into "r***tine";
 *     "SSL" in `"SSL" for "security.protocol"` is hidden.
 * Longer values are scrubbed first, so a value containing another is
 * hidden whole.
 *
 * sp_error_set scrubs every error message (ours, and the text of
 * librdkafka, libcurl, ClickHouse that errors carry); check diagnostics,
 * the daemon's log lines and API errors are scrubbed where they are made.
 *
 * The registry is process-wide: a message may be formed on any thread, by
 * any module, from any library's text, and a secret known to one part of
 * the process must be hidden in all of it.  It is append-only (duplicates
 * ignored), guarded by a mutex, and zeroed by sp_secret_forget_all. */
#ifndef SP_SECRET_H
#define SP_SECRET_H

#include <stddef.h>

#define SP_SECRET_ANYWHERE 12

/* sp_secret_register: remember `value` (copied; NULL or "" ignored) and its
 * parts.  Returns 0, or -1 when out of memory (the value is then not
 * registered). */
int sp_secret_register(const char *value);

/* sp_secret_scrub: replace the registered values (and `extra`, may be
 * NULL, as if registered) in the NUL-terminated `msg` of capacity `cap`.
 * When "***" is longer than a value and the text cannot grow, the end of
 * the message is cut (never a partial secret left). */
void sp_secret_scrub(char *msg, size_t cap, const char *extra);

/* sp_secret_forget_all: zero and drop every registered value (tests) */
void sp_secret_forget_all(void);

#endif
