/* sp_oplog: the append-only, fsync'd NDJSON journal of jobs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_error.h"
#include "sp_oplog.h"
#include "sp_time.h"
#include "sp_banned.h"

#define LINE_MAX_BYTES (16u << 20)

struct sp_oplog {
    int fd;
};

void sp_oplog_path(const char *dir, char *buf, size_t n)
{
    snprintf(buf, n, "%s/.sinkpipe/" SP_OPLOG_FILE, dir && *dir ? dir : ".");
}

const char *sp_time_text(int64_t secs, char *buf, size_t n)
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

int sp_time_parse_text(const char *s, int64_t *out)
{
    int v[6] = { 0 };
    static const int at[6] = { 0, 5, 8, 11, 14, 17 }, len[6] = { 4, 2, 2, 2, 2, 2 };
    if (!s || strlen(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' ||
        s[16] != ':')
        return -1;
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < len[i]; k++) {
            char c = s[at[i] + k];
            if (c < '0' || c > '9')
                return -1;
            v[i] = v[i] * 10 + (c - '0');
        }
    *out = sp_days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    return 0;
}

int sp_oplog_open(const char *dir, sp_oplog **out, sp_error *err)
{
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/.sinkpipe", dir && *dir ? dir : ".");
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", path,
                            strerror(errno));
    sp_oplog_path(dir, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, 0, "cannot open the ops log '%s': %s", path,
                            strerror(errno));
    /* a crash in the middle of a line: end it, so the next record is whole */
    off_t end = lseek(fd, 0, SEEK_END);
    char last = '\n';
    if (end > 0 && pread(fd, &last, 1, end - 1) == 1 && last != '\n') {
        if (write(fd, "\n", 1) != 1) {
            close(fd);
            return sp_error_set(err, SP_EIO, 0, "cannot write the ops log '%s': %s", path,
                                strerror(errno));
        }
    }
    sp_oplog *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    l->fd = fd;
    *out = l;
    return 0;
}

void sp_oplog_close(sp_oplog *l)
{
    if (!l)
        return;
    close(l->fd);
    free(l);
}

int sp_oplog_write_line(int fd, json_t *rec, int sync, const char *what, sp_error *err)
{
    char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    /* one write: O_APPEND keeps concurrent writers' lines whole */
    ssize_t w;
    do
        w = write(fd, line, n + 1);
    while (w < 0 && errno == EINTR);
    free(line);
    if (w != (ssize_t)(n + 1))
        return sp_error_set(err, SP_EIO, 1, "cannot write %s: %s", what,
                            w < 0 ? strerror(errno) : "short write");
    if (sync && fdatasync(fd) != 0)
        return sp_error_set(err, SP_EIO, 1, "cannot sync %s: %s", what, strerror(errno));
    return 0;
}

int sp_oplog_append(sp_oplog *l, json_t *rec, sp_error *err)
{
    return sp_oplog_write_line(l->fd, rec, 1, "the ops log", err);
}

int sp_oplog_each(const char *path, sp_oplog_fn fn, void *ud, sp_error *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return sp_error_set(err, SP_EIO, 0, "cannot read the ops log '%s': %s", path,
                            strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int stop = 0;
    while (!stop && (n = getline(&line, &cap, f)) > 0) {
        if ((size_t)n > LINE_MAX_BYTES)
            continue;
        json_t *rec = json_loadb(line, (size_t)n, 0, NULL);
        if (!rec)
            continue; /* a torn line from a crash */
        if (json_is_object(rec))
            stop = fn(ud, rec);
        json_decref(rec);
    }
    free(line);
    fclose(f);
    return 0;
}
