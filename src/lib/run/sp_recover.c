/* sp_recover: what dead runs left, undone by the backend that journaled it
 * — see sp_recover.h. */
#include "sp_recover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_journal.h"
#include "sp_model.h"
#include "sp_oplog.h"
#include "sp_sink.h"
#include "sp_store_for.h"
#include "sp_banned.h"

#define WHAT_BYTES 1400

typedef struct recover_ctx {
    sp_project *p;
    json_t *report;
    sp_oplog *log;
} recover_ctx;

static const char *sget(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* dead_cfg: the sink configuration a dead run wrote through, rebuilt from
 * its journal's first line: its connection (resolved now, by name) and
 * bucket URI.  Release with sp_sinkcfg_release. */
static int dead_cfg(sp_project *p, const json_t *run, sp_sinkcfg *cfg, sp_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->conn_type = SP_CONN_S3;
    cfg->connection_name = sget(run, "connection");
    const char *b = sget(run, "bucket_uri");
    if (b && !(cfg->bucket_uri = strdup(b)))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    if (!cfg->connection_name)
        return 0;
    const sp_connection *c = sp_project_find_connection(p, cfg->connection_name);
    if (!c)
        return sp_error_set(err, SP_ENOTFOUND, 0,
                            "connection '%s' is no longer defined: kept until it is",
                            cfg->connection_name);
    cfg->conn_type = c->type;
    const sp_env *env = NULL;
    int rc = sp_project_env(p, &env, err);
    if (!rc)
        rc = sp_connection_resolve(c, env, &cfg->conn, err);
    cfg->env = env;
    return rc;
}

/* undo: one leftover through its backend; what is filled on success */
static int undo(sp_project *p, const sp_leftover *l, char *what, size_t whatsz, sp_error *err)
{
    const char *store = sget(l->entry, "store");
    const sp_store_backend *sb = NULL;
    sp_sinkcfg cfg;
    int rc = dead_cfg(p, l->run, &cfg, err);
    const sp_sink_vt *kvt = sp_sink_for_journal(store);
    if (!rc && kvt) {
        rc = kvt->recover(&cfg, sp_project_dir(p), l, what, whatsz, err);
    } else if (!rc && store && (sb = sp_store_backend_find(store))) {
        sp_store_dest d;
        memset(&d, 0, sizeof d);
        if (!cfg.bucket_uri)
            rc = sp_error_set(err, SP_EINVAL, 0, "journal of the run names no bucket URI");
        /* a folder is opened as a dry run would: one that is gone is not
         * created again (and held nothing of the run any more) */
        sp_store_conf sc = { cfg.bucket_uri, cfg.connection_name, cfg.conn_type, &cfg.conn,
                             cfg.env };
        if (!rc)
            rc = sp_store_open_for(&sc, sb->folder, &d, err);
        if (!rc && !d.store)
            snprintf(what, whatsz, "the folder of %s is gone: nothing left", cfg.bucket_uri);
        else if (!rc && (!d.store->vt->recover || strcmp(d.store->vt->name, store) != 0))
            rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                              "the %s store of '%s' cannot undo a '%s' entry",
                              d.store->vt->name, cfg.bucket_uri, store);
        if (!rc && d.store)
            rc = d.store->vt->recover(d.store, l->entry, what, whatsz, err);
        sp_store_dest_release(&d);
    } else if (!rc) {
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0, "unknown journal entry (store '%s')",
                          store ? store : "");
    }
    sp_sinkcfg_release(&cfg);
    return rc;
}

static json_t *item(const sp_leftover *l)
{
    json_t *o = json_object();
    const char *s;
    json_object_set_new(o, "job_id", json_string((s = sget(l->run, "job_id")) ? s : ""));
    json_object_set_new(o, "pipe", json_string((s = sget(l->run, "pipe")) ? s : ""));
    json_object_set_new(o, "store", json_string((s = sget(l->entry, "store")) ? s : ""));
    return o;
}

static int on_leftover(void *ud, const sp_leftover *l)
{
    recover_ctx *c = ud;
    char what[WHAT_BYTES] = "";
    sp_error e = SP_ERROR_INIT;
    int rc = undo(c->p, l, what, sizeof what, &e);
    json_t *o = item(l);
    json_object_set_new(o, rc ? "error" : "cleaned", json_string(rc ? e.msg : what));
    if (!rc && c->log) {
        json_t *rec = json_object();
        char ts[32];
        json_object_set_new(rec, "event", json_string("cleaned"));
        json_object_set_new(rec, "timestamp",
                            json_string(sp_time_text((int64_t)time(NULL), ts, sizeof ts)));
        json_object_set(rec, "job_id", json_object_get(o, "job_id"));
        json_object_set(rec, "pipe_name", json_object_get(o, "pipe"));
        json_object_set(rec, "store", json_object_get(o, "store"));
        json_object_set_new(rec, "cleaned", json_string(what));
        json_object_set_new(rec, "by_pid", json_integer((json_int_t)getpid()));
        (void)sp_oplog_append(c->log, rec, NULL);
        json_decref(rec);
    }
    json_array_append_new(c->report, o);
    return rc;
}

int sp_recover_dead_runs(sp_project *p, json_t **report, sp_error *err)
{
    if (report)
        *report = NULL;
    recover_ctx c = { p, json_array(), NULL };
    const char *dir = sp_project_dir(p);
    (void)sp_oplog_open(dir, &c.log, NULL); /* unrecorded cleanup still cleans */
    int rc = sp_journal_recover(dir, 0, on_leftover, &c, err);
    if (c.log)
        sp_oplog_close(c.log);
    if (report && !rc)
        *report = c.report;
    else
        json_decref(c.report);
    return rc;
}

static int on_pending(void *ud, const sp_leftover *l)
{
    json_t *o = item(l);
    const json_t *e = l->entry;
    const char *s;
    char obj[2200];
    if ((s = sget(e, "tmp")))
        snprintf(obj, sizeof obj, "temp file %s", s);
    else if ((s = sget(e, "transactional_id")))
        snprintf(obj, sizeof obj, "transaction of %s", s);
    else
        snprintf(obj, sizeof obj, "multipart upload %s of %s%s",
                 sget(e, "upload_id") ? sget(e, "upload_id") : "(id not journaled)",
                 sget(e, "bucket") ? sget(e, "bucket") : "", sget(e, "key") ? sget(e, "key") : "");
    json_object_set_new(o, "object", json_string(obj));
    json_array_append_new(ud, o);
    return 1;
}

json_t *sp_recover_pending(const char *dir)
{
    json_t *arr = json_array();
    (void)sp_journal_recover(dir, 1, on_pending, arr, NULL);
    return arr;
}

typedef struct cleaned_tail {
    json_t *arr;
    size_t limit;
} cleaned_tail;

static int on_oplog(void *ud, json_t *rec)
{
    cleaned_tail *t = ud;
    const char *ev = sget(rec, "event");
    if (!ev || strcmp(ev, "cleaned") != 0)
        return 0;
    json_t *o = json_object();
    json_object_set(o, "job_id", json_object_get(rec, "job_id"));
    json_object_set(o, "pipe", json_object_get(rec, "pipe_name"));
    json_object_set(o, "store", json_object_get(rec, "store"));
    json_object_set(o, "cleaned", json_object_get(rec, "cleaned"));
    json_object_set(o, "at", json_object_get(rec, "timestamp"));
    json_array_append_new(t->arr, o);
    if (t->limit && json_array_size(t->arr) > t->limit)
        json_array_remove(t->arr, 0);
    return 0;
}

char *sp_cleanup_json(const char *dir, size_t limit, sp_error *err)
{
    char path[4096];
    sp_oplog_path(dir, path, sizeof path);
    cleaned_tail t = { json_array(), limit };
    int rc = sp_oplog_each(path, on_oplog, &t, err);
    json_t *o = json_object();
    json_object_set_new(o, "pending", sp_recover_pending(dir));
    json_object_set_new(o, "cleaned", t.arr);
    char *txt = rc ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!rc && !txt)
        sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return txt;
}
