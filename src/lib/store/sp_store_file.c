/* sp_store_file: the object store on a local folder.
 *
 * Key "a/b.csv" is the file <root>/a/b.csv; folders are created as needed.
 * A writer streams into a hidden temp file in the destination folder,
 *   <root>/a/.b.csv.sinkpipe-<16 hex>.tmp
 * and commit publishes it atomically: rename() when overwriting, link() when
 * not (link fails with EEXIST if the key exists, so two writers can never
 * both claim one name).  Both fsync the data first and the folder after.
 * The temp file's path is journaled (meta->journal) before it is created;
 * recover() removes the temp file of a dead run's entry.
 * The store holds no mutable state: writers of one store may run in
 * parallel threads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_error.h"
#include "sp_store.h"
#include "sp_store_for.h"
#include "sp_banned.h"

#define TMP_BASE_MAX 100 /* bytes of the key's basename kept in temp names */

typedef struct file_store {
    sp_store base;
    char *root;       /* absolute, no trailing '/' */
    char *uri_prefix; /* "" when NULL was given */
} file_store;

struct sp_objw {
    file_store *fs;
    int fd;
    int synced;
    char *tmp; /* path of the temp file */
    char *key; /* key given to begin (for messages) */
    uint64_t size;
    uint64_t flushed; /* bytes already handed to the kernel's writeback */
    sp_journal *jn;   /* the run's journal (borrowed, may be NULL) */
    long jid;         /* the temp file's journal entry, -1: none */
};

/* Start writeback of what has been written every WRITEBACK_STEP bytes
 * (sync_file_range, asynchronous), so that the fsync at commit has little
 * left to do and the disk works while rows are still being formatted. */
#define WRITEBACK_STEP ((uint64_t)8 << 20)

/* ---- paths -------------------------------------------------------------- */

/* cat3: malloc'd a + b + c, NULL on ENOMEM */
static char *cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* check_key: relative, names a file, no "." or ".." segments */
static int check_key(const char *key, sp_error *err)
{
    if (!key || !*key)
        return sp_error_set(err, SP_EINVAL, 0, "store: empty object key");
    if (key[0] == '/')
        return sp_error_set(err, SP_EINVAL, 0,
                            "store: object key '%s' is absolute", key);
    size_t n = strlen(key);
    if (key[n - 1] == '/')
        return sp_error_set(err, SP_EINVAL, 0,
                            "store: object key '%s' names a folder", key);
    for (const char *seg = key; seg; ) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return sp_error_set(err, SP_EINVAL, 0,
                                "store: object key '%s' has a '%.*s' segment",
                                key, (int)len, seg);
        seg = end ? end + 1 : NULL;
    }
    return 0;
}

/* mkdirs: mkdir -p path, creating components after the first `skip` bytes
 * (which are known to exist) */
static int mkdirs(char *path, size_t skip, sp_error *err)
{
    size_t n = strlen(path);
    for (size_t i = skip + 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        if (i == 0 || path[i - 1] == '/')
            continue; /* leading or doubled '/' */
        char c = path[i];
        path[i] = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        struct stat sb;
        if (rc != 0 && e == EEXIST && stat(path, &sb) == 0 && !S_ISDIR(sb.st_mode))
            e = ENOTDIR;
        else if (rc != 0 && e == EEXIST)
            rc = 0;
        if (rc != 0) {
            sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", path,
                         strerror(e));
            path[i] = c;
            return SP_EIO;
        }
        path[i] = c;
    }
    return 0;
}

/* fsync_dir: make a rename/link durable; best effort (some filesystems
 * refuse to fsync folders) */
static void fsync_dir(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash)
        return;
    size_t n = (size_t)(slash - file);
    char *dir = malloc(n + 2);
    if (!dir)
        return;
    memcpy(dir, file, n ? n : 1);
    dir[n ? n : 1] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

/* key_path: <root>/<key> after checking the key; *dir_end receives the offset
 * of the last '/' (the parent folder's end) */
static int key_path(file_store *fs, const char *key, char **out,
                    size_t *dir_end, sp_error *err)
{
    int rc = check_key(key, err);
    if (rc)
        return rc;
    char *p = cat3(fs->root, "/", key);
    if (!p)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (path of '%s')",
                            key);
    if (dir_end)
        *dir_end = (size_t)(strrchr(p, '/') - p);
    *out = p;
    return 0;
}

/* make_parent: mkdir -p the folder holding `path` */
static int make_parent(file_store *fs, char *path, size_t dir_end,
                       sp_error *err)
{
    path[dir_end] = '\0';
    int rc = mkdirs(path, strlen(fs->root), err);
    path[dir_end] = '/';
    return rc;
}

/* ---- the store ---------------------------------------------------------- */

static int fs_exists(sp_store *s, const char *key, int *out, sp_error *err)
{
    file_store *fs = (file_store *)s;
    char *path = NULL;
    struct stat sb;
    int rc = key_path(fs, key, &path, NULL, err);
    if (rc)
        return rc;
    *out = 0;
    if (stat(path, &sb) == 0)
        *out = 1;
    else if (errno != ENOENT && errno != ENOTDIR)
        rc = sp_error_set(err, SP_EIO, 0, "cannot stat '%s': %s", path,
                          strerror(errno));
    free(path);
    return rc;
}

static void tmp_suffix(char *buf, size_t bufsz)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        static _Atomic uint64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
            ((uint64_t)getpid() << 40) ^ ++counter * 0x9e3779b97f4a7c15ull;
    }
    snprintf(buf, bufsz, ".sinkpipe-%016llx.tmp", (unsigned long long)r);
}

/* journal_tmp: record w->tmp in the run's journal before it exists */
static int journal_tmp(sp_objw *w, const char *key, sp_error *err)
{
    if (!w->jn)
        return 0;
    json_t *e = json_object();
    json_object_set_new(e, "store", json_string("file"));
    json_object_set_new(e, "key", json_string(key));
    json_object_set_new(e, "tmp", json_string(w->tmp));
    int rc = sp_journal_add(w->jn, e, &w->jid, err);
    json_decref(e);
    return rc;
}

static int fs_begin(sp_store *s, const char *key, const sp_obj_meta *meta,
                    sp_objw **wp, sp_error *err)
{
    file_store *fs = (file_store *)s;
    char *path = NULL;
    size_t dir_end = 0;
    *wp = NULL; /* a folder keeps no metadata: only meta->journal is used */
    int rc = key_path(fs, key, &path, &dir_end, err);
    if (rc)
        return rc;
    if ((rc = make_parent(fs, path, dir_end, err))) {
        free(path);
        return rc;
    }
    sp_objw *w = calloc(1, sizeof *w);
    if (!w || !(w->key = cat3(key, "", ""))) {
        free(w);
        free(path);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (writer of '%s')",
                            key);
    }
    w->fs = fs;
    w->fd = -1;
    w->jn = meta ? meta->journal : NULL;
    w->jid = -1;
    /* <dir>/.<base>.sinkpipe-<hex>.tmp */
    const char *base = path + dir_end + 1;
    size_t blen = strlen(base);
    if (blen > TMP_BASE_MAX)
        blen = TMP_BASE_MAX;
    for (int attempt = 0; attempt < 16 && w->fd < 0; attempt++) {
        char suffix[48];
        tmp_suffix(suffix, sizeof suffix);
        size_t tl = dir_end + 2 + blen + strlen(suffix) + 1;
        free(w->tmp);
        w->tmp = malloc(tl);
        if (!w->tmp)
            break;
        snprintf(w->tmp, tl, "%.*s/.%.*s%s", (int)dir_end, path, (int)blen,
                 base, suffix);
        if ((rc = journal_tmp(w, key, err)))
            break;
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (w->fd < 0) {
            int e = errno;
            sp_journal_done(w->jn, w->jid); /* nothing was created */
            w->jid = -1;
            errno = e;
        }
        if (w->fd < 0 && errno != EEXIST)
            break;
    }
    if (w->fd < 0) {
        int e = errno;
        if (rc)
            ; /* the journal said why */
        else if (!w->tmp)
            rc = sp_error_set(err, SP_ENOMEM, 0,
                              "out of memory (temp name for '%s')", key);
        else
            rc = sp_error_set(err, SP_EIO, 0, "cannot create '%s': %s", w->tmp,
                              strerror(e));
        free(w->tmp);
        free(w->key);
        free(w);
        free(path);
        return rc;
    }
    free(path);
    *wp = w;
    return 0;
}

static int fs_write(sp_objw *w, const void *data, size_t n, sp_error *err)
{
    const char *p = data;
    if (w->fd < 0)
        return sp_error_set(err, SP_EINTERNAL, 0,
                            "store: write to a finished writer of '%s'", w->key);
    while (n) {
        ssize_t k = write(w->fd, p, n > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return sp_error_set(err, SP_EIO, 0, "cannot write '%s': %s", w->tmp,
                                strerror(errno));
        }
        p += k;
        n -= (size_t)k;
        w->size += (uint64_t)k;
    }
    w->synced = 0;
    if (w->size - w->flushed >= WRITEBACK_STEP) {
        /* a hint: failure (e.g. an fs without it) only loses the overlap */
        (void)sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->size - w->flushed),
                              SYNC_FILE_RANGE_WRITE);
        w->flushed = w->size;
    }
    return 0;
}

static void writer_free(sp_objw *w)
{
    sp_journal_done(w->jn, w->jid); /* published or removed: nothing left */
    free(w->tmp);
    free(w->key);
    free(w);
}

/* publish: link (overwrite = 0) or rename (overwrite = 1) tmp onto dst */
static int publish(sp_objw *w, const char *dst, const char *key, int overwrite,
                   sp_error *err)
{
    if (overwrite) {
        if (rename(w->tmp, dst) != 0)
            return sp_error_set(err, SP_EIO, 0, "cannot rename '%s' to '%s': %s",
                                w->tmp, dst, strerror(errno));
        return 0;
    }
    if (link(w->tmp, dst) != 0) {
        int e = errno;
        if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS) {
            /* no hard links here (FAT, some FUSE): the kernel's no-replace
             * rename is just as atomic */
            if (renameat2(AT_FDCWD, w->tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
                return 0;
            e = errno;
        }
        if (e == EEXIST)
            return sp_error_set(err, SP_EEXIST, 0, "object '%s' already exists",
                                key);
        return sp_error_set(err, SP_EIO, 0, "cannot link '%s' to '%s': %s",
                            w->tmp, dst, strerror(e));
    }
    if (unlink(w->tmp) != 0 && errno != ENOENT)
        return sp_error_set(err, SP_EIO, 0, "cannot remove '%s': %s", w->tmp,
                            strerror(errno));
    return 0;
}

static int fs_commit_as(sp_objw *w, const char *key, int overwrite,
                        uint64_t *size, sp_error *err)
{
    char *dst = NULL;
    size_t dir_end = 0;
    if (w->fd < 0)
        return sp_error_set(err, SP_EINTERNAL, 0,
                            "store: commit of a finished writer of '%s'", w->key);
    int rc = key_path(w->fs, key, &dst, &dir_end, err);
    if (rc)
        return rc;
    if ((rc = make_parent(w->fs, dst, dir_end, err)))
        goto out;
    if (!w->synced) {
        if (fsync(w->fd) != 0) {
            rc = sp_error_set(err, SP_EIO, 0, "cannot fsync '%s': %s", w->tmp,
                              strerror(errno));
            goto out;
        }
        w->synced = 1;
    }
    if ((rc = publish(w, dst, key, overwrite, err)))
        goto out;
    fsync_dir(dst);
    (void)close(w->fd); /* data already synced and published */
    w->fd = -1;
    if (size)
        *size = w->size;
    writer_free(w);
out:
    free(dst);
    return rc;
}

static int fs_commit(sp_objw *w, int overwrite, uint64_t *size, sp_error *err)
{
    return fs_commit_as(w, w->key, overwrite, size, err);
}

static void fs_abort(sp_objw *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        if (unlink(w->tmp) != 0 && errno != ENOENT)
            w->jid = -1; /* still there: left open in the journal, for recovery */
    }
    writer_free(w);
}

static int fs_uri(sp_store *s, const char *key, char *buf, size_t bufsz)
{
    return sp_store_uri_join(((file_store *)s)->uri_prefix, key, buf, bufsz);
}

/* is_tmp_name: a basename as fs_begin makes them: .<base>.sinkpipe-<16 hex>.tmp */
static int is_tmp_name(const char *b)
{
    size_t n = strlen(b);
    const size_t tail = strlen(".sinkpipe-") + 16 + strlen(".tmp");
    if (b[0] != '.' || n < 1 + tail || strcmp(b + n - 4, ".tmp") != 0 ||
        strncmp(b + n - tail, ".sinkpipe-", 10) != 0)
        return 0;
    for (size_t i = n - 20; i < n - 4; i++)
        if (!strchr("0123456789abcdef", b[i]))
            return 0;
    return 1;
}

static int fs_recover(sp_store *s, const json_t *entry, char *what, size_t whatsz,
                      sp_error *err)
{
    file_store *fs = (file_store *)s;
    const char *tmp = json_string_value(json_object_get(entry, "tmp"));
    size_t rl = strlen(fs->root);
    const char *slash = tmp ? strrchr(tmp, '/') : NULL;
    /* only a temp file of ours, under this store's folder */
    if (!slash || strncmp(tmp, fs->root, rl) != 0 || (tmp[rl] != '/' && rl > 1) ||
        strstr(tmp, "/../") || !is_tmp_name(slash + 1))
        return sp_error_set(err, SP_EINVAL, 0,
                            "journal entry names no temp file under '%s': '%s'", fs->root,
                            tmp ? tmp : "");
    if (unlink(tmp) == 0) {
        snprintf(what, whatsz, "removed temp file %s", tmp);
        fsync_dir(tmp);
        return 0;
    }
    if (errno == ENOENT || errno == ENOTDIR) {
        snprintf(what, whatsz, "temp file %s was already gone", tmp);
        return 0;
    }
    return sp_error_set(err, SP_EIO, 0, "cannot remove '%s': %s", tmp, strerror(errno));
}

static void fs_free(sp_store *s)
{
    file_store *fs = (file_store *)s;
    if (!fs)
        return;
    free(fs->root);
    free(fs->uri_prefix);
    free(fs);
}

static const sp_store_vt file_vt = {
    .name = "file",
    .exists = fs_exists,
    .begin = fs_begin,
    .write = fs_write,
    .commit = fs_commit,
    .commit_as = fs_commit_as,
    .abort = fs_abort,
    .uri = fs_uri,
    .free = fs_free,
    .recover = fs_recover,
};

int sp_store_file_open(const char *root, const char *uri_prefix, sp_store **out,
                       sp_error *err)
{
    *out = NULL;
    if (!root || !*root)
        return sp_error_set(err, SP_EINVAL, 0, "store: empty root folder");
    char *tmp = cat3(root, "", "");
    if (!tmp)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (store root)");
    int rc = mkdirs(tmp, 0, err);
    free(tmp);
    if (rc)
        return rc;
    file_store *fs = calloc(1, sizeof *fs);
    if (!fs)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (store)");
    fs->base.vt = &file_vt;
    fs->root = realpath(root, NULL);
    if (!fs->root) {
        rc = sp_error_set(err, errno == ENOMEM ? SP_ENOMEM : SP_EIO, 0,
                          "cannot resolve folder '%s': %s", root,
                          strerror(errno));
        fs_free(&fs->base);
        return rc;
    }
    if (!(fs->uri_prefix = cat3(uri_prefix ? uri_prefix : "", "", ""))) {
        fs_free(&fs->base);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (store)");
    }
    *out = &fs->base;
    return 0;
}

/* ------------------------------------------------- the registry entry */

/* open_folder: the local folder store, or none for a dry run when the
 * folder is missing (nothing to check for existence, nothing to create) */
static int open_folder(const sp_store_conf *c, const char *root, const char *uri_prefix,
                       int dry_run, sp_store **out, sp_error *err)
{
    (void)c;
    struct stat sb;
    *out = NULL;
    if (dry_run && stat(root, &sb) != 0 && errno == ENOENT)
        return 0;
    return sp_store_file_open(root, uri_prefix, out, err);
}

const sp_store_backend sp_store_backend_file = {
    .name = "file",
    .scheme = "file",
    .folder = 1,
    .open = open_folder,
};
