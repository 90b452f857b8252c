/* fake_chdb: a stand-in libchdb.so for test_ch_chdb, with the part of
 * chDB's C API that sp_ch_chdb.c loads.  It lets the embedded transport's
 * threads (the streamed query's prefetcher, the streamed insert's pusher)
 * run under ThreadSanitizer, which cannot host the real libchdb.
 *
 * Every statement succeeds with an empty answer, but for streamed ones:
 *   SELECT <n>        n chunks, chunk i holding CHUNK bytes "<i>:..." then
 *                     the end (an empty chunk)
 *   SELECT <n> FAIL   n chunks then a chunk carrying an error
 * A stream must be fetched from one thread only (as chDB requires): a
 * fetch from another thread aborts.  Streamed inserts count their bytes;
 * fake_chdb_inserted() tells the total committed. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

typedef struct chdb_result_ {
    char *buf;
    size_t len;
    const char *error;
    /* a stream's head */
    int is_stream, chunks, next, fail, cancelled, fetched;
    pthread_t fetcher;
} chdb_result;
typedef struct chdb_connection_ {
    int open;
} *chdb_connection;
typedef struct chdb_insert_stream_ {
    size_t bytes;
} *chdb_insert_stream;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static size_t inserted;

size_t fake_chdb_inserted(void);
size_t fake_chdb_inserted(void)
{
    pthread_mutex_lock(&mu);
    size_t n = inserted;
    pthread_mutex_unlock(&mu);
    return n;
}

/* the prototypes of chDB's API (sp_ch_chdb.c declares the same) */
const char *chdb_version(void);
void chdb_set_signal_handlers_enabled(int on);
chdb_connection *chdb_connect(int argc, char **argv);
void chdb_close_conn(chdb_connection *c);
chdb_result *chdb_query_n(chdb_connection c, const char *q, size_t n, const char *f, size_t fn);
chdb_result *chdb_stream_query_n(chdb_connection c, const char *q, size_t n, const char *f,
                                 size_t fn);
chdb_result *chdb_stream_fetch_result(chdb_connection c, chdb_result *h);
void chdb_stream_cancel_query(chdb_connection c, chdb_result *h);
void chdb_destroy_query_result(chdb_result *r);
chdb_insert_stream chdb_stream_insert_n(chdb_connection c, const char *q, size_t n,
                                        const char *f, size_t fn);
int chdb_stream_append(chdb_insert_stream s, const void *p, size_t n);
chdb_result *chdb_stream_done(chdb_insert_stream s);
const char *chdb_stream_insert_error(chdb_insert_stream s);
void chdb_destroy_insert_stream(chdb_insert_stream s);
void chdb_stream_cancel_insert(chdb_insert_stream s);
char *chdb_result_buffer(chdb_result *r);
size_t chdb_result_length(chdb_result *r);
const char *chdb_result_error(chdb_result *r);
uint64_t chdb_result_rows_read(chdb_result *r);
uint64_t chdb_result_bytes_read(chdb_result *r);
int chdb_classify_query_n(chdb_connection c, const char *q, size_t n, const char *f, size_t fn,
                          void *out);

const char *chdb_version(void)
{
    return "26.7.0-fake";
}

void chdb_set_signal_handlers_enabled(int on)
{
    (void)on;
}

chdb_connection *chdb_connect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    chdb_connection *c = malloc(sizeof *c);
    if (c && !(*c = calloc(1, sizeof **c))) {
        free(c);
        return NULL;
    }
    return c;
}

void chdb_close_conn(chdb_connection *c)
{
    if (c) {
        free(*c);
        free(c);
    }
}

static chdb_result *result(size_t len)
{
    chdb_result *r = calloc(1, sizeof *r);
    if (r && len && !(r->buf = malloc(len))) {
        free(r);
        return NULL;
    }
    if (r)
        r->len = len;
    return r;
}

chdb_result *chdb_query_n(chdb_connection c, const char *q, size_t n, const char *f, size_t fn)
{
    (void)c, (void)q, (void)n, (void)f, (void)fn;
    return result(0);
}

chdb_result *chdb_stream_query_n(chdb_connection c, const char *q, size_t n, const char *f,
                                 size_t fn)
{
    (void)c, (void)f, (void)fn;
    chdb_result *h = result(0);
    if (!h)
        return NULL;
    char sql[256];
    snprintf(sql, sizeof sql, "%.*s", (int)(n < 255 ? n : 255), q);
    h->is_stream = 1;
    h->chunks = (int)strtol(sql + (strncmp(sql, "SELECT ", 7) ? 0 : 7), NULL, 10);
    h->fail = strstr(sql, "FAIL") != NULL;
    return h;
}

chdb_result *chdb_stream_fetch_result(chdb_connection c, chdb_result *h)
{
    (void)c;
    if (!h->fetched) {
        h->fetched = 1;
        h->fetcher = pthread_self();
    } else if (!pthread_equal(h->fetcher, pthread_self())) {
        abort(); /* chDB's rule: one thread per stream */
    }
    if (h->cancelled || h->next >= h->chunks) {
        chdb_result *r = result(0);
        if (r && h->fail && !h->cancelled)
            r->error = "Code: 395. DB::Exception: fake failure after the chunks. (FAKE)";
        return r;
    }
    chdb_result *r = result(CHUNK);
    if (r) {
        memset(r->buf, '.', CHUNK);
        int w = snprintf(r->buf, CHUNK, "%d:", h->next);
        r->buf[w] = '.';
    }
    h->next++;
    return r;
}

void chdb_stream_cancel_query(chdb_connection c, chdb_result *h)
{
    (void)c;
    h->cancelled = 1;
}

void chdb_destroy_query_result(chdb_result *r)
{
    if (r) {
        free(r->buf);
        free(r);
    }
}

chdb_insert_stream chdb_stream_insert_n(chdb_connection c, const char *q, size_t n,
                                        const char *f, size_t fn)
{
    (void)c, (void)q, (void)n, (void)f, (void)fn;
    return calloc(1, sizeof(struct chdb_insert_stream_));
}

int chdb_stream_append(chdb_insert_stream s, const void *p, size_t n)
{
    (void)p;
    s->bytes += n;
    return 0;
}

chdb_result *chdb_stream_done(chdb_insert_stream s)
{
    pthread_mutex_lock(&mu);
    inserted += s->bytes;
    pthread_mutex_unlock(&mu);
    return result(0);
}

const char *chdb_stream_insert_error(chdb_insert_stream s)
{
    (void)s;
    return NULL;
}

void chdb_destroy_insert_stream(chdb_insert_stream s)
{
    free(s);
}

void chdb_stream_cancel_insert(chdb_insert_stream s)
{
    s->bytes = 0;
}

char *chdb_result_buffer(chdb_result *r)
{
    return r->buf;
}

size_t chdb_result_length(chdb_result *r)
{
    return r->len;
}

const char *chdb_result_error(chdb_result *r)
{
    return r->error;
}

uint64_t chdb_result_rows_read(chdb_result *r)
{
    (void)r;
    return 0;
}

uint64_t chdb_result_bytes_read(chdb_result *r)
{
    return r->len;
}

int chdb_classify_query_n(chdb_connection c, const char *q, size_t n, const char *f, size_t fn,
                          void *out)
{
    (void)c, (void)q, (void)n, (void)f, (void)fn;
    uint32_t *an = out; /* struct_size, statement_count, flags, query_class */
    an[1] = 1;
    an[3] = 0;
    return 0;
}
