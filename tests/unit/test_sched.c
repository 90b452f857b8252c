// sp-deps: sp_buf sp_error sp_cron sp_clock sp_sched sp_time
/* test_sched: the scheduler on a fake clock — fire sequences of every cron
 * form (lists, ranges, steps, names, macros), month ends, leap days, the
 * logical time of each fire, skipped fires, @once across restarts and
 * definition changes, catch-up of missed fires, and the scheduler thread
 * driven by the fake clock (also run under ThreadSanitizer: make tsan). */
#include <pthread.h>
#include <unistd.h>

#include "sp_sched.h"
#include "sp_test.h"

/* ------------------------------------------------------------ fake clock */

typedef struct fake_clock {
    sp_clock base;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t now;
    int woken;
    int sleeping;
} fake_clock;

static int64_t fc_now(sp_clock *b)
{
    fake_clock *c = (fake_clock *)b;
    pthread_mutex_lock(&c->mu);
    int64_t t = c->now;
    pthread_mutex_unlock(&c->mu);
    return t;
}

static void fc_sleep(sp_clock *b, int64_t deadline)
{
    fake_clock *c = (fake_clock *)b;
    pthread_mutex_lock(&c->mu);
    c->sleeping++;
    pthread_cond_broadcast(&c->cv);
    while (!c->woken && c->now < deadline)
        pthread_cond_wait(&c->cv, &c->mu);
    c->woken = 0;
    c->sleeping--;
    pthread_mutex_unlock(&c->mu);
}

static void fc_wake(sp_clock *b)
{
    fake_clock *c = (fake_clock *)b;
    pthread_mutex_lock(&c->mu);
    c->woken = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void fc_set(fake_clock *c, int64_t t)
{
    pthread_mutex_lock(&c->mu);
    c->now = t;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void fc_init(fake_clock *c, int64_t t)
{
    memset(c, 0, sizeof *c);
    c->base.now = fc_now;
    c->base.sleep_until = fc_sleep;
    c->base.wake = fc_wake;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->now = t;
}

static void fc_destroy(fake_clock *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

/* ---------------------------------------------------------- fire record */

#define MAXF 512
typedef struct fires {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char pipe[MAXF][32];
    int64_t t[MAXF];
    char why[MAXF][16];
    int n;
    int busy; /* answer SP_EEXIST */
} fires;

static int on_fire(void *ud, const char *pipe, int64_t logical, const char *why)
{
    fires *f = ud;
    pthread_mutex_lock(&f->mu);
    int rc = f->busy ? SP_EEXIST : 0;
    if (!rc && f->n < MAXF) {
        snprintf(f->pipe[f->n], sizeof f->pipe[0], "%s", pipe);
        snprintf(f->why[f->n], sizeof f->why[0], "%s", why);
        f->t[f->n++] = logical;
    }
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void fires_init(fires *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
}

static int fires_n(fires *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->n;
    pthread_mutex_unlock(&f->mu);
    return n;
}

static void fires_destroy(fires *f)
{
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
}

/* UTC seconds of a date and time */
static int64_t T(int y, int mo, int d, int h, int mi)
{
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60;
}

/* Drive one schedule from `from` to `to` by ticking at every deadline the
 * scheduler returns (as its thread would) and compare the fires. */
static void expect_fires(const char *schedule, int64_t from, int64_t to, const int64_t *want,
                         int nwant)
{
    fake_clock c;
    fc_init(&c, from);
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_sched *s = NULL;
    struct sp_sched_opts o = { &c.base, NULL, 0, 0, on_fire, &f };
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    sp_sched_pipe p = { "p", schedule, "h1" };
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    int64_t now = from;
    for (int guard = 0; guard < 10000 && now <= to; guard++) {
        int64_t next = sp_sched_tick(s, now);
        if (next == INT64_MAX || next > to)
            break;
        CHECK(next > now);
        now = next;
    }
    if (f.n != nwant)
        SP_T_FAIL("'%s': %d fires, want %d", schedule, f.n, nwant);
    for (int i = 0; i < f.n && i < nwant; i++)
        if (f.t[i] != want[i])
            SP_T_FAIL("'%s': fire %d at %lld, want %lld", schedule, i, (long long)f.t[i],
                      (long long)want[i]);
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

#define EXPECT(sched, from, to, ...)                                                  \
    do {                                                                              \
        const int64_t w_[] = { __VA_ARGS__ };                                         \
        expect_fires(sched, from, to, w_, (int)(sizeof w_ / sizeof w_[0]));           \
    } while (0)

TEST(field_forms)
{
    int64_t d = T(2026, 11, 30, 0, 0); /* a Monday */
    EXPECT("*/15 * * * *", d + 1, d + 3600, d + 900, d + 1800, d + 2700, d + 3600);
    EXPECT("5,7 * * * *", d, d + 600, d + 300, d + 420);
    EXPECT("10-12 0 * * *", d, d + 86400, d + 600, d + 660, d + 720);
    EXPECT("0-30/10 1 * * *", d, d + 86400, d + 3600, d + 4200, d + 4800, d + 5400);
    EXPECT("0 9-17/4 * * *", d, d + 86399, d + 9 * 3600, d + 13 * 3600, d + 17 * 3600);
    /* names: Tuesday and Thursday of that week (Dec 1 and Dec 3) */
    EXPECT("30 6 * * TUE,thu", d, d + 5 * 86400, T(2026, 12, 1, 6, 30), T(2026, 12, 3, 6, 30));
    EXPECT("0 0 1 jan,JUL *", d, T(2027, 12, 31, 0, 0), T(2027, 1, 1, 0, 0), T(2027, 7, 1, 0, 0));
    /* dom and dow both restricted: either matches (Vixie cron) */
    EXPECT("0 0 2 * MON", d + 1, T(2026, 12, 15, 0, 0), T(2026, 12, 2, 0, 0), T(2026, 12, 7, 0, 0),
           T(2026, 12, 14, 0, 0));
    /* Sunday as 0 and 7 */
    EXPECT("0 12 * * 7", d, T(2026, 12, 14, 0, 0), T(2026, 12, 6, 12, 0), T(2026, 12, 13, 12, 0));
}

TEST(macros)
{
    int64_t d = T(2026, 11, 30, 0, 0);
    EXPECT("@hourly", d + 1, d + 3 * 3600, d + 3600, d + 7200, d + 10800);
    EXPECT("@daily", d + 1, d + 2 * 86400, d + 86400, d + 2 * 86400);
    EXPECT("@weekly", d, T(2026, 12, 14, 0, 0), T(2026, 12, 6, 0, 0), T(2026, 12, 13, 0, 0));
    EXPECT("@monthly", d, T(2027, 2, 1, 0, 0), T(2026, 12, 1, 0, 0), T(2027, 1, 1, 0, 0),
           T(2027, 2, 1, 0, 0));
    EXPECT("@yearly", d, T(2028, 1, 1, 0, 0), T(2027, 1, 1, 0, 0), T(2028, 1, 1, 0, 0));
}

TEST(month_ends_and_leap_days)
{
    /* the 31st: only months that have one */
    EXPECT("0 0 31 * *", T(2026, 1, 1, 0, 0), T(2026, 9, 1, 0, 0), T(2026, 1, 31, 0, 0),
           T(2026, 3, 31, 0, 0), T(2026, 5, 31, 0, 0), T(2026, 7, 31, 0, 0),
           T(2026, 8, 31, 0, 0));
    /* Feb 29: the next leap year */
    EXPECT("0 0 29 2 *", T(2026, 11, 30, 0, 0), T(2033, 1, 1, 0, 0), T(2028, 2, 29, 0, 0),
           T(2032, 2, 29, 0, 0));
    /* end of a leap February into March */
    EXPECT("0 12 28-31 2,3 *", T(2028, 2, 27, 0, 0), T(2028, 3, 2, 0, 0), T(2028, 2, 28, 12, 0),
           T(2028, 2, 29, 12, 0));
    /* year end */
    EXPECT("59 23 31 12 *", T(2026, 12, 31, 0, 0), T(2028, 1, 1, 0, 0), T(2026, 12, 31, 23, 59),
           T(2027, 12, 31, 23, 59));
}

TEST(never_fires)
{
    fake_clock c;
    fc_init(&c, T(2026, 1, 1, 0, 0));
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_sched *s = NULL;
    struct sp_sched_opts o = { &c.base, NULL, 0, 0, on_fire, &f };
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    /* 30 February never comes: refused (issue 13), naming the pipe */
    sp_sched_pipe feb30 = { "feb30", "0 0 30 2 *", "h" };
    CHECK_INT(sp_sched_set(s, &feb30, 1, &err), SP_EDEF);
    CHECK(strstr(err.msg, "pipe 'feb30'") != NULL && strstr(err.msg, "never fires") != NULL);
    sp_error_clear(&err);
    sp_sched_pipe p[] = { { "od", "@on-demand", "h" } };
    CHECK_OK(sp_sched_set(s, p, 1, &err), &err);
    CHECK(sp_sched_tick(s, T(2026, 1, 1, 0, 0)) == INT64_MAX);
    CHECK_INT(sp_sched_next(s, "feb30"), -1);
    CHECK_INT(sp_sched_next(s, "od"), -1);
    CHECK_INT(f.n, 0);
    /* a bad expression changes nothing and names the pipe */
    sp_sched_pipe bad = { "x", "61 * * * *", "h" };
    CHECK_INT(sp_sched_set(s, &bad, 1, &err), SP_EDEF);
    CHECK(strstr(err.msg, "pipe 'x'") != NULL);
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

TEST(logical_time_is_the_slot)
{
    fake_clock c;
    fc_init(&c, T(2026, 11, 30, 0, 59));
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_sched *s = NULL;
    struct sp_sched_opts o = { &c.base, NULL, 0, 0, on_fire, &f };
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    sp_sched_pipe p = { "daily", "0 1 * * *", "h" };
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    CHECK_INT(sp_sched_tick(s, T(2026, 11, 30, 0, 59)), T(2026, 11, 30, 1, 0));
    CHECK_INT(sp_sched_next(s, "daily"), T(2026, 11, 30, 1, 0));
    /* the tick comes 37 s late: the job still names 01:00 */
    sp_sched_tick(s, T(2026, 11, 30, 1, 0) + 37);
    CHECK_INT(f.n, 1);
    CHECK_INT(f.t[0], T(2026, 11, 30, 1, 0));
    CHECK_STR(f.why[0], "cron");
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

TEST(due_from_the_start)
{
    /* the daemon started at 00:59:50 but its first tick comes at 01:03:10
     * (a slow start-up): the slots since the start are due */
    fake_clock c;
    int64_t t0 = T(2026, 11, 30, 0, 59) + 50;
    fc_init(&c, t0);
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_sched *s = NULL;
    struct sp_sched_opts o = { &c.base, NULL, 0, t0, on_fire, &f };
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    sp_sched_pipe p = { "h", "0 1 * * *", "x" };
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    sp_sched_tick(s, t0 + 200);
    CHECK_INT(f.n, 1);
    CHECK_INT(f.t[0], T(2026, 11, 30, 1, 0));
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

TEST(busy_fires_are_skipped)
{
    fake_clock c;
    fc_init(&c, T(2026, 11, 30, 0, 0));
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    sp_sched *s = NULL;
    struct sp_sched_opts o = { &c.base, NULL, 0, 0, on_fire, &f };
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    sp_sched_pipe p = { "m", "* * * * *", "h" };
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    int64_t t0 = T(2026, 11, 30, 0, 0);
    sp_sched_tick(s, t0 + 60);
    f.busy = 1;
    sp_sched_tick(s, t0 + 120);
    sp_sched_tick(s, t0 + 180);
    f.busy = 0;
    sp_sched_tick(s, t0 + 240);
    CHECK_INT(f.n, 2);
    CHECK_INT(f.t[0], t0 + 60);
    CHECK_INT(f.t[1], t0 + 240);
    CHECK_INT(sp_sched_fired(s), 2);
    CHECK_INT(sp_sched_skipped(s), 2);
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

static char g_dir[256];

static void state_path(char *buf, size_t n)
{
    snprintf(buf, n, "%s/schedule.json", g_dir);
}

TEST(once_per_definition)
{
    char path[300];
    state_path(path, sizeof path);
    unlink(path);
    fake_clock c;
    fc_init(&c, T(2026, 11, 30, 10, 0) + 42);
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    struct sp_sched_opts o = { &c.base, path, 0, 0, on_fire, &f };
    sp_sched_pipe p = { "o", "@once", "hash-A" };
    for (int round = 0; round < 2; round++) { /* a restart in between */
        sp_sched *s = NULL;
        CHECK_OK(sp_sched_new(&o, &s, &err), &err);
        CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
        CHECK(sp_sched_tick(s, c.now) == INT64_MAX);
        CHECK(sp_sched_tick(s, c.now + 3600) == INT64_MAX);
        sp_sched_free(s);
    }
    CHECK_INT(f.n, 1);
    CHECK_INT(f.t[0], T(2026, 11, 30, 10, 0)); /* the minute */
    CHECK_STR(f.why[0], "once");
    /* busy: retried a minute later, then runs */
    p.def_hash = "hash-B";
    sp_sched *s = NULL;
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    f.busy = 1;
    CHECK_INT(sp_sched_tick(s, c.now), c.now + 60);
    f.busy = 0;
    sp_sched_tick(s, c.now + 60);
    CHECK_INT(f.n, 2);
    CHECK_INT(sp_sched_next(s, "o"), -1);
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

static void catch_up_case(int catch_up)
{
    char path[300];
    state_path(path, sizeof path);
    unlink(path);
    fake_clock c;
    int64_t t0 = T(2026, 11, 30, 10, 0);
    fc_init(&c, t0);
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    struct sp_sched_opts o = { &c.base, path, catch_up, 0, on_fire, &f };
    sp_sched_pipe p = { "h", "@hourly", "x" };
    sp_sched *s = NULL;
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    sp_sched_tick(s, t0); /* fires 10:00 */
    sp_sched_free(s);
    /* down from 10:00:30 to 13:30 (11:00, 12:00, 13:00 missed) */
    s = NULL;
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    CHECK_INT(sp_sched_tick(s, t0 + 3 * 3600 + 1800), t0 + 4 * 3600);
    sp_sched_tick(s, t0 + 4 * 3600);
    sp_sched_free(s);
    if (catch_up) {
        CHECK_INT(f.n, 3);
        CHECK_INT(f.t[1], t0 + 3 * 3600);
        CHECK_STR(f.why[1], "catch-up");
        CHECK_INT(f.t[2], t0 + 4 * 3600);
    } else {
        CHECK_INT(f.n, 2);
        CHECK_INT(f.t[0], t0);
        CHECK_INT(f.t[1], t0 + 4 * 3600);
    }
    fires_destroy(&f);
    fc_destroy(&c);
}

TEST(missed_fires_run_once_with_catch_up)
{
    catch_up_case(1);
}

TEST(missed_fires_dropped_without_catch_up)
{
    catch_up_case(0);
}

TEST(reload_keeps_state)
{
    fake_clock c;
    int64_t t0 = T(2026, 11, 30, 10, 0);
    fc_init(&c, t0);
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    struct sp_sched_opts o = { &c.base, NULL, 1, 0, on_fire, &f };
    sp_sched *s = NULL;
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    sp_sched_pipe p = { "a", "*/10 * * * *", "x" };
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    sp_sched_tick(s, t0 + 600);
    /* same pipe, new schedule: continues from its last slot, no catch-up */
    p.schedule = "*/5 * * * *";
    CHECK_OK(sp_sched_set(s, &p, 1, &err), &err);
    sp_sched_tick(s, t0 + 900);
    CHECK_INT(f.n, 2);
    CHECK_INT(f.t[0], t0 + 600);
    CHECK_INT(f.t[1], t0 + 900);
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

/* the thread, driven by the fake clock: wait (with a deadline, real time)
 * for each fire after moving the clock */
static int wait_fires(fires *f, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    while (f->n < n && rc == 0)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &ts);
    int got = f->n;
    pthread_mutex_unlock(&f->mu);
    return got >= n;
}

TEST(thread_on_fake_clock)
{
    /* half past the minute, and due from t0 whenever the thread's first
     * tick comes: the fires do not depend on thread timing */
    fake_clock c;
    int64_t t0 = T(2028, 2, 28, 23, 58) + 30;
    fc_init(&c, t0);
    fires f;
    fires_init(&f);
    sp_error err = SP_ERROR_INIT;
    struct sp_sched_opts o = { &c.base, NULL, 0, t0, on_fire, &f };
    sp_sched *s = NULL;
    CHECK_OK(sp_sched_new(&o, &s, &err), &err);
    sp_sched_pipe p[] = { { "every", "* * * * *", "x" }, { "leap", "0 0 29 2 *", "y" } };
    CHECK_OK(sp_sched_set(s, p, 2, &err), &err);
    CHECK_OK(sp_sched_start(s, &err), &err);
    for (int m = 1; m <= 4; m++) {
        fc_set(&c, t0 + m * 60);
        int want = m + (m >= 2 ? 1 : 0); /* 00:00 on Feb 29: both */
        CHECK(wait_fires(&f, want));
    }
    /* a reload while running, then stop */
    CHECK_OK(sp_sched_set(s, p, 1, &err), &err);
    fc_set(&c, t0 + 5 * 60);
    CHECK(wait_fires(&f, 6));
    sp_sched_stop(s);
    int n = fires_n(&f);
    CHECK_INT(n, 6);
    pthread_mutex_lock(&f.mu);
    int leap = 0;
    for (int i = 0; i < f.n; i++)
        if (!strcmp(f.pipe[i], "leap")) {
            leap++;
            CHECK_INT(f.t[i], T(2028, 2, 29, 0, 0));
        }
    pthread_mutex_unlock(&f.mu);
    CHECK_INT(leap, 1);
    sp_sched_free(s);
    fires_destroy(&f);
    fc_destroy(&c);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/sp-test-sched-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    RUN(field_forms);
    RUN(macros);
    RUN(month_ends_and_leap_days);
    RUN(never_fires);
    RUN(logical_time_is_the_slot);
    RUN(due_from_the_start);
    RUN(busy_fires_are_skipped);
    RUN(once_per_definition);
    RUN(missed_fires_run_once_with_catch_up);
    RUN(missed_fires_dropped_without_catch_up);
    RUN(reload_keeps_state);
    RUN(thread_on_fake_clock);
    char path[300];
    state_path(path, sizeof path);
    unlink(path);
    rmdir(g_dir);
    return sp_test_done();
}
