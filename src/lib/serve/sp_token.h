/* sp_token: the daemon's tokens.
 *
 * The admin token is SINKPIPE_ADMIN_TOKEN when set; otherwise one is
 * created at the first start and only its SHA-256 is stored (in
 * <project>/.sinkpipe/tokens.json).  Every `TOKEN name READ` (or `OVERRIDE`)
 * line of a pipe and `TOKEN name APPEND` line of a datasource names a
 * token: its value is SINKPIPE_TOKEN_<name> when set, else created the same
 * way.  Values created now are handed back once, to be shown to the
 * operator; they are never stored, logged or put in an error.  Presented tokens are hashed and
 * compared in constant time. */
#ifndef SP_TOKEN_H
#define SP_TOKEN_H

#include "sinkpipe.h"

typedef struct sp_tokens sp_tokens;

/* sp_tokens_load: the tokens of project p.  *created (may be NULL) receives
 * "name value\n" lines of the tokens created by this call (heap, caller
 * frees; NULL when none). */
int sp_tokens_load(sp_project *p, sp_tokens **out, char **created, sp_error *err);
void sp_tokens_free(sp_tokens *t);

/* sp_tokens_check: the name of the token whose value is `value` (owned by
 * t), or NULL. */
const char *sp_tokens_check(const sp_tokens *t, const char *value);
int sp_tokens_is_admin(const sp_tokens *t, const char *name);
/* sp_tokens_allows: the admin, or token `name` has `scope` on `resource` (a
 * pipe or datasource name; NULL: never).  Scopes: READ (run a pipe with
 * parameters, see its jobs), OVERRIDE (READ, and override the pipe's sink
 * for one run: format, compression, file_template, write_strategy), APPEND
 * (send events to a datasource).  OVERRIDE implies READ. */
int sp_tokens_allows(const sp_tokens *t, const char *name, const char *scope,
                     const char *resource);

#endif
