/* sp_engines: the engine registry — which engine a project runs on,
 * chosen by SINKPIPE_ENGINE (environment or the project's .env files).
 *
 * An entry owns everything about its engine kind: its SINKPIPE_ENGINE name,
 * a one-line doc, how it opens for a project and how `check` gets a
 * throw-away place to run the project's SQL.  Adding an engine is one new
 * file sp_engine_<word>.c defining `const sp_engine_backend
 * sp_engine_backend_<word>` and one word in SP_ENGINES below. */
#ifndef SP_ENGINES_H
#define SP_ENGINES_H

#include "sp_engine.h"

struct sp_env;

/* SP_ENGINES: the registry; the first entry is the default (unset or empty
 * SINKPIPE_ENGINE).  Each word w names the entry sp_engine_backend_<w>. */
#define SP_ENGINES(X) X(embedded) X(server)

typedef struct sp_engine_backend {
    const char *name; /* the SINKPIPE_ENGINE value: "embedded", "clickhouse" */
    const char *doc;  /* one line, for docs and errors */
    /* open: the engine of project p (its settings in env, borrowed); extra:
     * a further handle on the same data for a second thread of work (the
     * project's engine is open).  Datasources are not ensured here. */
    int (*open)(sp_project *p, const struct sp_env *env, int extra, sp_engine **out,
                sp_error *err);
    /* open_scratch: a throw-away database for `check` (dropped on close),
     * so that checking touches no data; NULL: check runs on the project's
     * engine itself (a server, whose missing tables check creates) */
    int (*open_scratch)(const struct sp_env *env, sp_engine **out, sp_error *err);
} sp_engine_backend;

#define SP_ENGINE_DECLARE_(w) extern const sp_engine_backend sp_engine_backend_##w;
SP_ENGINES(SP_ENGINE_DECLARE_)
#undef SP_ENGINE_DECLARE_

/* sp_engine_backend_find: by SINKPIPE_ENGINE name (exact); NULL when unknown */
const sp_engine_backend *sp_engine_backend_find(const char *name);
/* sp_engine_backend_names: "embedded, clickhouse" into buf (truncated to
 * bufsz); returns buf */
const char *sp_engine_backend_names(char *buf, size_t bufsz);
/* sp_engine_backend_for: the engine SINKPIPE_ENGINE names in env (unset or
 * empty: the default); SP_EINVAL naming the value and the choices */
int sp_engine_backend_for(const struct sp_env *env, const sp_engine_backend **out,
                          sp_error *err);

/* sp_engine_sock_path: <project>/.sinkpipe/engine.sock into out; 1 when a
 * daemon serves its embedded engine there (the socket exists) */
int sp_engine_sock_path(const sp_project *p, char *out, size_t outsz);

#endif
