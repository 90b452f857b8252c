/* sp_journal: a run's in-flight work, written down before it starts — see
 * sp_journal.h. */
#include "sp_journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_oplog.h"
#include "sp_banned.h"

#define JOURNAL_MAX ((size_t)64 << 20) /* a journal larger than this is not read */
#define PATH_BYTES 4096

struct sp_journal {
    pthread_mutex_t mu;
    int fd;
    char *path;
    long next;  /* the next entry number */
    long open;  /* entries added and not done */
    int broken; /* a write failed: keep the file for recovery */
};

/* write_line: rec as one line in one write(); fdatasync'd when durable.  A
 * failure marks the journal broken (kept for recovery at close). */
static int write_line(sp_journal *j, json_t *rec, int durable, sp_error *err)
{
    char what[PATH_BYTES + 32];
    snprintf(what, sizeof what, "the run journal '%.4000s'", j->path);
    int rc = sp_oplog_write_line(j->fd, rec, durable, what, err);
    if (rc)
        j->broken = 1;
    return rc;
}

static void fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* journal_dir: "<dir>/.sinkpipe/journal" into buf, created when mk */
static int journal_dir(const char *dir, char *buf, size_t n, int mk, sp_error *err)
{
    const char *d = dir && *dir ? dir : ".";
    snprintf(buf, n, "%s/.sinkpipe", d);
    if (mk && mkdir(buf, 0755) != 0 && errno != EEXIST)
        return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", buf,
                            strerror(errno));
    snprintf(buf, n, "%s/.sinkpipe/" SP_JOURNAL_DIR, d);
    if (mk && mkdir(buf, 0755) != 0 && errno != EEXIST)
        return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", buf,
                            strerror(errno));
    return 0;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int sp_journal_open(const char *dir, const sp_journal_run *run, sp_journal **out,
                    sp_error *err)
{
    *out = NULL;
    char jd[PATH_BYTES], tmp[PATH_BYTES + 64], fin[PATH_BYTES + 64];
    int rc = journal_dir(dir, jd, sizeof jd, 1, err);
    if (rc)
        return rc;
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_nsec << 24) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 44) ^
            (uint64_t)(uintptr_t)&r;
    }
    snprintf(tmp, sizeof tmp, "%s/.run-%016llx.new", jd, (unsigned long long)r);
    snprintf(fin, sizeof fin, "%s/run-%016llx.ndjson", jd, (unsigned long long)r);
    sp_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(fin))) {
        free(j);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (journal)");
    }
    pthread_mutex_init(&j->mu, NULL);
    j->fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        rc = sp_error_set(err, SP_EIO, 0, "cannot create the run journal '%s': %s", tmp,
                          strerror(errno));
        goto fail;
    }
    if (flock(j->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = sp_error_set(err, SP_EIO, 0, "cannot lock the run journal '%s': %s", tmp,
                          strerror(errno));
        goto fail;
    }
    json_t *h = json_object();
    char ts[32];
    json_object_set_new(h, "journal", json_integer(1));
    set_str(h, "job_id", run ? run->job_id : NULL);
    set_str(h, "pipe", run ? run->pipe : NULL);
    json_object_set_new(h, "pid", json_integer((json_int_t)getpid()));
    json_object_set_new(h, "started", json_string(sp_time_text((int64_t)time(NULL), ts, sizeof ts)));
    set_str(h, "connection", run ? run->connection : NULL);
    set_str(h, "bucket_uri", run ? run->bucket_uri : NULL);
    rc = write_line(j, h, 1, err);
    json_decref(h);
    if (rc)
        goto fail;
    if (rename(tmp, fin) != 0) {
        rc = sp_error_set(err, SP_EIO, 0, "cannot rename the run journal '%s': %s", tmp,
                          strerror(errno));
        goto fail;
    }
    fsync_path(jd);
    *out = j;
    return 0;
fail:
    if (j->fd >= 0) {
        unlink(tmp);
        close(j->fd);
    }
    pthread_mutex_destroy(&j->mu);
    free(j->path);
    free(j);
    return rc;
}

int sp_journal_add(sp_journal *j, json_t *entry, long *id, sp_error *err)
{
    *id = -1;
    if (!j)
        return 0;
    json_t *rec = json_object();
    pthread_mutex_lock(&j->mu);
    long n = j->next++;
    json_object_set_new(rec, "add", json_integer(n));
    json_object_set_new(rec, "at", json_integer((json_int_t)time(NULL)));
    json_object_update(rec, entry);
    int rc = write_line(j, rec, 1, err);
    if (!rc) {
        j->open++;
        *id = n;
    }
    pthread_mutex_unlock(&j->mu);
    json_decref(rec);
    return rc;
}

int sp_journal_set(sp_journal *j, long id, const char *key, const char *value,
                   sp_error *err)
{
    if (!j || id < 0)
        return 0;
    json_t *rec = json_object();
    json_object_set_new(rec, "set", json_integer(id));
    json_object_set_new(rec, key, json_string(value));
    pthread_mutex_lock(&j->mu);
    int rc = write_line(j, rec, 1, err);
    pthread_mutex_unlock(&j->mu);
    json_decref(rec);
    return rc;
}

void sp_journal_done(sp_journal *j, long id)
{
    if (!j || id < 0)
        return;
    json_t *rec = json_object();
    json_object_set_new(rec, "done", json_integer(id));
    pthread_mutex_lock(&j->mu);
    if (!write_line(j, rec, 0, NULL))
        j->open--;
    pthread_mutex_unlock(&j->mu);
    json_decref(rec);
}

void sp_journal_close(sp_journal *j)
{
    if (!j)
        return;
    if (j->open == 0 && !j->broken)
        unlink(j->path); /* still locked: no recoverer reads it meanwhile */
    close(j->fd);
    pthread_mutex_destroy(&j->mu);
    free(j->path);
    free(j);
}

/* ---- recovery --------------------------------------------------------- */

/* read_all: the file behind fd (at most JOURNAL_MAX bytes) */
static char *read_all(int fd, size_t *len)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size > JOURNAL_MAX)
        return NULL;
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(fd, buf + got, n - got, (off_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* parse: the run line and the open entries (an object id -> entry) */
static int parse(const char *buf, size_t len, json_t **run, json_t **open)
{
    *run = NULL;
    *open = json_object();
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* a torn last line: never finished, never acted on */
        json_t *rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
        p = nl + 1;
        if (!json_is_object(rec)) {
            json_decref(rec);
            continue;
        }
        char key[32];
        if (json_object_get(rec, "journal") && !*run) {
            *run = rec;
            continue;
        }
        json_t *v;
        if ((v = json_object_get(rec, "add")) && json_is_integer(v)) {
            snprintf(key, sizeof key, "%lld", (long long)json_integer_value(v));
            json_object_del(rec, "add");
            json_object_set(*open, key, rec);
        } else if ((v = json_object_get(rec, "set")) && json_is_integer(v)) {
            snprintf(key, sizeof key, "%lld", (long long)json_integer_value(v));
            json_t *e = json_object_get(*open, key);
            json_object_del(rec, "set");
            if (e)
                json_object_update(e, rec);
        } else if ((v = json_object_get(rec, "done")) && json_is_integer(v)) {
            snprintf(key, sizeof key, "%lld", (long long)json_integer_value(v));
            json_object_del(*open, key);
        }
        json_decref(rec);
    }
    return *run ? 0 : -1;
}

/* recover_file: one journal file; skipped when its run is alive */
static void recover_file(const char *path, int dry_run, sp_leftover_fn fn, void *ud)
{
    int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return; /* removed meanwhile: its run ended */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd); /* a live run holds it */
        return;
    }
    struct stat a, b;
    if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino) {
        close(fd); /* the run ended and removed it before we locked */
        return;
    }
    size_t len = 0;
    char *buf = read_all(fd, &len);
    json_t *run = NULL, *open = NULL;
    if (!buf || parse(buf, len, &run, &open) != 0) {
        free(buf);
        json_decref(run);
        json_decref(open);
        close(fd);
        return; /* unreadable: left for a person (check lists the folder) */
    }
    free(buf);
    size_t kept = 0;
    const char *key;
    json_t *e;
    void *tmp;
    json_object_foreach_safe(open, tmp, key, e) {
        sp_leftover l = { run, e, path };
        int r = fn(ud, &l);
        if (dry_run || r) {
            kept++;
            continue;
        }
        json_t *rec = json_object();
        json_object_set_new(rec, "done", json_integer(strtoll(key, NULL, 10)));
        sp_journal j = { .fd = fd, .path = (char *)path };
        (void)write_line(&j, rec, 1, NULL);
        json_decref(rec);
    }
    if (!dry_run && kept == 0)
        unlink(path);
    json_decref(run);
    json_decref(open);
    close(fd);
}

int sp_journal_recover(const char *dir, int dry_run, sp_leftover_fn fn, void *ud,
                       sp_error *err)
{
    char jd[PATH_BYTES];
    journal_dir(dir, jd, sizeof jd, 0, NULL);
    DIR *d = opendir(jd);
    if (!d) {
        if (errno == ENOENT)
            return 0; /* no run ever journaled */
        return sp_error_set(err, SP_EIO, 0, "cannot read folder '%s': %s", jd,
                            strerror(errno));
    }
    struct dirent *de;
    char path[PATH_BYTES + 300];
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        size_t nl = strlen(n);
        if (!strncmp(n, ".run-", 5) && nl > 4 && !strcmp(n + nl - 4, ".new")) {
            /* a run that died while creating its journal: nothing in it
             * (a minute old, so a run between its open and its lock is
             * never raced) */
            snprintf(path, sizeof path, "%s/%s", jd, n);
            struct stat sb;
            int old = stat(path, &sb) == 0 && sb.st_mtime + 60 < time(NULL);
            int fd = dry_run || !old ? -1 : open(path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
                unlink(path);
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (strncmp(n, "run-", 4) != 0 || nl < 11 || strcmp(n + nl - 7, ".ndjson") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", jd, n);
        recover_file(path, dry_run, fn, ud);
    }
    closedir(d);
    return 0;
}

/* live_has_file: the journal at path is locked by a live run and has an
 * open entry with key = value */
static int live_has_file(const char *path, const char *key, const char *value)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int found = 0;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd); /* nobody holds it: a dead run */
        return 0;
    }
    size_t len = 0;
    char *buf = read_all(fd, &len);
    json_t *run = NULL, *open_ = NULL;
    if (buf && parse(buf, len, &run, &open_) == 0) {
        const char *k;
        json_t *e;
        json_object_foreach(open_, k, e) {
            const char *v = json_string_value(json_object_get(e, key));
            if (v && !strcmp(v, value))
                found = 1;
        }
    }
    free(buf);
    json_decref(run);
    json_decref(open_);
    close(fd);
    return found;
}

int sp_journal_live_has(const char *dir, const char *skip, const char *key,
                        const char *value)
{
    char jd[PATH_BYTES], path[PATH_BYTES + 300];
    journal_dir(dir, jd, sizeof jd, 0, NULL);
    DIR *d = opendir(jd);
    if (!d)
        return 0;
    struct dirent *de;
    int found = 0;
    while (!found && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (strncmp(de->d_name, "run-", 4) != 0 || nl < 11 ||
            strcmp(de->d_name + nl - 7, ".ndjson") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", jd, de->d_name);
        if (!skip || strcmp(path, skip) != 0)
            found = live_has_file(path, key, value);
    }
    closedir(d);
    return found;
}
