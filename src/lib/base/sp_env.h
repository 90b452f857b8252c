/* sp_env: the one place where the library reads its environment.
 *
 * An sp_env is a snapshot taken when a project is opened: the process
 * environment, then <project>/.env.local, then <project>/.env (first hit
 * wins).  Secrets ({{ tb_secret("NAME"[, "default"]) }}) and connection
 * overrides (SINKPIPE_CONNECTION__<connection>__<KEY>) resolve through it.
 * Values never leave through error messages. */
#ifndef SP_ENV_H
#define SP_ENV_H

#include "sinkpipe.h"

typedef struct sp_env sp_env;

/* sp_env_open: snapshot environ and read the .env files of project_dir
 * (missing files are fine; a malformed line is an error `path:line: ...`). */
int sp_env_open(const char *project_dir, sp_env **out, sp_error *err);
/* sp_env_new_empty: an environment with no variables (tests). */
sp_env *sp_env_new_empty(void);
void sp_env_free(sp_env *e);
/* sp_env_set: add or replace a variable (copied).  Used by tests and by
 * programs that inject variables. */
int sp_env_set(sp_env *e, const char *name, const char *value);
/* sp_env_get: value or NULL; owned by the env.  Settings are read through
 * sp_keys_env_*() (sp_keys.h), which check them against the key table. */
const char *sp_env_get(const sp_env *e, const char *name);

/* sp_env_resolve: copy `raw` into *out (heap, caller frees) with every
 * {{ tb_secret("NAME"[, "default"]) }} replaced by its value.  *is_secret is
 * set to 1 when any secret was used.  A missing secret without default is
 * SP_ESECRET naming the secret (never a value).  `where` prefixes errors
 * ("connections/x.connection:4: KAFKA_KEY"). */
int sp_env_resolve(const sp_env *e, const char *raw, const char *where, char **out,
                   int *is_secret, sp_error *err);

/* sp_env_conn_override: look up SINKPIPE_CONNECTION__<conn>__<key>.
 * Returns 1 and sets *value when set (an empty value means "remove the
 * key"), 0 when not set. */
int sp_env_conn_override(const sp_env *e, const char *conn, const char *key,
                         const char **value);

/* sp_env_each_override: call fn for every override variable naming `conn`
 * (so that overrides can add keys the file does not have). */
void sp_env_each_override(const sp_env *e, const char *conn,
                          void (*fn)(void *ud, const char *key, const char *value),
                          void *ud);

#endif
