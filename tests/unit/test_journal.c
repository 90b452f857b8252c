// sp-deps: sp_buf sp_error sp_journal sp_oplog sp_store_file sp_time
/* test_journal: the run journal — a live run's journal is never recovered
 * (flock), a dead run's open entries are handed to recovery once, done
 * entries are not, set fields are merged; the file store's recover()
 * removes exactly its own temp files. */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sp_test.h"
#include "sp_error.h"
#include "sp_journal.h"
#include "sp_store.h"

static char tmpdir[256];

static size_t journal_files(void)
{
    char d[400];
    snprintf(d, sizeof d, "%s/.sinkpipe/journal", tmpdir);
    DIR *dir = opendir(d);
    size_t n = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir)))
        if (de->d_name[0] != '.')
            n++;
    if (dir)
        closedir(dir);
    return n;
}

typedef struct seen {
    int n;
    char key[64], upload[64], job[64];
    int answer; /* what the callback returns */
} seen;

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int on_left(void *ud, const sp_leftover *l)
{
    seen *s = ud;
    s->n++;
    snprintf(s->key, sizeof s->key, "%s", str(l->entry, "key"));
    snprintf(s->upload, sizeof s->upload, "%s", str(l->entry, "upload_id"));
    snprintf(s->job, sizeof s->job, "%s", str(l->run, "job_id"));
    return s->answer;
}

static void add(sp_journal *j, const char *key, long *id)
{
    json_t *e = json_pack("{s:s,s:s}", "store", "s3", "key", key);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_journal_add(j, e, id, &err), &err);
    json_decref(e);
}

TEST(live_journal_is_left_alone_and_done_entries_vanish)
{
    sp_journal_run r = { "job-live", "p", "c", "s3://b/" };
    sp_journal *j = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_journal_open(tmpdir, &r, &j, &err), &err);
    long a, b;
    add(j, "k1", &a);
    add(j, "k2", &b);
    seen s = { 0 };
    CHECK_OK(sp_journal_recover(tmpdir, 0, on_left, &s, &err), &err);
    CHECK_INT(s.n, 0); /* locked by this live run (another descriptor) */
    CHECK_INT(sp_journal_live_has(tmpdir, NULL, "key", "k2"), 1);
    CHECK_INT(sp_journal_live_has(tmpdir, NULL, "key", "k3"), 0);
    sp_journal_done(j, a);
    sp_journal_done(j, b);
    sp_journal_close(j);
    CHECK_INT(journal_files(), 0); /* every entry done: the file is gone */
}

TEST(dead_run_entries_are_recovered_once)
{
    pid_t pid = fork();
    if (pid == 0) {
        sp_journal_run r = { "job-dead", "p", "c", "s3://b/" };
        sp_journal *j = NULL;
        long a, b;
        if (sp_journal_open(tmpdir, &r, &j, NULL))
            _exit(2);
        add(j, "done-key", &a);
        add(j, "open-key", &b);
        sp_journal_set(j, b, "upload_id", "UP-1", NULL);
        sp_journal_done(j, a);
        kill(getpid(), SIGKILL); /* dies with an open entry */
        _exit(3);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CHECK_INT(journal_files(), 1);
    sp_error err = SP_ERROR_INIT;
    seen s = { 0 };
    CHECK_OK(sp_journal_recover(tmpdir, 1, on_left, &s, &err), &err); /* dry */
    CHECK_INT(s.n, 1);
    CHECK_INT(journal_files(), 1);
    s.n = 0;
    s.answer = 1; /* cannot undo now: kept */
    CHECK_OK(sp_journal_recover(tmpdir, 0, on_left, &s, &err), &err);
    CHECK_INT(s.n, 1);
    CHECK_INT(journal_files(), 1);
    memset(&s, 0, sizeof s);
    CHECK_OK(sp_journal_recover(tmpdir, 0, on_left, &s, &err), &err);
    CHECK_INT(s.n, 1);
    CHECK_STR(s.key, "open-key");
    CHECK_STR(s.upload, "UP-1");
    CHECK_STR(s.job, "job-dead");
    CHECK_INT(journal_files(), 0);
    s.n = 0;
    CHECK_OK(sp_journal_recover(tmpdir, 0, on_left, &s, &err), &err);
    CHECK_INT(s.n, 0);
}

TEST(file_store_recovers_only_its_temp_files)
{
    char root[400], tmp[600], other[600], what[800];
    snprintf(root, sizeof root, "%s/out", tmpdir);
    sp_store *st = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_store_file_open(root, "file:///x/", &st, &err), &err);
    if (!st)
        return;
    snprintf(tmp, sizeof tmp, "%s/.a.csv.sinkpipe-0123456789abcdef.tmp", root);
    snprintf(other, sizeof other, "%s/a.csv", root);
    FILE *f = fopen(tmp, "w");
    if (f)
        fclose(f);
    f = fopen(other, "w");
    if (f)
        fclose(f);
    json_t *e = json_pack("{s:s,s:s}", "store", "file", "tmp", tmp);
    CHECK_OK(st->vt->recover(st, e, what, sizeof what, &err), &err);
    CHECK(strstr(what, "removed temp file ") == what);
    CHECK(access(tmp, F_OK) != 0);
    CHECK_OK(st->vt->recover(st, e, what, sizeof what, &err), &err); /* gone: fine */
    CHECK(strstr(what, "was already gone") != NULL);
    json_decref(e);
    /* a journal entry naming anything else is refused, and nothing removed */
    e = json_pack("{s:s,s:s}", "store", "file", "tmp", other);
    sp_error_clear(&err);
    CHECK_INT(st->vt->recover(st, e, what, sizeof what, &err), SP_EINVAL);
    CHECK(access(other, F_OK) == 0);
    json_decref(e);
    e = json_pack("{s:s,s:s}", "store", "file", "tmp", "/etc/.x.sinkpipe-0123456789abcdef.tmp");
    sp_error_clear(&err);
    CHECK_INT(st->vt->recover(st, e, what, sizeof what, &err), SP_EINVAL);
    json_decref(e);
    st->vt->free(st);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/sp-journal-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(live_journal_is_left_alone_and_done_entries_vanish);
    RUN(dead_run_entries_are_recovered_once);
    RUN(file_store_recovers_only_its_temp_files);
    /* what the tests left: the file store's folder and the journal folder */
    const char *left[] = { "out/a.csv", "out", ".sinkpipe/journal", ".sinkpipe", "" };
    for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", tmpdir, left[i]);
        if (remove(p) != 0)
            SP_T_FAIL("cannot remove %s", p);
    }
    return sp_test_done();
}
