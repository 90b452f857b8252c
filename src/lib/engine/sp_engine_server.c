/* sp_engine_server: the "clickhouse" entry of the engine registry
 * (sp_engines.h): a ClickHouse server over HTTP, named by
 * SINKPIPE_CLICKHOUSE_URL (_USER, _PASSWORD, _DATABASE, _SETTINGS).
 * "{project}" in the database stands for one database per project folder
 * (sp_<hash of its path>), created when missing.  `check` runs on the
 * project's server itself (creating its missing tables: a deploy). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_engines.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_banned.h"

static int open_server(sp_project *p, const sp_env *env, int extra, sp_engine **out,
                       sp_error *err)
{
    (void)extra; /* every handle is another connection to the same server */
    sp_clickhouse_opts co = { sp_keys_env_get(env, "SINKPIPE_CLICKHOUSE_URL"),
                              sp_keys_env_get(env, "SINKPIPE_CLICKHOUSE_USER"),
                              sp_keys_env_get(env, "SINKPIPE_CLICKHOUSE_PASSWORD"),
                              sp_keys_env_get(env, "SINKPIPE_CLICKHOUSE_DATABASE"),
                              sp_keys_env_get(env, "SINKPIPE_CLICKHOUSE_SETTINGS"), NULL, 0 };
    char db[256];
    const char *tpl = co.database ? strstr(co.database, "{project}") : NULL;
    if (tpl) {
        char dir[PATH_MAX];
        if (!realpath(p->dir ? p->dir : ".", dir))
            snprintf(dir, sizeof dir, "%s", p->dir ? p->dir : ".");
        uint64_t h = 1469598103934665603ULL;
        for (const char *c = dir; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        snprintf(db, sizeof db, "%.*ssp_%012llx%.100s", (int)(tpl - co.database),
                 co.database, (unsigned long long)(h & 0xffffffffffffULL), tpl + 9);
        co.database = db;
        co.create_database = 1;
    }
    return sp_engine_clickhouse_open(&co, out, err);
}

const sp_engine_backend sp_engine_backend_server = {
    .name = "clickhouse",
    .doc = "a ClickHouse server over HTTP (SINKPIPE_CLICKHOUSE_URL)",
    .open = open_server,
};
