// sp-deps: all
/* test_build: a whole project received at once (sp_build) — every file
 * validated as `check` does, errors per file name; the comparison with
 * the running project (created, changed, deleted, no changes); the schema
 * rules against the rows the engine holds; the swap into the folder and
 * its recovery after a crash. */
#include <sys/stat.h>
#include <unistd.h>

#include "sp_build.h"
#include "sp_engine.h"
#include "sp_model.h"
#include "sp_test.h"

static char g_dir[256];
/* SINKPIPE_ENGINE=clickhouse (the sanitizer suite): `check` runs the SQL
 * on the server's own tables, where a changed schema is already an error
 * of check (docs/serve.md): the schema rules are tested on the embedded
 * engine only */
static int g_server;

static void write_file(const char *rel, const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static int exists(const char *rel)
{
    char path[600];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    return stat(path, &st) == 0;
}

#define DS "SCHEMA >\n    `n` Int64 `json:$.n`,\n    `kind` String `json:$.kind`\n\n" \
           "ENGINE \"MergeTree\"\nENGINE_SORTING_KEY \"kind\"\n"
#define DS2 "SCHEMA >\n    `n` Int64 `json:$.n`,\n    `kind` String `json:$.kind`,\n" \
            "    `extra` String `json:$.extra`\n\nENGINE \"MergeTree\"\nENGINE_SORTING_KEY \"kind\"\n"
#define PIPE "NODE n\nSQL >\n    SELECT kind, sum(n) AS t FROM events GROUP BY kind\n\nTYPE endpoint\n"

static sp_build_file F(const char *name, const char *text)
{
    sp_build_file f = { name, text, strlen(text) };
    return f;
}

/* the issue of file `name` ("" when none) */
static const char *issue_of(const sp_build *b, const char *name)
{
    for (size_t i = 0; i < sp_build_nissues(b); i++)
        if (!strcmp(sp_build_issue_at(b, i).filename, name))
            return sp_build_issue_at(b, i).error;
    return "";
}

TEST(every_file_validated_errors_per_file)
{
    sp_build_file files[] = {
        F("events.datasource", DS),
        F("bad name.pipe", PIPE),
        F("top.pipe", "NODE n\nSQL >\n    SELECT nope FROM events\n\nTYPE endpoint\n"),
        F("broken.pipe", "NODE n\nSQL >\n    SELECT 1\n\nTYPE sink\nEXPORT_FORMAT xml\n"),
        F("top.pipe", PIPE),
        F("k.connection", "TYPE kafka\nKAFKA_BOOTSTRAP_SERVERS localhost:9092\n"
                          "KAFKA_KEY {{ tb_secret('SP_TEST_NO_SUCH_SECRET') }}\n"),
    };
    sp_build *b = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_build_new(g_dir, files, 6, NULL, &b, &err), &err);
    if (!b)
        return;
    CHECK(strstr(issue_of(b, "bad name.pipe"), "not a datafile name") != NULL);
    CHECK(strstr(issue_of(b, "top.pipe"), "top.pipe: sent twice") != NULL);
    CHECK(strstr(issue_of(b, "broken.pipe"), "pipes/broken.pipe:") != NULL);
    CHECK(strstr(issue_of(b, "k.connection"), "SP_TEST_NO_SUCH_SECRET") != NULL);
    sp_build_free(b);

    /* the SQL of every pipe, against the build's own datasources */
    sp_build_file q[] = { F("events.datasource", DS),
                          F("top.pipe", "NODE n\nSQL >\n    SELECT nope FROM events\n\n"
                                        "TYPE endpoint\n") };
    CHECK_OK(sp_build_new(g_dir, q, 2, NULL, &b, &err), &err);
    if (!b)
        return;
    CHECK_INT(sp_build_nissues(b), 1);
    CHECK(strstr(issue_of(b, "top.pipe"), "pipes/top.pipe:3: SQL:") != NULL);
    sp_build_free(b);
}

TEST(compared_with_the_running_project)
{
    sp_build_file files[] = { F("events.datasource", DS), F("top.pipe", PIPE) };
    sp_build *b = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_build_new(g_dir, files, 2, NULL, &b, &err), &err);
    if (!b)
        return;
    const char *const *v;
    CHECK_INT(sp_build_nissues(b), 0);
    CHECK_INT(sp_build_unchanged(b), 0);
    CHECK_INT(sp_build_names(b, 1, SP_BUILD_CREATED, &v), 1);
    CHECK_STR(v[0], "events");
    CHECK_INT(sp_build_names(b, 2, SP_BUILD_CREATED, &v), 1);
    sp_build_free(b);

    /* the running project: the same definitions, written differently */
    sp_project *cur = sp_project_new(g_dir);
    const char *other = "SCHEMA >\n  `n` Int64 `json:$.n`,\n  `kind` String `json:$.kind`\n"
                        "ENGINE MergeTree\nENGINE_SORTING_KEY kind\n";
    CHECK_OK(sp_project_add_text(cur, "a/events.datasource", other, strlen(other), &err), &err);
    CHECK_OK(sp_project_add_text(cur, "old.pipe", PIPE, strlen(PIPE), &err), &err);
    CHECK_OK(sp_build_new(g_dir, files, 2, cur, &b, &err), &err);
    if (b) {
        CHECK_INT(sp_build_names(b, 1, SP_BUILD_CREATED, &v), 0);
        CHECK_INT(sp_build_names(b, 1, SP_BUILD_CHANGED, &v), 0);
        CHECK_INT(sp_build_names(b, 2, SP_BUILD_CREATED, &v), 1);
        CHECK_INT(sp_build_names(b, 2, SP_BUILD_DELETED, &v), 1);
        CHECK_STR(v[0], "old");
        sp_build_free(b);
    }
    sp_build_file same[] = { F("events.datasource", DS), F("old.pipe", PIPE) };
    CHECK_OK(sp_build_new(g_dir, same, 2, cur, &b, &err), &err);
    if (b) {
        CHECK_INT(sp_build_unchanged(b), 1);
        sp_build_free(b);
    }
    sp_build_file changed[] = { F("events.datasource", DS2), F("old.pipe", PIPE) };
    CHECK_OK(sp_build_new(g_dir, changed, 2, cur, &b, &err), &err);
    if (b && g_server) {
        CHECK(strstr(issue_of(b, "events.datasource"), "table has no column extra") != NULL);
        sp_build_free(b);
    } else if (b) {
        CHECK_INT(sp_build_names(b, 1, SP_BUILD_CHANGED, &v), 1);
        sp_build_free(b);
    }
    sp_project_free(cur);
}

/* a folder with a running project (`events` holding rows when rows > 0) */
static sp_project *running(sp_engine **e, int rows)
{
    sp_error err = SP_ERROR_INIT;
    sp_project *p = NULL;
    CHECK_OK(sp_project_load(g_dir, &p, &err), &err);
    if (!p)
        return NULL;
    CHECK_OK(sp_project_engine(p, e, &err), &err);
    if (rows) {
        const char *data = "{\"n\":1,\"kind\":\"a\"}\n{\"n\":2,\"kind\":\"b\"}\n";
        sp_append_result r = { 0, 0, 0 };
        CHECK_OK(sp_append_mem(p, "events", data, strlen(data), "ndjson", &r, &err), &err);
        CHECK_INT(r.rows_loaded, 2);
    }
    return p;
}

TEST(schema_rules_and_swap)
{
    mkdir(g_dir, 0755);
    char path[600];
    snprintf(path, sizeof path, "%s/datasources", g_dir);
    mkdir(path, 0755);
    write_file("datasources/events.datasource", DS);
    write_file("flat.pipe", PIPE);
    write_file("README.md", "notes\n");
    sp_engine *e = NULL;
    sp_project *cur = running(&e, 1);
    if (!cur || !e)
        return;
    sp_error err = SP_ERROR_INIT;
    sp_build *b = NULL;

    /* a column added to a table that holds rows: refused, nothing changes */
    sp_build_file add[] = { F("events.datasource", DS2), F("top.pipe", PIPE) };
    CHECK_OK(sp_build_new(g_dir, add, 2, cur, &b, &err), &err);
    if (!b)
        return;
    CHECK_INT(sp_build_plan(b, e, &err), SP_EDEF);
    CHECK(strstr(issue_of(b, "events.datasource"), "holds 2 rows") != NULL);
    CHECK(strstr(issue_of(b, "events.datasource"),
                 "datasources/events.datasource:1: SCHEMA:") != NULL);
    sp_build_free(b);
    CHECK_INT(exists("flat.pipe"), 1);

    /* the same columns: kept with their rows; files swapped in */
    sp_build_file keep[] = { F("events.datasource", DS), F("top.pipe", PIPE) };
    CHECK_OK(sp_build_new(g_dir, keep, 2, cur, &b, &err), &err);
    if (b) {
        CHECK_OK(sp_build_plan(b, e, &err), &err);
        CHECK_OK(sp_build_apply(b, e, &err), &err);
        sp_build_free(b);
    }
    CHECK_INT(exists("flat.pipe"), 0);
    CHECK_INT(exists("pipes/top.pipe"), 1);
    CHECK_INT(exists("datasources/events.datasource"), 1);
    CHECK_INT(exists("README.md"), 1);
    CHECK_INT(exists(".sinkpipe/build.new"), 0);
    CHECK_INT(exists(".sinkpipe/build.old"), 0);
    char *v = NULL;
    CHECK_OK(e->vt->eval_scalar(e, "(SELECT count() FROM events)", 0, &v, &err), &err);
    CHECK_STR(v ? v : "", "2");
    free(v);

    /* emptied, the column can be added: the table is made anew */
    CHECK_OK(e->vt->truncate(e, "events", &err), &err);
    CHECK_OK(sp_build_new(g_dir, add, 2, cur, &b, &err), &err);
    if (b) {
        CHECK_OK(sp_build_plan(b, e, &err), &err);
        CHECK_OK(sp_build_apply(b, e, &err), &err);
        sp_build_free(b);
    }
    v = NULL;
    CHECK_OK(e->vt->eval_scalar(e, "(SELECT count() FROM system.columns WHERE table = 'events' "
                                   "AND database = currentDatabase() AND name = 'extra')",
                                0, &v, &err),
             &err);
    CHECK_STR(v ? v : "", "1");
    free(v);
    sp_project_free(cur);
}

TEST(recover_after_a_crash)
{
    sp_error err = SP_ERROR_INIT;
    /* committed (a manifest), the old file moved aside, the new one not
     * yet in: finished */
    char path[700];
    snprintf(path, sizeof path, "%s/pipes", g_dir);
    mkdir(path, 0755);
    write_file("pipes/top.pipe", PIPE);
    snprintf(path, sizeof path, "%s/.sinkpipe/build.new/pipes", g_dir);
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s/.sinkpipe/build.old'", path, g_dir);
    CHECK_INT(system(cmd), 0);
    write_file(".sinkpipe/build.new/pipes/neu.pipe", PIPE);
    write_file(".sinkpipe/build.new/MANIFEST", "old\tpipes/top.pipe\nnew\tpipes/neu.pipe\n");
    snprintf(cmd, sizeof cmd, "mv '%s/pipes/top.pipe' '%s/.sinkpipe/build.old/0'", g_dir, g_dir);
    CHECK_INT(system(cmd), 0);
    CHECK_OK(sp_build_recover(g_dir, &err), &err);
    CHECK_INT(exists("pipes/neu.pipe"), 1);
    CHECK_INT(exists("pipes/top.pipe"), 0);
    CHECK_INT(exists(".sinkpipe/build.new"), 0);
    CHECK_INT(exists(".sinkpipe/build.old"), 0);

    /* not committed (no manifest): the staging is removed, nothing moved */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    CHECK_INT(system(cmd), 0);
    write_file(".sinkpipe/build.new/pipes/other.pipe", PIPE);
    CHECK_OK(sp_build_recover(g_dir, &err), &err);
    CHECK_INT(exists("pipes/other.pipe"), 0);
    CHECK_INT(exists("pipes/neu.pipe"), 1);
    CHECK_INT(exists(".sinkpipe/build.new"), 0);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/sp-test-build-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    /* the embedded ClickHouse does not run under ASan: there, the tests
     * that need an engine run on a ClickHouse server (the sanitizer suite
     * sets SINKPIPE_ENGINE=clickhouse) or not at all */
    int engine = 1;
    const char *which = getenv("SINKPIPE_ENGINE");
    g_server = which && !strcmp(which, "clickhouse");
#if defined(__SANITIZE_ADDRESS__)
    engine = g_server;
    if (!engine)
        printf("ok - skipped: the engine's tests (ASan without SINKPIPE_ENGINE=clickhouse)\n");
#endif
    if (engine) {
        RUN(every_file_validated_errors_per_file);
        RUN(compared_with_the_running_project);
        if (!g_server)
            RUN(schema_rules_and_swap);
    }
    RUN(recover_after_a_crash);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        return 1;
    return sp_test_done();
}
