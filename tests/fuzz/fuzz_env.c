/* fuzz_env: `.env` parsing (sp_env_open on a temporary project directory)
 * and secret resolution (sp_env_resolve).
 *
 * Input: NUL-separated parts: the `.env` text, then a raw connection value
 * whose {{ tb_secret("NAME"[, "default"]) }} references are resolved (the
 * environment also holds FUZZ_SECRET with a known value).  Invariant: the
 * known secret value never appears in an error message unless the input
 * itself contains it. */
#include <unistd.h>

#include "fuzz.h"

#include "sp_env.h"
#include "sp_error.h"

#define SECRET "s3cr3t-V4LUE"

static char dir[256];

static void cleanup(void)
{
    char p[300];
    snprintf(p, sizeof p, "%s/.env", dir);
    unlink(p);
    rmdir(dir);
}

static int setup(void)
{
    if (dir[0])
        return 0;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 200)
        tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/sp-fuzz-env.XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        return -1;
    }
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 16) || setup())
        return 0;
    char *parts[2];
    size_t np = fz_split(data, size, parts, 2);
    int has_secret = memmem(data, size, SECRET, strlen(SECRET)) != NULL;

    char path[300];
    snprintf(path, sizeof path, "%s/.env", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    size_t n0 = strlen(parts[0]);
    if (fwrite(parts[0], 1, n0, f) != n0 || fclose(f))
        abort();

    sp_env *env = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_env_open(dir, &env, &err) != 0) {
        fz_check_msg(&err);
        fz_check(has_secret || !strstr(err.msg, SECRET), "secret in message: %s", err.msg);
        fz_check(env == NULL, "failed open left an environment");
        fz_free_parts(parts, np);
        return 0;
    }
    if (sp_env_set(env, "FUZZ_SECRET", SECRET))
        abort();
    const char *raw = np == 2 ? parts[1] : parts[0];
    char *out = NULL;
    int secret = 0;
    sp_error e2 = SP_ERROR_INIT;
    if (sp_env_resolve(env, raw, "connections/fuzz.connection:4: KAFKA_SECRET", &out, &secret,
                       &e2) == 0) {
        fz_check(out != NULL, "resolve succeeded without a result");
        if (!secret)
            fz_check(has_secret || !strstr(out, SECRET),
                     "the secret was used but not reported: %s", out);
    } else {
        fz_check_msg(&e2);
        fz_check(has_secret || !strstr(e2.msg, SECRET), "secret in message: %s", e2.msg);
    }
    free(out);
    const char *v = NULL;
    (void)sp_env_conn_override(env, "fuzz", "KAFKA_KEY", &v);
    sp_env_free(env);
    fz_free_parts(parts, np);
    return 0;
}
