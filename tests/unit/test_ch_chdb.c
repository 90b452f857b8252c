// sp-deps: sp_ch_chdb sp_ch_tsv sp_ch_text sp_ch_escape sp_type sp_batch sp_dtoa sp_time sp_buf sp_error
/* test_ch_chdb: the embedded transport's threads, against a stand-in
 * libchdb.so (tests/unit/fake_chdb.c, built beside this program): the
 * streamed query's prefetcher hands every chunk over in order, stops when
 * the consumer stops or the run is cancelled, reports an error chunk; the
 * streamed insert's pusher delivers every byte.  It runs under
 * ThreadSanitizer too (make tsan), which cannot host the real libchdb. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "sp_ch_conn.h"
#include "sp_error.h"
#include "sp_test.h"

static sp_ch_conn *conn;
static size_t (*fake_inserted)(void);

typedef struct {
    int chunks;       /* seen */
    int in_order;     /* chunk i began "i:" */
    size_t bytes;
    int stop_after;   /* return SP_ESINK after this many (0: never) */
    atomic_int *raise; /* raise this cancel flag at the second chunk */
} seen;

static int on_chunk(void *ud, const char *p, size_t n, sp_error *err)
{
    seen *s = ud;
    char want[16];
    int w = snprintf(want, sizeof want, "%d:", s->chunks);
    if (n < (size_t)w || memcmp(p, want, (size_t)w))
        s->in_order = 0;
    s->chunks++;
    s->bytes += n;
    if (s->raise && s->chunks == 2)
        atomic_store(s->raise, 1);
    if (s->stop_after && s->chunks >= s->stop_after)
        return sp_error_set(err, SP_ESINK, 0, "enough");
    return 0;
}

static int run(const char *sql, seen *s, atomic_int *cancel, sp_error *err)
{
    sp_ch_stmt st;
    memset(&st, 0, sizeof st);
    st.sql = sql;
    st.len = strlen(sql);
    st.format = "TabSeparated";
    st.read_only = 1;
    st.on_chunk = on_chunk;
    st.ud = s;
    st.cancel = cancel;
    s->in_order = 1;
    return conn->vt->run(conn, &st, err);
}

TEST(stream_in_order)
{
    seen s = { 0 };
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(run("SELECT 50", &s, NULL, &err), &err);
    CHECK_INT(s.chunks, 50);
    CHECK_INT(s.in_order, 1);
    CHECK_INT((long long)s.bytes, 50LL * 4096);
}

TEST(consumer_stops_early)
{
    seen s = { .stop_after = 3 };
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(run("SELECT 1000", &s, NULL, &err), SP_ESINK);
    CHECK_INT(s.chunks, 3);
    CHECK_STR(err.msg, "enough");
    /* the connection still serves the next statement */
    seen again = { 0 };
    sp_error_clear(&err);
    CHECK_OK(run("SELECT 2", &again, NULL, &err), &err);
    CHECK_INT(again.chunks, 2);
}

TEST(cancel_from_another_thread)
{
    atomic_int cancel = 0;
    seen s = { .raise = &cancel };
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(run("SELECT 100000", &s, &cancel, &err), SP_ECANCELLED);
    CHECK(s.chunks >= 2 && s.chunks < 100000);
}

TEST(error_chunk_is_reported)
{
    seen s = { 0 };
    sp_error err = SP_ERROR_INIT;
    int rc = run("SELECT 4 FAIL", &s, NULL, &err);
    CHECK(rc != 0);
    CHECK_INT(s.chunks, 4);
    CHECK(strstr(err.msg, "fake failure") != NULL);
}

TEST(streamed_insert_delivers_every_byte)
{
    sp_error err = SP_ERROR_INIT;
    void *h = NULL;
    size_t before = fake_inserted();
    const char *sql = "INSERT INTO t (a)";
    CHECK_OK(conn->vt->insert_open(conn, sql, strlen(sql), "RowBinary", &h, &err), &err);
    char row[1000];
    memset(row, 'r', sizeof row);
    for (int i = 0; i < 200; i++)
        CHECK_OK(conn->vt->insert_push(conn, h, row, sizeof row, &err), &err);
    CHECK_OK(conn->vt->insert_close(conn, h, 1, &err), &err);
    CHECK_INT((long long)(fake_inserted() - before), 200LL * 1000);
    /* abandoned: nothing committed */
    before = fake_inserted();
    CHECK_OK(conn->vt->insert_open(conn, sql, strlen(sql), "RowBinary", &h, &err), &err);
    CHECK_OK(conn->vt->insert_push(conn, h, row, sizeof row, &err), &err);
    CHECK_OK(conn->vt->insert_close(conn, h, 0, &err), &err);
    CHECK_INT((long long)(fake_inserted() - before), 0);
}

int main(void)
{
    /* the stand-in library lives beside this program */
    char exe[PATH_MAX], lib[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 1;
    exe[n] = '\0';
    snprintf(lib, sizeof lib, "%s/libfakechdb.so", dirname(exe));
    void *h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
    fake_inserted = h ? (size_t(*)(void))dlsym(h, "fake_chdb_inserted") : NULL;
    if (!fake_inserted) {
        printf("not ok - load %s\n", lib);
        return 1;
    }
    sp_chdb_opts o = { .library = lib, .path = "", .database = "t" };
    sp_error err = SP_ERROR_INIT;
    if (sp_ch_chdb_open(&o, &conn, &err) != 0) {
        printf("not ok - open: %s\n", err.msg);
        return 1;
    }
    RUN(stream_in_order);
    RUN(consumer_stops_early);
    RUN(cancel_from_another_thread);
    RUN(error_chunk_is_reported);
    RUN(streamed_insert_delivers_every_byte);
    conn->vt->close(conn);
    return sp_test_done();
}
