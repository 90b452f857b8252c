/* sp_clock: the real (optionally shifted and sped-up) clock. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sp_clock.h"
#include "sp_banned.h"

typedef struct real_clock {
    sp_clock base;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    int woken;
    int64_t start;     /* 0: system time */
    double speed;
    double mono0;      /* monotonic seconds when created */
} real_clock;

double sp_clock_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t sp_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t rc_now(sp_clock *base)
{
    real_clock *c = (real_clock *)base;
    if (!c->start)
        return (int64_t)time(NULL);
    return c->start + (int64_t)((sp_clock_mono_s() - c->mono0) * c->speed);
}

static void rc_sleep(sp_clock *base, int64_t deadline)
{
    real_clock *c = (real_clock *)base;
    pthread_mutex_lock(&c->mu);
    while (!c->woken) {
        int64_t now = rc_now(base);
        if (now >= deadline)
            break;
        /* real seconds until the deadline, at most a minute per wait so
         * that a changed system time is noticed */
        double wait = (double)(deadline - now) / c->speed;
        if (wait > 60)
            wait = 60;
        if (wait < 0.001)
            wait = 0.001;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + wait;
        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    c->woken = 0;
    pthread_mutex_unlock(&c->mu);
}

static void rc_wake(sp_clock *base)
{
    real_clock *c = (real_clock *)base;
    pthread_mutex_lock(&c->mu);
    c->woken = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void rc_free(sp_clock *base)
{
    real_clock *c = (real_clock *)base;
    if (!c)
        return;
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

sp_clock *sp_clock_real(int64_t start, double speed)
{
    real_clock *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base.now = rc_now;
    c->base.sleep_until = rc_sleep;
    c->base.wake = rc_wake;
    c->base.free = rc_free;
    c->start = start;
    c->speed = speed > 0 ? speed : 1;
    c->mono0 = sp_clock_mono_s();
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &a);
    pthread_condattr_destroy(&a);
    return &c->base;
}
