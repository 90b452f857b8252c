// sp-deps: all
/* test_token: admin and datafile tokens — created once and stored only as
 * hashes, taken from the environment when set, scopes (READ and OVERRIDE
 * on pipes, APPEND on datasources), unknown and empty tokens refused. */
#include <sys/stat.h>
#include <unistd.h>

#include "sp_env.h"
#include "sp_model.h"
#include "sp_test.h"
#include "sp_token.h"

static char g_dir[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* the value of `name` in "name value\n" lines */
static int value_of(const char *lines, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = lines; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl + 1 && !strncmp(p, name, nl) && p[nl] == ' ') {
            snprintf(out, n, "%.*s", (int)(len - nl - 1), p + nl + 1);
            return 0;
        }
        p = eol ? eol + 1 : NULL;
    }
    return -1;
}

static sp_project *load(void)
{
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_project_load(g_dir, &p, &err), &err);
    return p;
}

TEST(created_once_stored_hashed)
{
    sp_project *p = load();
    sp_tokens *t = NULL;
    char *made = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_tokens_load(p, &t, &made, &err), &err);
    char admin[128] = "", reader[128] = "", app[128] = "";
    CHECK(made != NULL);
    CHECK_INT(value_of(made, "admin", admin, sizeof admin), 0);
    CHECK_INT(value_of(made, "reader", reader, sizeof reader), 0);
    CHECK_INT(value_of(made, "appender", app, sizeof app), 0);
    CHECK(strncmp(admin, "sp_", 3) == 0 && strlen(admin) == 51);
    CHECK_STR(sp_tokens_check(t, admin), "admin");
    CHECK_STR(sp_tokens_check(t, reader), "reader");
    CHECK(sp_tokens_check(t, "sp_wrong") == NULL);
    CHECK(sp_tokens_check(t, "") == NULL);
    CHECK(sp_tokens_check(t, NULL) == NULL);
    CHECK(sp_tokens_is_admin(t, "admin"));
    CHECK(!sp_tokens_is_admin(t, "reader"));
    CHECK(sp_tokens_allows(t, "reader", "READ", "pp"));
    CHECK(!sp_tokens_allows(t, "reader", "READ", "other"));
    CHECK(!sp_tokens_allows(t, "reader", "APPEND", "events"));
    CHECK(sp_tokens_allows(t, "appender", "APPEND", "events"));
    CHECK(sp_tokens_allows(t, "admin", "APPEND", "anything"));
    CHECK(!sp_tokens_allows(t, NULL, "READ", "pp"));
    /* stored: hashes only, never a value */
    const char *stored = read_all(".sinkpipe/tokens.json");
    CHECK(stored != NULL);
    CHECK(stored && strstr(stored, admin) == NULL);
    CHECK(stored && strstr(stored, reader) == NULL);
    CHECK(stored && strstr(stored, "\"admin\"") != NULL);
    struct stat st;
    char path[512];
    snprintf(path, sizeof path, "%s/.sinkpipe/tokens.json", g_dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
    sp_tokens_free(t);
    free(made);
    /* a second load creates nothing and still knows the values */
    made = NULL;
    CHECK_OK(sp_tokens_load(p, &t, &made, &err), &err);
    CHECK(made == NULL);
    CHECK_STR(sp_tokens_check(t, admin), "admin");
    CHECK_STR(sp_tokens_check(t, app), "appender");
    sp_tokens_free(t);
    sp_project_free(p);
}

TEST(override_scope)
{
    sp_project *p = load();
    sp_tokens *t = NULL;
    char *made = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_tokens_load(p, &t, &made, &err), &err);
    /* OVERRIDE: READ too, on its pipe only; READ alone cannot override */
    CHECK(sp_tokens_allows(t, "ops", "OVERRIDE", "pp"));
    CHECK(sp_tokens_allows(t, "ops", "READ", "pp"));
    CHECK(!sp_tokens_allows(t, "ops", "OVERRIDE", "other"));
    CHECK(!sp_tokens_allows(t, "ops", "READ", "other"));
    CHECK(!sp_tokens_allows(t, "ops", "APPEND", "pp"));
    CHECK(!sp_tokens_allows(t, "reader", "OVERRIDE", "pp"));
    CHECK(sp_tokens_allows(t, "admin", "OVERRIDE", "pp"));
    CHECK(!sp_tokens_allows(t, "ops", "READ", NULL));
    sp_tokens_free(t);
    free(made);
    sp_project_free(p);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/sp-test-token-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    write_file("events.datasource", "SCHEMA >\n    `n` Int64 `json:$.n`\n\nTOKEN appender APPEND\n");
    write_file("pp.pipe", "NODE n\nSQL >\n    SELECT n FROM events\n\nTYPE sink\n"
                          "EXPORT_BUCKET_URI file:///tmp/x/\nEXPORT_FILE_TEMPLATE x\n"
                          "TOKEN reader READ\nTOKEN ops OVERRIDE\n");
    RUN(created_once_stored_hashed);
    RUN(override_scope);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        return 1;
    return sp_test_done();
}
