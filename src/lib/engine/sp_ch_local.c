/* sp_ch_local: the embedded ClickHouse of a running daemon, served to the
 * project's other processes (`sinkpipe sql`, `append`, `run`, `check` beside
 * `sinkpipe serve`) over a unix socket in the project's state folder.
 *
 * chDB lets one process use a storage folder; the daemon holds it for its
 * whole life.  A CLI command that finds the folder held opens the engine
 * through this socket instead (sp_ch_http.c with unix_socket set), so it
 * runs the same statements on the same tables.  The socket speaks the part
 * of ClickHouse's HTTP interface that sp_ch_http.c uses:
 *
 *   POST /?default_format=F[&readonly=2][&query_id=ID][&name=value…]
 *        body: the statement; answer: its result in F, streamed
 *   POST /?query=INSERT … FORMAT F     body: the rows
 *   POST /kill?query_id=ID             stop that statement
 *
 * Errors are answered 500 with "SINKPIPE-ERROR <code> <retriable>\n<msg>",
 * which the client turns back into the same sp_error.  The socket is mode
 * 0600: who can use it can read the project's files anyway.  Each request
 * runs on a connection of a small pool (chDB: one statement at a time per
 * connection); a streamed answer is written by a worker thread into a pipe
 * that the HTTP server reads, so memory stays bounded by the pipe and one
 * chunk.  chDB sends each chunk as a whole document: the header of every
 * chunk after the first is cut, so the client sees one document. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_ch_conn.h"
#include "sp_ch_local.h"
#include "sp_error.h"
#include "sp_http.h"
#include "sp_banned.h"

#define LOCAL_MAX_BODY ((size_t)256 << 20) /* one insert batch, one statement */
#define POOL_MAX 16

struct sp_ch_local {
    sp_http *http;
    pthread_mutex_t mu;
    pthread_cond_t idle_cv; /* a worker ended */
    int workers;            /* streaming workers running */
    sp_ch_conn *idle[POOL_MAX];
    size_t nidle;
};

static int take_conn(sp_ch_local *l, sp_ch_conn **out, sp_error *err)
{
    pthread_mutex_lock(&l->mu);
    if (l->nidle) {
        *out = l->idle[--l->nidle];
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    pthread_mutex_unlock(&l->mu);
    sp_chdb_opts o = { 0 };
    o.settings = sp_ch_embedded_settings; /* as the daemon's own engine */
    return sp_ch_chdb_open(&o, out, err);
}

static void give_conn(sp_ch_local *l, sp_ch_conn *c)
{
    pthread_mutex_lock(&l->mu);
    if (l->nidle < POOL_MAX) {
        l->idle[l->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&l->mu);
    if (c)
        c->vt->close(c);
}

static void answer_error(sp_http_resp *resp, const sp_error *e)
{
    sp_buf b = SP_BUF_INIT(8192);
    if (!sp_buf_addf(&b, NULL, "SINKPIPE-ERROR %d %d\n%s", e->code ? e->code : SP_EENGINE,
                     e->retriable, e->msg))
        resp->body = sp_buf_detach(&b);
    sp_buf_release(&b);
    resp->len = resp->body ? strlen(resp->body) : 0;
    resp->status = 500;
    resp->content_type = "text/plain";
}

/* ------------------------------------------------------------ statements */

typedef struct args {
    sp_buf sql;
    const char *format, *query_id;
    int read_only, insert;
    char *settings[33];
    size_t nsettings;
    int bad;
} args;

static void on_arg(void *ud, const char *name, const char *value)
{
    args *a = ud;
    if (!strcmp(name, "query")) {
        /* INSERT … FORMAT F: the format apart */
        const char *f = strstr(value, " FORMAT ");
        size_t n = strlen(value);
        if (f) {
            n = (size_t)(f - value);
            a->format = f + 8;
        }
        sp_buf_reset(&a->sql);
        if (sp_buf_add(&a->sql, value, n, NULL))
            a->bad = 1;
        a->insert = 1;
    } else if (!strcmp(name, "default_format")) {
        a->format = value;
    } else if (!strcmp(name, "readonly")) {
        a->read_only = strcmp(value, "0") != 0;
    } else if (!strcmp(name, "query_id")) {
        a->query_id = value;
    } else if (!strcmp(name, "database") || !strcmp(name, "allow_experimental_low_cardinality_type")) {
        /* the daemon's own database; a setting for old servers */
    } else if (a->nsettings < 32) {
        size_t n = strlen(name) + strlen(value) + 2;
        char *nv = malloc(n);
        if (!nv) {
            a->bad = 1;
            return;
        }
        snprintf(nv, n, "%s=%s", name, value);
        a->settings[a->nsettings++] = nv;
    } else {
        a->bad = 1;
    }
}

static void args_release(args *a)
{
    sp_buf_release(&a->sql);
    for (size_t i = 0; i < a->nsettings; i++)
        free(a->settings[i]);
}

/* a streamed answer: the worker runs the statement and writes its bytes
 * into the pipe; the handler waits until the first bytes are ready (or the
 * statement ended) to choose the status */
typedef struct job {
    sp_ch_local *l;
    sp_ch_conn *c;
    args a;
    sp_ch_stmt st;
    int wfd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, done, refs;
    int rc;
    sp_error err;
    int chunks;   /* chunks seen */
    int skip;     /* header lines still to cut from this chunk */
} job;

static void job_unref(job *j)
{
    pthread_mutex_lock(&j->mu);
    int last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    args_release(&j->a);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static int write_all(int fd, const char *p, size_t n, sp_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sp_error_set(err, SP_ECANCELLED, 0, "the client went away");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int header_lines(const char *format)
{
    size_t n = strlen(format);
    if (n >= 17 && !strcmp(format + n - 17, "WithNamesAndTypes"))
        return 2;
    if (n >= 9 && !strcmp(format + n - 9, "WithNames"))
        return 1;
    return 0;
}

static int job_chunk(void *ud, const char *p, size_t n, sp_error *err)
{
    job *j = ud;
    if (!j->started) {
        pthread_mutex_lock(&j->mu);
        j->started = 1;
        pthread_cond_broadcast(&j->cv);
        pthread_mutex_unlock(&j->mu);
    }
    if (j->chunks++ > 0) {
        /* a further whole document: its header goes */
        int skip = header_lines(j->st.format ? j->st.format : "");
        while (skip-- > 0 && n) {
            const char *nl = memchr(p, '\n', n);
            if (!nl)
                return sp_error_set(err, SP_EENGINE, 0, "a result chunk without its header");
            n -= (size_t)(nl + 1 - p);
            p = nl + 1;
        }
    }
    return write_all(j->wfd, p, n, err);
}

static void *job_main(void *ud)
{
    job *j = ud;
    /* a client that goes away must not kill the process with SIGPIPE: this
     * thread's writes get EPIPE instead (the process's own handling of
     * signals is the program's, not the library's) */
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);
    j->rc = j->c->vt->run(j->c, &j->st, &j->err);
    if (j->rc && j->started) {
        /* the answer began with 200: the error follows it, as ClickHouse
         * servers report one (sp_ch_tsv recognises the line) */
        sp_buf b = SP_BUF_INIT(8192);
        if (!sp_buf_addf(&b, NULL, "\nCode: 1000. DB::Exception: %s\n", j->err.msg))
            write_all(j->wfd, b.data, b.len, NULL);
        sp_buf_release(&b);
    }
    close(j->wfd);
    if (j->rc && j->rc != SP_ECANCELLED && j->rc != SP_ESQL) {
        j->c->vt->close(j->c); /* the connection may be broken */
    } else {
        give_conn(j->l, j->c);
    }
    j->c = NULL;
    sp_ch_local *l = j->l;
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_unref(j);
    pthread_mutex_lock(&l->mu);
    l->workers--;
    pthread_cond_broadcast(&l->idle_cv);
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static void handle(void *ud, const sp_http_req *req, sp_http_resp *resp)
{
    sp_ch_local *l = ud;
    sp_error err = SP_ERROR_INIT;
    job *j = calloc(1, sizeof *j);
    if (!j) {
        sp_error_set(&err, SP_ENOMEM, 0, "out of memory");
        answer_error(resp, &err);
        return;
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->refs = 1;
    j->l = l;
    sp_buf_init(&j->a.sql, LOCAL_MAX_BODY);
    sp_http_each_query(req, on_arg, &j->a);
    size_t blen = 0;
    const char *body = sp_http_body(req, &blen);
    if (!strcmp(sp_http_path(req), "/kill")) {
        sp_ch_conn *c = NULL;
        if (j->a.query_id && !take_conn(l, &c, &err)) {
            c->vt->kill(c, j->a.query_id);
            give_conn(l, c);
        }
        resp->status = 200;
        job_unref(j);
        return;
    }
    if (j->a.bad) {
        sp_error_set(&err, SP_EINVAL, 0, "embedded clickhouse socket: bad request");
        answer_error(resp, &err);
        job_unref(j);
        return;
    }
    sp_ch_stmt *st = &j->st;
    if (j->a.insert) {
        st->data = body;
        st->datalen = blen;
    } else if (sp_buf_add(&j->a.sql, body, blen, &err)) {
        answer_error(resp, &err);
        job_unref(j);
        return;
    }
    st->sql = j->a.sql.data ? j->a.sql.data : "";
    st->len = j->a.sql.len;
    st->format = j->a.format;
    st->read_only = j->a.read_only;
    st->query_id = j->a.query_id;
    j->a.settings[j->a.nsettings] = NULL;
    st->settings = (const char *const *)j->a.settings;
    if (take_conn(l, &j->c, &err)) {
        answer_error(resp, &err);
        job_unref(j);
        return;
    }
    /* DESCRIBE (<sql>) as the HTTP transport sends it: the chDB transport
     * answers it whole (chDB streams only SELECTs), guarding <sql> */
    static const char dpre[] = "DESCRIBE (\n", dsuf[] = "\n)";
    if (!j->a.insert && st->read_only && st->len >= sizeof dpre + sizeof dsuf - 2 &&
        !memcmp(st->sql, dpre, sizeof dpre - 1) &&
        !memcmp(st->sql + st->len - (sizeof dsuf - 1), dsuf, sizeof dsuf - 1)) {
        st->sql += sizeof dpre - 1;
        st->len -= sizeof dpre - 1 + sizeof dsuf - 1;
        st->describe = 1;
    }
    if (j->a.insert || !st->read_only || st->describe) {
        /* DDL, inserts and DESCRIBE: answered whole */
        sp_buf out = SP_BUF_INIT((size_t)64 << 20);
        st->on_chunk = j->a.insert ? NULL : sp_buf_add_cb;
        st->ud = &out;
        int rc = j->c->vt->run(j->c, st, &err);
        give_conn(l, j->c);
        if (rc) {
            answer_error(resp, &err);
        } else {
            resp->status = 200;
            resp->content_type = "text/plain";
            resp->len = out.len;
            resp->body = out.len ? sp_buf_detach(&out) : NULL;
        }
        sp_buf_release(&out);
        job_unref(j);
        return;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        give_conn(l, j->c);
        sp_error_set(&err, SP_EIO, 1, "cannot create a pipe: %s", strerror(errno));
        answer_error(resp, &err);
        job_unref(j);
        return;
    }
    j->wfd = fds[1];
    st->on_chunk = job_chunk;
    st->ud = j;
    j->refs = 2;
    pthread_t th;
    pthread_mutex_lock(&l->mu);
    l->workers++;
    pthread_mutex_unlock(&l->mu);
    if (pthread_create(&th, NULL, job_main, j) != 0) {
        pthread_mutex_lock(&l->mu);
        l->workers--;
        pthread_mutex_unlock(&l->mu);
        close(fds[0]);
        close(fds[1]);
        give_conn(l, j->c);
        j->refs = 1;
        sp_error_set(&err, SP_EIO, 1, "cannot start a thread");
        answer_error(resp, &err);
        job_unref(j);
        return;
    }
    pthread_detach(th);
    pthread_mutex_lock(&j->mu);
    while (!j->started && !j->done)
        pthread_cond_wait(&j->cv, &j->mu);
    int failed = !j->started && j->rc;
    pthread_mutex_unlock(&j->mu);
    if (failed) {
        close(fds[0]);
        answer_error(resp, &j->err);
    } else {
        resp->status = 200;
        resp->content_type = "text/plain";
        resp->stream_fd = fds[0];
    }
    job_unref(j);
}

int sp_ch_local_start(const char *sock_path, sp_ch_local **out, sp_error *err)
{
    *out = NULL;
    sp_ch_local *l = calloc(1, sizeof *l);
    if (!l)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->idle_cv, NULL);
    int rc = sp_http_start_unix(sock_path, LOCAL_MAX_BODY, handle, l, &l->http, err);
    if (rc) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->idle_cv);
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void sp_ch_local_stop(sp_ch_local *l)
{
    if (!l)
        return;
    sp_http_stop(l->http);
    /* the HTTP side is closed: a worker still writing gets EPIPE and ends */
    pthread_mutex_lock(&l->mu);
    while (l->workers > 0)
        pthread_cond_wait(&l->idle_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < l->nidle; i++)
        l->idle[i]->vt->close(l->idle[i]);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->idle_cv);
    free(l);
}
