// sp-deps: sp_buf sp_error sp_store_file sp_journal sp_oplog sp_time
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_test.h"
#include "sp_error.h"
#include "sp_store.h"

static char tmpdir[256];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rm_rf(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static sp_store *open_store(const char *sub)
{
    char root[384];
    sp_store *s = NULL;
    sp_error err = SP_ERROR_INIT;
    snprintf(root, sizeof root, "%s/%s", tmpdir, sub);
    CHECK_OK(sp_store_file_open(root, "file:///x/", &s, &err), &err);
    return s;
}

/* read_file: the content of tmpdir/rel into buf (NUL-terminated); -1 if
 * missing */
static long read_file(const char *rel, char *buf, size_t bufsz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, bufsz - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (long)n;
}

/* list: names in tmpdir/rel, sorted, joined with ' ' */
static void list(const char *rel, char *out, size_t outsz)
{
    char path[512];
    struct dirent **ents = NULL;
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    out[0] = '\0';
    int n = scandir(path, &ents, NULL, alphasort);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        if (strcmp(nm, ".") && strcmp(nm, "..")) {
            int k = snprintf(out + len, outsz - len, "%s%s", len ? " " : "", nm);
            if (k > 0 && (size_t)k < outsz - len)
                len += (size_t)k;
        }
        free(ents[i]);
    }
    free(ents);
}

static int put(sp_store *s, const char *key, const char *data, int overwrite,
               sp_error *err)
{
    sp_objw *w = NULL;
    uint64_t size = 0;
    int rc = s->vt->begin(s, key, NULL, &w, err);
    if (rc)
        return rc;
    if ((rc = s->vt->write(w, data, strlen(data), err)) ||
        (rc = s->vt->commit(w, overwrite, &size, err))) {
        s->vt->abort(w);
        return rc;
    }
    return size == strlen(data) ? 0 : SP_EINTERNAL;
}

TEST(commit_makes_visible)
{
    sp_store *s = open_store("vis");
    sp_error err = SP_ERROR_INIT;
    sp_objw *w = NULL;
    char buf[256];
    int ex = -1;
    uint64_t size = 0;
    if (!s)
        return;
    CHECK_OK(s->vt->begin(s, "data.csv", NULL, &w, &err), &err);
    CHECK_OK(s->vt->write(w, "a,b\n", 4, &err), &err);
    CHECK_OK(s->vt->write(w, "1,2\n", 4, &err), &err);
    CHECK_OK(s->vt->exists(s, "data.csv", &ex, &err), &err);
    CHECK_INT(ex, 0);
    CHECK_INT(read_file("vis/data.csv", buf, sizeof buf), -1);
    list("vis", buf, sizeof buf);
    CHECK(strncmp(buf, ".data.csv.sinkpipe-", 19) == 0);
    CHECK(strstr(buf, ".tmp") != NULL);
    CHECK(strchr(buf, ' ') == NULL); /* one temp file, nothing else */
    CHECK_OK(s->vt->commit(w, 0, &size, &err), &err);
    CHECK_INT(size, 8);
    CHECK_OK(s->vt->exists(s, "data.csv", &ex, &err), &err);
    CHECK_INT(ex, 1);
    CHECK_INT(read_file("vis/data.csv", buf, sizeof buf), 8);
    CHECK_STR(buf, "a,b\n1,2\n");
    list("vis", buf, sizeof buf);
    CHECK_STR(buf, "data.csv");
    s->vt->free(s);
}

TEST(temp_file_mode)
{
    sp_store *s = open_store("mode");
    sp_error err = SP_ERROR_INIT;
    sp_objw *w = NULL;
    struct stat sb;
    char path[512];
    if (!s)
        return;
    mode_t um = umask(022);
    CHECK_OK(s->vt->begin(s, "m.csv", NULL, &w, &err), &err);
    CHECK_OK(s->vt->commit(w, 1, NULL, &err), &err);
    umask(um);
    snprintf(path, sizeof path, "%s/mode/m.csv", tmpdir);
    CHECK_INT(stat(path, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0644);
    CHECK_INT(sb.st_size, 0);
    s->vt->free(s);
}

TEST(create_new_collision_then_sibling)
{
    sp_store *s = open_store("cn");
    sp_error err = SP_ERROR_INIT;
    sp_objw *w = NULL;
    char buf[256];
    uint64_t size = 0;
    if (!s)
        return;
    CHECK_OK(put(s, "out/data.csv", "old\n", 0, &err), &err);
    CHECK_OK(s->vt->begin(s, "out/data.csv", NULL, &w, &err), &err);
    CHECK_OK(s->vt->write(w, "new\n", 4, &err), &err);
    CHECK_INT(s->vt->commit(w, 0, &size, &err), SP_EEXIST);
    CHECK_INT(err.code, SP_EEXIST);
    CHECK(strstr(err.msg, "out/data.csv") != NULL);
    sp_error_clear(&err);
    CHECK_INT(read_file("cn/out/data.csv", buf, sizeof buf), 4);
    CHECK_STR(buf, "old\n");
    /* the writer is still usable */
    CHECK_OK(s->vt->write(w, "more\n", 5, &err), &err);
    CHECK_OK(s->vt->commit_as(w, "out/data.1.csv", 0, &size, &err), &err);
    CHECK_INT(size, 9);
    CHECK_INT(read_file("cn/out/data.1.csv", buf, sizeof buf), 9);
    CHECK_STR(buf, "new\nmore\n");
    list("cn/out", buf, sizeof buf);
    CHECK_STR(buf, "data.1.csv data.csv");
    /* and a second create_new of the same name fails through put too */
    CHECK_INT(put(s, "out/data.csv", "x", 0, &err), SP_EEXIST);
    list("cn/out", buf, sizeof buf);
    CHECK_STR(buf, "data.1.csv data.csv");
    s->vt->free(s);
}

TEST(two_writers_one_name)
{
    sp_store *s = open_store("race");
    sp_error err = SP_ERROR_INIT;
    sp_objw *a = NULL, *b = NULL;
    char buf[256];
    if (!s)
        return;
    CHECK_OK(s->vt->begin(s, "k.csv", NULL, &a, &err), &err);
    CHECK_OK(s->vt->begin(s, "k.csv", NULL, &b, &err), &err);
    list("race", buf, sizeof buf);
    CHECK(strchr(buf, ' ') != NULL); /* two distinct temp files */
    CHECK_OK(s->vt->write(a, "A", 1, &err), &err);
    CHECK_OK(s->vt->write(b, "B", 1, &err), &err);
    CHECK_OK(s->vt->commit(b, 0, NULL, &err), &err);
    CHECK_INT(s->vt->commit(a, 0, NULL, &err), SP_EEXIST);
    s->vt->abort(a);
    CHECK_INT(read_file("race/k.csv", buf, sizeof buf), 1);
    CHECK_STR(buf, "B");
    list("race", buf, sizeof buf);
    CHECK_STR(buf, "k.csv");
    s->vt->free(s);
}

TEST(abort_leaves_nothing)
{
    sp_store *s = open_store("ab");
    sp_error err = SP_ERROR_INIT;
    sp_objw *w = NULL;
    char buf[256];
    if (!s)
        return;
    CHECK_OK(s->vt->begin(s, "x/y.csv", NULL, &w, &err), &err);
    CHECK_OK(s->vt->write(w, "partial", 7, &err), &err);
    s->vt->abort(w);
    list("ab/x", buf, sizeof buf);
    CHECK_STR(buf, "");
    list("ab", buf, sizeof buf);
    CHECK_STR(buf, "x");
    s->vt->abort(NULL);
    s->vt->free(s);
}

TEST(nested_folders)
{
    sp_store *s = open_store("deep/er/root");
    sp_error err = SP_ERROR_INIT;
    char buf[256];
    int ex = 0;
    if (!s)
        return;
    CHECK_OK(put(s, "org=7/year=2024/month=01/data_0.ndjson", "{}\n", 0, &err),
             &err);
    CHECK_INT(read_file("deep/er/root/org=7/year=2024/month=01/data_0.ndjson",
                        buf, sizeof buf), 3);
    CHECK_OK(s->vt->exists(s, "org=7/year=2024/month=01/data_0.ndjson", &ex, &err),
             &err);
    CHECK_INT(ex, 1);
    CHECK_OK(s->vt->exists(s, "org=7/nope/data.csv", &ex, &err), &err);
    CHECK_INT(ex, 0);
    /* a parent that is a file: not there, and cannot be created */
    CHECK_OK(s->vt->exists(s, "org=7/year=2024/month=01/data_0.ndjson/z", &ex,
                           &err), &err);
    CHECK_INT(ex, 0);
    CHECK_INT(put(s, "org=7/year=2024/month=01/data_0.ndjson/z", "z", 0, &err),
              SP_EIO);
    CHECK(strstr(err.msg, "data_0.ndjson") != NULL);
    s->vt->free(s);
}

TEST(replace_overwrites)
{
    sp_store *s = open_store("rep");
    sp_error err = SP_ERROR_INIT;
    char buf[256];
    if (!s)
        return;
    CHECK_OK(put(s, "r.csv", "first version\n", 1, &err), &err);
    CHECK_OK(put(s, "r.csv", "second\n", 1, &err), &err);
    CHECK_INT(read_file("rep/r.csv", buf, sizeof buf), 7);
    CHECK_STR(buf, "second\n");
    list("rep", buf, sizeof buf);
    CHECK_STR(buf, "r.csv");
    s->vt->free(s);
}

TEST(bad_keys_rejected)
{
    sp_store *s = open_store("bad");
    const char *bad[] = {"", "/etc/passwd", "../x.csv", "a/../../x.csv",
                         "a/..", "./a.csv", "a/./b.csv", "dir/"};
    char buf[256];
    if (!s)
        return;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp_error err = SP_ERROR_INIT;
        sp_objw *w = (sp_objw *)1;
        int ex = 0;
        CHECK_INT(s->vt->begin(s, bad[i], NULL, &w, &err), SP_EINVAL);
        CHECK(w == NULL);
        CHECK_INT(s->vt->exists(s, bad[i], &ex, &err), SP_EINVAL);
    }
    list("bad", buf, sizeof buf);
    CHECK_STR(buf, "");
    /* ".." inside a name is fine */
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(put(s, "a..b/..c", "ok", 0, &err), &err);
    s->vt->free(s);
}

TEST(uri_is_prefix_plus_key)
{
    sp_store *s = open_store("uri");
    char buf[64], tiny[8];
    if (!s)
        return;
    CHECK_STR(s->vt->name, "file");
    CHECK_OK(s->vt->uri(s, "a/b.csv", buf, sizeof buf), (sp_error *)NULL);
    CHECK_STR(buf, "file:///x/a/b.csv");
    CHECK_INT(s->vt->uri(s, "a/b.csv", tiny, sizeof tiny), SP_ETOOBIG);
    s->vt->free(s);
}

TEST(open_fails_on_a_file_root)
{
    char root[384];
    sp_store *s = (sp_store *)1;
    sp_error err = SP_ERROR_INIT;
    snprintf(root, sizeof root, "%s/plainfile", tmpdir);
    FILE *f = fopen(root, "w");
    if (f)
        fclose(f);
    CHECK_INT(sp_store_file_open(root, "", &s, &err), SP_EIO);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, "plainfile") != NULL);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/sp-store-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(commit_makes_visible);
    RUN(temp_file_mode);
    RUN(create_new_collision_then_sibling);
    RUN(two_writers_one_name);
    RUN(abort_leaves_nothing);
    RUN(nested_folders);
    RUN(replace_overwrites);
    RUN(bad_keys_rejected);
    RUN(uri_is_prefix_plus_key);
    RUN(open_fails_on_a_file_root);
    rm_rf(tmpdir);
    return sp_test_done();
}
