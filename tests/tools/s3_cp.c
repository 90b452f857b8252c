/* s3_cp: upload a file (or stdin) to S3 through sinkpipe's S3 store, the
 * way a sink streams an object — for benchmarks next to `aws s3 cp`.
 *
 *   s3_cp FILE|- s3://BUCKET/KEY
 *
 * Settings from the environment: S3_TEST_ENDPOINT (or AWS's endpoint
 * variables), S3_TEST_REGION (default us-east-1), S3_TEST_ACCESS_KEY /
 * S3_TEST_SECRET (else the AWS chain), and the SINKPIPE_S3_* tuning knobs.
 * Prints "BYTES bytes in SECONDS s" on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_env.h"
#include "sp_store_s3.h"

static long knob(const sp_env *env, const char *name)
{
    const char *v = sp_env_get(env, name);
    return v && *v ? strtol(v, NULL, 10) : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strncmp(argv[2], "s3://", 5) || !strchr(argv[2] + 5, '/')) {
        fprintf(stderr, "usage: s3_cp FILE|- s3://BUCKET/KEY\n");
        return 2;
    }
    sp_error e = SP_ERROR_INIT;
    sp_env *env = NULL;
    if (sp_env_open(NULL, &env, &e)) {
        fprintf(stderr, "s3_cp: %s\n", e.msg);
        return 1;
    }
    char bucket[256];
    const char *b = argv[2] + 5, *slash = strchr(b, '/');
    snprintf(bucket, sizeof bucket, "%.*s", (int)(slash - b), b);
    const char *key = slash + 1;
    const char *region = sp_env_get(env, "S3_TEST_REGION");
    sp_s3_conf c = {
        .conn_name = "s3_cp",
        .bucket = bucket,
        .region = region && *region ? region : "us-east-1",
        .endpoint = sp_env_get(env, "S3_TEST_ENDPOINT"),
        .access_key = sp_env_get(env, "S3_TEST_ACCESS_KEY"),
        .secret = sp_env_get(env, "S3_TEST_SECRET"),
        .env = env,
    };
    sp_store_s3_opts o = {
        .part_size = (size_t)knob(env, "SINKPIPE_S3_PART_SIZE"),
        .threads = (int)knob(env, "SINKPIPE_S3_THREADS"),
        .max_inflight = (int)knob(env, "SINKPIPE_S3_MAX_INFLIGHT"),
    };
    FILE *in = strcmp(argv[1], "-") ? fopen(argv[1], "rb") : stdin;
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sp_store *st = NULL;
    sp_objw *w = NULL;
    uint64_t size = 0;
    int rc = sp_store_s3_open(&c, &o, "s3://", &st, &e);
    sp_obj_meta meta = { "s3_cp", "s3_cp", "application/octet-stream", NULL };
    if (!rc)
        rc = st->vt->begin(st, key, &meta, &w, &e);
    static char buf[1 << 20];
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
        rc = st->vt->write(w, buf, n, &e);
    if (!rc && ferror(in))
        rc = SP_EIO;
    if (!rc)
        rc = st->vt->commit(w, 1, &size, &e);
    else if (w)
        st->vt->abort(w);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (st)
        st->vt->free(st);
    if (in != stdin)
        fclose(in);
    sp_env_free(env);
    if (rc) {
        fprintf(stderr, "s3_cp: %s\n", e.msg[0] ? e.msg : sp_strerror(rc));
        return 1;
    }
    printf("%llu bytes in %.3f s\n", (unsigned long long)size,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
