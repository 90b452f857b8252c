/* sp_engine_embedded: the "embedded" entry of the engine registry
 * (sp_engines.h): ClickHouse in this process (chDB), its data in
 * <project>/.sinkpipe/clickhouse/.  When a running daemon holds that folder,
 * the project's engine is the daemon's, through its
 * .sinkpipe/engine.sock.  `check` runs in a throw-away database of it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_engines.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_oplog.h"
#include "sp_keys_env.h"
#include "sp_banned.h"

static int ensure_dir(const char *path, sp_error *err)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", path,
                        strerror(errno));
}

int sp_engine_sock_path(const sp_project *p, char *out, size_t outsz)
{
    char dir[PATH_MAX];
    if (!realpath(p->dir ? p->dir : ".", dir))
        return 0;
    snprintf(out, outsz, "%s/.sinkpipe/engine.sock", dir);
    struct stat st;
    return stat(out, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int open_embedded(sp_project *p, const sp_env *env, int extra, sp_engine **out,
                         sp_error *err)
{
    sp_engine *e = NULL;
    sp_buf path = SP_BUF_INIT(4096);
    int rc = sp_buf_addf(&path, err, "%s/.sinkpipe", p->dir ? p->dir : ".");
    if (!rc)
        rc = ensure_dir(path.data, err);
    char abs[PATH_MAX] = "";
    if (!rc && !realpath(path.data, abs))
        rc = sp_error_set(err, SP_EIO, 0, "cannot resolve '%s': %s", path.data,
                          strerror(errno));
    sp_buf_reset(&path);
    if (!rc)
        rc = sp_buf_addf(&path, err, "%s/clickhouse", abs);
    if (!rc) {
        /* the jobs' journal, created empty so that its view always reads */
        char log[4096];
        sp_oplog_path(p->dir, log, sizeof log);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            close(fd);
            if (realpath(log, abs))
                snprintf(log, sizeof log, "%s", abs);
        }
        sp_embedded_opts o = { sp_keys_env_get(env, "SINKPIPE_LIBCHDB"), extra ? NULL : path.data,
                               NULL, 0, fd >= 0 && !extra ? log : NULL };
        rc = sp_engine_embedded_open(&o, &e, err);
    }
    /* held by a running daemon: through its socket */
    char sock[PATH_MAX + 32];
    if (rc == SP_EBUSY && sp_engine_sock_path(p, sock, sizeof sock)) {
        sp_error_clear(err);
        sp_clickhouse_opts co = { "http://localhost/", NULL, NULL, NULL, NULL, sock, 0 };
        rc = sp_engine_clickhouse_open(&co, &e, err);
    }
    sp_buf_release(&path);
    *out = e;
    return rc;
}

/* a throw-away database of the embedded ClickHouse, in the folder this
 * process already uses or in memory: the project's data is not touched,
 * nor locked */
static int open_scratch(const sp_env *env, sp_engine **out, sp_error *err)
{
    char scratch[64];
    static _Atomic unsigned long seq;
    snprintf(scratch, sizeof scratch, "_sinkpipe_check_%ld_%lu", (long)getpid(), ++seq);
    sp_embedded_opts eo = { sp_keys_env_get(env, "SINKPIPE_LIBCHDB"), NULL, scratch, 1, NULL };
    return sp_engine_embedded_open(&eo, out, err);
}

const sp_engine_backend sp_engine_backend_embedded = {
    .name = "embedded",
    .doc = "ClickHouse in this process (chDB), data in <project>/.sinkpipe/clickhouse/",
    .open = open_embedded,
    .open_scratch = open_scratch,
};
