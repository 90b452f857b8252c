/* sp_sched: cron and @once on an injectable clock. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_cron.h"
#include "sp_error.h"
#include "sp_sched.h"
#include "sp_banned.h"

#define MAX_SLOTS_PER_TICK 10000   /* a clock jump never loops for long */
#define MAX_CATCHUP_SCAN 1000000   /* slots scanned for the latest missed one */

typedef struct entry {
    char *name;
    char *schedule;
    char *hash;
    sp_cron cron;
    int64_t last;   /* last slot handled; -1 = not known */
    int fresh;      /* no tick since (re)load: apply the catch-up policy */
    int64_t retry;  /* @once: next attempt after a failed submit */
} entry;

struct sp_sched {
    struct sp_sched_opts o;
    char *state_path;
    pthread_mutex_t mu;
    entry *v;
    size_t n;
    json_t *state; /* {"pipes": {name: {"last": T, "once": hash}}} */
    uint64_t fired, skipped;
    int stop;
    int running;
    pthread_t th;
};

static void entry_release(entry *e)
{
    free(e->name);
    free(e->schedule);
    free(e->hash);
}

static json_t *pipe_state(sp_sched *s, const char *name)
{
    json_t *pipes = json_object_get(s->state, "pipes");
    if (!pipes) {
        pipes = json_object();
        json_object_set_new(s->state, "pipes", pipes);
    }
    json_t *p = json_object_get(pipes, name);
    if (!p) {
        p = json_object();
        json_object_set_new(pipes, name, p);
    }
    return p;
}

static void save(sp_sched *s)
{
    if (!s->state_path)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->state_path);
    /* a failed save is retried at the next fire; nothing else depends on it */
    if (json_dump_file(s->state, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0)
        return;
    FILE *f = fopen(tmp, "re");
    if (f) {
        fsync(fileno(f));
        fclose(f);
    }
    rename(tmp, s->state_path);
}

int sp_sched_new(const struct sp_sched_opts *o, sp_sched **out, sp_error *err)
{
    *out = NULL;
    if (!o || !o->clock || !o->fire)
        return sp_error_set(err, SP_EINVAL, 0, "scheduler: a clock and a fire callback are needed");
    sp_sched *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    s->o = *o;
    pthread_mutex_init(&s->mu, NULL);
    if (o->state_path) {
        s->state_path = strdup(o->state_path);
        json_error_t je;
        s->state = json_load_file(o->state_path, 0, &je);
        if (!s->state && access(o->state_path, F_OK) == 0) {
            sp_sched_free(s);
            return sp_error_set(err, SP_EDATA, 0, "%s:%d: malformed scheduler state: %s",
                                o->state_path, je.line, je.text);
        }
    }
    if (!s->state || !json_is_object(s->state)) {
        json_decref(s->state);
        s->state = json_object();
    }
    *out = s;
    return 0;
}

int sp_sched_set(sp_sched *s, const sp_sched_pipe *v, size_t n, sp_error *err)
{
    entry *nv = calloc(n ? n : 1, sizeof *nv);
    if (!nv)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        sp_cron c;
        sp_error e = SP_ERROR_INIT;
        if (sp_cron_parse(v[i].schedule, &c, &e) != 0) {
            rc = sp_error_set(err, SP_EDEF, 0, "pipe '%s': EXPORT_SCHEDULE: %s", v[i].name,
                              e.msg);
            break;
        }
        if (c.kind == SP_SCHED_ON_DEMAND)
            continue;
        entry *en = &nv[k++];
        en->name = strdup(v[i].name);
        en->schedule = strdup(v[i].schedule);
        en->hash = strdup(v[i].def_hash ? v[i].def_hash : "");
        en->cron = c;
        en->last = -1;
        en->fresh = 1;
        if (!en->name || !en->schedule || !en->hash)
            rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    if (rc) {
        for (size_t i = 0; i < k; i++)
            entry_release(&nv[i]);
        free(nv);
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < k; i++) {
        /* a pipe that was already scheduled keeps its place */
        for (size_t j = 0; j < s->n; j++)
            if (!strcmp(s->v[j].name, nv[i].name) && s->v[j].last >= 0) {
                nv[i].last = s->v[j].last;
                nv[i].fresh = 0;
            }
        if (nv[i].last < 0) {
            json_t *st = json_object_get(json_object_get(s->state, "pipes"), nv[i].name);
            json_t *last = json_object_get(st, "last");
            if (json_is_integer(last))
                nv[i].last = (int64_t)json_integer_value(last);
        }
    }
    for (size_t j = 0; j < s->n; j++)
        entry_release(&s->v[j]);
    free(s->v);
    s->v = nv;
    s->n = k;
    pthread_mutex_unlock(&s->mu);
    s->o.clock->wake(s->o.clock);
    return 0;
}

static void set_last(sp_sched *s, entry *e, int64_t t)
{
    e->last = t;
    json_object_set_new(pipe_state(s, e->name), "last", json_integer((json_int_t)t));
}

static int fire(sp_sched *s, entry *e, int64_t t, const char *why)
{
    int rc = s->o.fire(s->o.ud, e->name, t, why);
    if (rc == 0)
        s->fired++;
    else if (rc == SP_EEXIST)
        s->skipped++;
    return rc;
}

static int64_t tick_once(sp_sched *s, entry *e, int64_t now)
{
    json_t *st = json_object_get(json_object_get(s->state, "pipes"), e->name);
    const char *done = json_string_value(json_object_get(st, "once"));
    if (done && !strcmp(done, e->hash))
        return INT64_MAX;
    if (e->retry > now)
        return e->retry;
    int64_t slot = now - (now % 60 + 60) % 60;
    int rc = fire(s, e, slot, "once");
    if (rc == 0) {
        json_object_set_new(pipe_state(s, e->name), "once", json_string(e->hash));
        save(s);
        return INT64_MAX;
    }
    e->retry = now + 60;
    return e->retry;
}

static int64_t tick_cron(sp_sched *s, entry *e, int64_t now)
{
    int changed = 0;
    if (e->fresh) {
        e->fresh = 0;
        if (e->last < 0) {
            /* never ran: due from the start (a slot at exactly the start
             * is due), however long the start-up took */
            int64_t from = s->o.start && s->o.start <= now ? s->o.start : now;
            e->last = from - 1;
        } else if (e->last < now) {
            /* slots missed while down: the latest of them, once, or none */
            int64_t latest = -1, t = e->last;
            for (long i = 0; i < MAX_CATCHUP_SCAN; i++) {
                t = sp_cron_next(&e->cron, t);
                if (t < 0 || t > now)
                    break;
                latest = t;
            }
            if (latest >= 0) {
                if (s->o.catch_up)
                    fire(s, e, latest, "catch-up");
                set_last(s, e, latest);
                changed = 1;
            }
        }
    }
    int64_t t = sp_cron_next(&e->cron, e->last);
    for (int i = 0; t >= 0 && t <= now; i++) {
        if (i == MAX_SLOTS_PER_TICK) { /* a jump of the clock: resume from now */
            set_last(s, e, now);
            changed = 1;
            t = sp_cron_next(&e->cron, now);
            break;
        }
        fire(s, e, t, "cron");
        set_last(s, e, t);
        changed = 1;
        t = sp_cron_next(&e->cron, t);
    }
    if (changed)
        save(s);
    return t < 0 ? INT64_MAX : t;
}

int64_t sp_sched_tick(sp_sched *s, int64_t now)
{
    int64_t next = INT64_MAX;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        entry *e = &s->v[i];
        int64_t t = e->cron.kind == SP_SCHED_ONCE ? tick_once(s, e, now) : tick_cron(s, e, now);
        if (t < next)
            next = t;
    }
    pthread_mutex_unlock(&s->mu);
    return next;
}

static void *run(void *arg)
{
    sp_sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        int64_t next = sp_sched_tick(s, s->o.clock->now(s->o.clock));
        pthread_mutex_lock(&s->mu);
        stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        s->o.clock->sleep_until(s->o.clock, next);
    }
    return NULL;
}

int sp_sched_start(sp_sched *s, sp_error *err)
{
    if (s->running)
        return 0;
    s->stop = 0;
    if (pthread_create(&s->th, NULL, run, s) != 0)
        return sp_error_set(err, SP_EINTERNAL, 0, "cannot start the scheduler thread");
    s->running = 1;
    return 0;
}

void sp_sched_stop(sp_sched *s)
{
    if (!s || !s->running)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    s->o.clock->wake(s->o.clock);
    pthread_join(s->th, NULL);
    s->running = 0;
}

int64_t sp_sched_next(sp_sched *s, const char *pipe)
{
    int64_t r = -1;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        entry *e = &s->v[i];
        if (strcmp(e->name, pipe) != 0)
            continue;
        if (e->cron.kind == SP_SCHED_ONCE) {
            json_t *st = json_object_get(json_object_get(s->state, "pipes"), e->name);
            const char *done = json_string_value(json_object_get(st, "once"));
            r = done && !strcmp(done, e->hash) ? -1 : 0; /* 0: as soon as possible */
        } else {
            int64_t from = e->last >= 0 ? e->last : s->o.clock->now(s->o.clock) - 1;
            r = sp_cron_next(&e->cron, from);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

uint64_t sp_sched_fired(sp_sched *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t r = s->fired;
    pthread_mutex_unlock(&s->mu);
    return r;
}

uint64_t sp_sched_skipped(sp_sched *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t r = s->skipped;
    pthread_mutex_unlock(&s->mu);
    return r;
}

void sp_sched_free(sp_sched *s)
{
    if (!s)
        return;
    sp_sched_stop(s);
    for (size_t i = 0; i < s->n; i++)
        entry_release(&s->v[i]);
    free(s->v);
    json_decref(s->state);
    free(s->state_path);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
