// sp-deps: sp_buf sp_error sp_objname sp_format sp_thrift sp_rle sp_dtoa sp_type sp_codec sp_crc32c sp_store sp_store_file sp_store_s3 sp_store_upload sp_s3 sp_curlx sp_sigv4 sp_store_gcs sp_gcs sp_result sp_sink_objects sp_model sp_keys sp_env sp_cron sp_journal sp_oplog sp_defs sp_format_* sp_codec_* sp_date sp_time sp_clock sp_keys_env sp_ch_escape sp_s3_creds
#include "sp_keys.h"
#include "sp_test.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "sp_sink.h"


#define NOW 1795489445LL /* 2026-11-24 03:04:05 UTC */

static sp_type t_str = { .kind = SP_T_STRING };
static sp_type t_dt = { .kind = SP_T_DATETIME };
static sp_type t_i64 = { .kind = SP_T_INT64 };
static char *names[] = { "org", "ts", "n" };
static sp_type *types[] = { &t_str, &t_dt, &t_i64 };
static sp_schema schema = { 3, names, types };

/* a batch of up to 64 rows built by hand */
typedef struct tbatch {
    sp_str org[64];
    int64_t ts[64], n[64];
    sp_column cols[3];
    sp_batch b;
} tbatch;

static void tb_init(tbatch *t)
{
    memset(t, 0, sizeof *t);
    t->cols[0].type = &t_str;
    t->cols[0].v.str = t->org;
    t->cols[1].type = &t_dt;
    t->cols[1].v.i64 = t->ts;
    t->cols[2].type = &t_i64;
    t->cols[2].v.i64 = t->n;
    t->b.ncols = 3;
    t->b.cols = t->cols;
}

static void tb_add(tbatch *t, const char *org, int64_t ts, int64_t n)
{
    size_t i = t->b.nrows++;
    t->org[i].p = org;
    t->org[i].n = strlen(org);
    t->ts[i] = ts;
    t->n[i] = n;
}

static char tmpdir[256];

static void mk_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sp-objects-XXXXXX");
    if (!mkdtemp(tmpdir))
        SP_T_FAIL("mkdtemp failed");
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rm_tmpdir(void)
{
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* listing: every regular file under tmpdir, relative, sorted, '\n'-joined */
static char listing[8192];
static char *found[512];
static size_t nfound;

static int ls_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)f;
    if (flag == FTW_F && nfound < 512)
        found[nfound++] = strdup(p + strlen(tmpdir) + 1);
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *list_files(void)
{
    nfound = 0;
    listing[0] = '\0';
    nftw(tmpdir, ls_cb, 16, FTW_PHYS);
    qsort(found, nfound, sizeof *found, cmpstr);
    size_t off = 0;
    for (size_t i = 0; i < nfound; i++) {
        int n = snprintf(listing + off, sizeof listing - off, "%s%s", i ? "\n" : "", found[i]);
        if (n > 0 && (size_t)n < sizeof listing - off)
            off += (size_t)n;
        free(found[i]);
    }
    return listing;
}

/* read_file: whole file (gzip-decoded when gz) into a static buffer */
static char filebuf[1 << 22];
static size_t filelen;

/* unzstd_file: a zstd file decoded into filebuf (every frame); 0 or -1 */
static int unzstd_file(const char *path)
{
    static unsigned char z[1 << 22];
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer ib = { z, zn, 0 };
    size_t left = 1;
    while (d && ib.pos < ib.size) {
        ZSTD_outBuffer ob = { filebuf + filelen, sizeof filebuf - 1 - filelen, 0 };
        left = ZSTD_decompressStream(d, &ob, &ib);
        filelen += ob.pos;
        if (ZSTD_isError(left) || (ob.pos == 0 && ib.pos < ib.size && left != 0))
            break;
    }
    ZSTD_freeDCtx(d);
    return left == 0 && ib.pos == ib.size ? 0 : -1;
}

/* read_rel: gz 1 gzip-decoded, 2 zstd-decoded ("(corrupt)" when not a
 * complete stream) */
static const char *read_rel(const char *rel, int gz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    filelen = 0;
    filebuf[0] = '\0';
    if (gz == 2) {
        int bad = unzstd_file(path);
        filebuf[filelen] = '\0';
        return bad ? "(corrupt)" : filebuf;
    }
    if (gz) {
        gzFile g = gzopen(path, "rb");
        if (!g)
            return "(missing)";
        int n;
        while ((n = gzread(g, filebuf + filelen, (unsigned)(sizeof filebuf - 1 - filelen))) > 0)
            filelen += (size_t)n;
        gzclose(g);
    } else {
        FILE *f = fopen(path, "rb");
        if (!f)
            return "(missing)";
        filelen = fread(filebuf, 1, sizeof filebuf - 1, f);
        fclose(f);
    }
    filebuf[filelen] = '\0';
    return filebuf;
}

static long long file_size(const char *rel)
{
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

typedef struct tcfg {
    const char *bucket;   /* NULL: file://<tmpdir>/out/ */
    const char *tmpl;
    const char *format;
    const char *compression;
    sp_strategy strategy;
    int dry_run;
    atomic_int *cancel;
    const char *endpoint; /* S3_ENDPOINT */
    uint64_t max_size, max_rows;
} tcfg;

static char bucket_buf[512];

static void make_cfg(const tcfg *t, sp_sinkcfg *cfg, sp_setting *set)
{
    memset(cfg, 0, sizeof *cfg);
    if (!t->bucket)
        snprintf(bucket_buf, sizeof bucket_buf, "file://%s/out/", tmpdir);
    else
        snprintf(bucket_buf, sizeof bucket_buf, "%s", t->bucket);
    cfg->connection_name = "conn";
    cfg->conn_type = SP_CONN_S3;
    cfg->bucket_uri = bucket_buf;
    cfg->file_template = (char *)t->tmpl;
    cfg->format = (char *)(t->format ? t->format : "csv");
    cfg->compression = (char *)(t->compression ? t->compression : "none");
    cfg->strategy = t->strategy;
    cfg->max_file_size = t->max_size;
    cfg->max_file_rows = t->max_rows;
    if (t->endpoint) {
        set->key = "S3_ENDPOINT";
        set->value = (char *)t->endpoint;
        set->secret = 0;
        cfg->conn.v = set;
        cfg->conn.n = 1;
    }
}

/* run: open, write the batches, finish (or abort when abort_it) */
static int run(const tcfg *t, tbatch **bs, size_t nb, int abort_it, sp_run_result *res,
               sp_error *err)
{
    sp_sinkcfg cfg;
    sp_setting set;
    make_cfg(t, &cfg, &set);
    sp_param params[] = { { "region", "eu" } };
    sp_sink_ctx ctx = { &cfg, "job-1", NOW, params, 1, t->dry_run, 2, t->cancel };
    memset(res, 0, sizeof *res);
    sp_sink *k = NULL;
    int rc = sp_sink_objects.open(&k, &ctx, &schema, err);
    for (size_t i = 0; i < nb && !rc; i++)
        rc = sp_sink_objects.write(k, &bs[i]->b, err);
    if (k) {
        if (!rc && !abort_it)
            rc = sp_sink_objects.finish(k, res, err);
        else
            sp_sink_objects.abort(k, res);
        sp_sink_objects.free(k);
    }
    return rc;
}

#define HDR "\"org\",\"ts\",\"n\"\n"

static tbatch *three_rows(void)
{
    static tbatch t;
    tb_init(&t);
    tb_add(&t, "acme", NOW, 1);
    tb_add(&t, "beta", NOW + 86400, 2);
    tb_add(&t, "acme", NOW + 2 * 86400, 3);
    return &t;
}

TEST(static_name)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    tcfg t = { .tmpl = "events_{date}_{region}" };
    CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
    CHECK_STR(list_files(), "out/events_2026-11-24_eu.csv");
    CHECK_STR(read_rel("out/events_2026-11-24_eu.csv", 0),
              HDR "\"acme\",\"2026-11-24 03:04:05\",1\n\"beta\",\"2026-11-25 03:04:05\",2\n"
                  "\"acme\",\"2026-11-26 03:04:05\",3\n");
    CHECK_INT(res.nobjects, 1);
    if (res.nobjects == 1) {
        char want[512];
        snprintf(want, sizeof want, "file://%s/out/events_2026-11-24_eu.csv", tmpdir);
        CHECK_STR(res.objects[0].uri, want);
        CHECK_INT(res.objects[0].size, file_size("out/events_2026-11-24_eu.csv"));
        CHECK_INT(res.objects[0].rows, 3);
    }
    CHECK_INT(res.written_rows, 3);
    CHECK_INT(res.written_bytes, file_size("out/events_2026-11-24_eu.csv"));
    CHECK(res.preview == NULL);
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(extension_rules)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    tcfg t1 = { .tmpl = "a.csv" };
    tcfg t2 = { .tmpl = "b.ndjson.gz", .format = "ndjson", .compression = "gzip" };
    tcfg t3 = { .tmpl = "c.csv", .format = "ndjson" };
    tcfg t4 = { .tmpl = "d.ndjson", .format = "ndjson", .compression = "snappy" };
    CHECK_OK(run(&t1, &b, 1, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK_OK(run(&t2, &b, 1, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK_OK(run(&t3, &b, 1, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK_OK(run(&t4, &b, 1, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK_STR(list_files(), "out/a.csv\nout/b.ndjson.gz\nout/c.csv.ndjson\nout/d.ndjson.snappy");
    read_rel("out/d.ndjson.snappy", 0);
    CHECK_MEM(filebuf, filelen < 10 ? filelen : 10, "\xff\x06\x00\x00sNaPpY", 10);
    rm_tmpdir();
}

TEST(partition_by_column)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    tcfg t = { .tmpl = "org={org}/data" };
    CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
    CHECK_STR(list_files(), "out/org=acme/data.csv\nout/org=beta/data.csv");
    CHECK_STR(read_rel("out/org=acme/data.csv", 0),
              HDR "\"acme\",\"2026-11-24 03:04:05\",1\n\"acme\",\"2026-11-26 03:04:05\",3\n");
    CHECK_STR(read_rel("out/org=beta/data.csv", 0), HDR "\"beta\",\"2026-11-25 03:04:05\",2\n");
    CHECK_INT(res.nobjects, 2);
    if (res.nobjects == 2) {
        CHECK(strstr(res.objects[0].uri, "/out/org=acme/data.csv") != NULL);
        CHECK_INT(res.objects[0].rows, 2);
        CHECK_INT(res.objects[0].size, file_size("out/org=acme/data.csv"));
        CHECK_INT(res.objects[1].rows, 1);
        CHECK_INT(res.objects[1].size, file_size("out/org=beta/data.csv"));
        CHECK_INT(res.written_bytes, res.objects[0].size + res.objects[1].size);
    }
    CHECK_INT(res.written_rows, 3);
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(partition_by_datetime_format)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    char bucket[512];
    snprintf(bucket, sizeof bucket, "file://%s/lake/year={year}/", tmpdir);
    tcfg t = { .bucket = bucket, .tmpl = "day={ts, '%Y-%m-%d'}/ev_{n}", .format = "ndjson",
               .compression = "gzip" };
    CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
    CHECK_STR(list_files(), "lake/year=2026/day=2026-11-24/ev_1.ndjson.gz\n"
                            "lake/year=2026/day=2026-11-25/ev_2.ndjson.gz\n"
                            "lake/year=2026/day=2026-11-26/ev_3.ndjson.gz");
    CHECK_STR(read_rel("lake/year=2026/day=2026-11-25/ev_2.ndjson.gz", 1),
              "{\"org\":\"beta\",\"ts\":\"2026-11-25 03:04:05\",\"n\":2}\n");
    CHECK_INT(res.nobjects, 3);
    if (res.nobjects == 3) {
        char want[512];
        snprintf(want, sizeof want, "file://%s/lake/year=2026/day=2026-11-24/ev_1.ndjson.gz",
                 tmpdir);
        CHECK_STR(res.objects[0].uri, want);
        CHECK_INT(res.objects[0].size,
                  file_size("lake/year=2026/day=2026-11-24/ev_1.ndjson.gz"));
    }
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(split_round_robin)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch b1, b2;
    tb_init(&b1);
    tb_init(&b2);
    tb_add(&b1, "r0", NOW, 0);
    tb_add(&b1, "r1", NOW, 1);
    tb_add(&b1, "r2", NOW, 2);
    tb_add(&b2, "r3", NOW, 3);
    tb_add(&b2, "r4", NOW, 4);
    tbatch *bs[] = { &b1, &b2 };
    tcfg t = { .tmpl = "part_{2}" };
    CHECK_OK(run(&t, bs, 2, 0, &res, &e), &e);
    CHECK_STR(list_files(), "out/part_0.csv\nout/part_1.csv");
    CHECK_STR(read_rel("out/part_0.csv", 0), HDR "\"r0\",\"2026-11-24 03:04:05\",0\n"
              "\"r2\",\"2026-11-24 03:04:05\",2\n\"r4\",\"2026-11-24 03:04:05\",4\n");
    CHECK_STR(read_rel("out/part_1.csv", 0), HDR "\"r1\",\"2026-11-24 03:04:05\",1\n"
              "\"r3\",\"2026-11-24 03:04:05\",3\n");
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(create_new_siblings_and_replace)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    tcfg t = { .tmpl = "events_{date}", .compression = "gzip" };
    for (int i = 0; i < 3; i++) {
        CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
        if (i == 2 && res.nobjects == 1) {
            CHECK(strstr(res.objects[0].uri, "/out/events_2026-11-24.2.csv.gz") != NULL);
            CHECK_INT(res.objects[0].size, file_size("out/events_2026-11-24.2.csv.gz"));
        }
        sp_run_result_release(&res);
    }
    CHECK_STR(list_files(), "out/events_2026-11-24.1.csv.gz\nout/events_2026-11-24.2.csv.gz\n"
                            "out/events_2026-11-24.csv.gz");
    CHECK(strstr(read_rel("out/events_2026-11-24.1.csv.gz", 1), "beta") != NULL);
    /* replace: same name, new content */
    tbatch one;
    tb_init(&one);
    tb_add(&one, "solo", NOW, 9);
    tbatch *bp = &one;
    tcfg r = { .tmpl = "events_{date}", .compression = "gzip",
               .strategy = SP_STRATEGY_REPLACE };
    CHECK_OK(run(&r, &bp, 1, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 1);
    sp_run_result_release(&res);
    CHECK_STR(read_rel("out/events_2026-11-24.csv.gz", 1),
              HDR "\"solo\",\"2026-11-24 03:04:05\",9\n");
    CHECK_INT(list_files()[0] != '\0', 1);
    CHECK_INT(nfound, 3);
    rm_tmpdir();
}

/* big: rows whose text passes the streaming threshold, spread over `parts`
 * organisations (org names must outlive the batches) */
static const char *orgs[] = { "o0", "o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9",
                              "o10", "o11" };

static int run_big(const tcfg *t, size_t parts, size_t rows, int abort_it, sp_run_result *res,
                   sp_error *err)
{
    static tbatch b;
    int rc = 0;
    sp_sinkcfg cfg;
    sp_setting set;
    make_cfg(t, &cfg, &set);
    sp_sink_ctx ctx = { &cfg, "job-1", NOW, NULL, 0, t->dry_run, 2, NULL };
    memset(res, 0, sizeof *res);
    sp_sink *k = NULL;
    rc = sp_sink_objects.open(&k, &ctx, &schema, err);
    for (size_t done = 0; done < rows && !rc;) {
        tb_init(&b);
        for (size_t i = 0; i < 64 && done < rows; i++, done++)
            tb_add(&b, orgs[done % parts], NOW + (int64_t)done, (int64_t)done);
        rc = sp_sink_objects.write(k, &b.b, err);
    }
    if (k) {
        if (!rc && !abort_it)
            rc = sp_sink_objects.finish(k, res, err);
        else
            sp_sink_objects.abort(k, res);
        sp_sink_objects.free(k);
    }
    return rc;
}

TEST(abort_leaves_nothing)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tcfg t = { .tmpl = "{org}/data", .compression = "gzip" };
    /* ~40 bytes a row: 20000 rows over 2 partitions stream to temp files */
    CHECK_OK(run_big(&t, 2, 20000, 1, &res, &e), &e);
    CHECK_INT(res.nobjects, 0);
    CHECK_STR(list_files(), "");
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(many_streams_gzip_decode)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    /* 12 partitions of ~330 KiB: more live streams than codec states, so
     * some gzip streams are closed and reopened (concatenated members) */
    tcfg t = { .tmpl = "{org}", .compression = "gzip" };
    size_t rows = 12 * 9000;
    CHECK_OK(run_big(&t, 12, rows, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 12);
    uint64_t total = 0;
    for (size_t i = 0; i < res.nobjects; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "out/o%zu.csv.gz", i);
        CHECK_INT(res.objects[i].size, file_size(rel));
        CHECK_INT(res.objects[i].rows, 9000);
        total += res.objects[i].rows;
        read_rel(rel, 1);
        /* header + 9000 lines, the rows of org i in order */
        size_t lines = 0;
        for (size_t j = 0; j < filelen; j++)
            lines += filebuf[j] == '\n';
        CHECK_INT(lines, 9001);
        char want[64];
        snprintf(want, sizeof want, "\"o%zu\",", i);
        CHECK(strncmp(filebuf + strlen(HDR), want, strlen(want)) == 0);
        size_t last = i + 12 * 8999;
        snprintf(want, sizeof want, ",%zu\n", last);
        CHECK(filelen > strlen(want) &&
              strcmp(filebuf + filelen - strlen(want), want) == 0);
    }
    CHECK_INT(total, rows);
    sp_run_result_release(&res);
    list_files();
    CHECK_INT(nfound, 12);
    rm_tmpdir();
}

TEST(dry_run_writes_nothing)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    tcfg t = { .tmpl = "org={org}/data", .compression = "gzip", .dry_run = 1 };
    CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
    CHECK_STR(list_files(), "");
    char path[512];
    snprintf(path, sizeof path, "%s/out", tmpdir);
    CHECK_INT(access(path, F_OK), -1);
    CHECK_INT(res.nobjects, 2);
    if (res.nobjects == 2) {
        CHECK(strstr(res.objects[0].uri, "/out/org=acme/data.csv.gz") != NULL);
        CHECK_INT(res.objects[0].rows, 2);
        CHECK_INT(res.objects[0].size, strlen(HDR "\"acme\",\"2026-11-24 03:04:05\",1\n"
                                                  "\"acme\",\"2026-11-26 03:04:05\",3\n"));
    }
    CHECK_INT(res.written_rows, 0);
    CHECK_STR(res.preview, HDR "\"acme\",\"2026-11-24 03:04:05\",1\n"
                               "\"beta\",\"2026-11-25 03:04:05\",2\n");
    sp_run_result_release(&res);
    /* an existing object: the dry run names the sibling it would create */
    tcfg real = { .tmpl = "org={org}/data", .compression = "gzip" };
    CHECK_OK(run(&real, &b, 1, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
    if (res.nobjects == 2)
        CHECK(strstr(res.objects[1].uri, "/out/org=beta/data.1.csv.gz") != NULL);
    sp_run_result_release(&res);
    list_files();
    CHECK_INT(nfound, 2);
    rm_tmpdir();
}

TEST(empty_results)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch empty;
    tb_init(&empty);
    tbatch *b = &empty;
    tcfg t1 = { .tmpl = "static" };
    tcfg t2 = { .tmpl = "{org}" };
    CHECK_OK(run(&t1, &b, 1, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 1);
    sp_run_result_release(&res);
    CHECK_OK(run(&t2, &b, 1, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 0);
    sp_run_result_release(&res);
    /* an empty compressed object is still a valid (empty) gzip stream */
    tcfg t3 = { .tmpl = "nd", .format = "ndjson", .compression = "gzip" };
    CHECK_OK(run(&t3, &b, 1, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK(file_size("out/nd.ndjson.gz") >= 18);
    read_rel("out/nd.ndjson.gz", 0);
    CHECK_MEM(filebuf, 2, "\x1f\x8b", 2);
    CHECK_STR(list_files(), "out/nd.ndjson.gz\nout/static.csv");
    CHECK_STR(read_rel("out/static.csv", 0), HDR);
    rm_tmpdir();
}

TEST(commit_failure_midway)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch t;
    tb_init(&t);
    tb_add(&t, "a", NOW, 1);
    tb_add(&t, "b", NOW, 2);
    tb_add(&t, "c", NOW, 3);
    tbatch *bp = &t;
    /* "out/b.csv" is a non-empty folder: replacing it fails */
    char path[512];
    snprintf(path, sizeof path, "%s/out/b.csv/keep", tmpdir);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/out", tmpdir);
    mkdir(dir, 0755);
    snprintf(dir, sizeof dir, "%s/out/b.csv", tmpdir);
    mkdir(dir, 0755);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    tcfg c = { .tmpl = "{org}", .strategy = SP_STRATEGY_REPLACE };
    int rc = run(&c, &bp, 1, 0, &res, &e);
    CHECK(rc < 0);
    CHECK(e.msg[0] != '\0');
    CHECK_INT(res.nobjects, 1);
    if (res.nobjects == 1)
        CHECK(strstr(res.objects[0].uri, "/out/a.csv") != NULL);
    CHECK_INT(res.written_rows, 1);
    sp_run_result_release(&res);
    CHECK_STR(list_files(), "out/a.csv\nout/b.csv/keep");
    rm_tmpdir();
}

TEST(errors_and_limits)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    tcfg bad = { .tmpl = "x_{nope}" };
    CHECK_INT(run(&bad, &b, 1, 0, &res, &e), SP_EDEF);
    CHECK(strstr(e.msg, "unknown placeholder '{nope}'") != NULL);
    sp_run_result_release(&res);
    sp_error_clear(&e);
    tcfg empty = { .tmpl = "" };
    CHECK_INT(run(&empty, &b, 1, 0, &res, &e), SP_EDEF);
    CHECK(strstr(e.msg, "EXPORT_FILE_TEMPLATE is empty") != NULL);
    sp_error_clear(&e);
    tcfg rel = { .bucket = "file://rel/dir/", .tmpl = "x" };
    CHECK_INT(run(&rel, &b, 1, 0, &res, &e), SP_EDEF);
    CHECK(strstr(e.msg, "relative file:// paths") != NULL);
    sp_error_clear(&e);
    tcfg s3 = { .bucket = "s3://bkt/p/", .tmpl = "x", .endpoint = "https://s3.example" };
    CHECK_INT(run(&s3, &b, 1, 0, &res, &e), SP_EDEF); /* real S3 needs its region */
    CHECK_STR(e.msg, "connection 'conn': S3_REGION is required");
    sp_error_clear(&e);
    atomic_int cancel = 1;
    tcfg cx = { .tmpl = "x", .cancel = &cancel };
    CHECK_INT(run(&cx, &b, 1, 0, &res, &e), SP_ECANCELLED);
    sp_error_clear(&e);
    CHECK_STR(list_files(), "");
    /* too many partitions */
    static tbatch many;
    static char vals[10001][12];
    sp_sinkcfg cfg;
    sp_setting set;
    tcfg tm = { .tmpl = "{org}" };
    make_cfg(&tm, &cfg, &set);
    sp_sink_ctx ctx = { &cfg, "job-1", NOW, NULL, 0, 0, 2, NULL };
    sp_sink *k = NULL;
    CHECK_OK(sp_sink_objects.open(&k, &ctx, &schema, &e), &e);
    int rc = 0;
    for (int i = 0; i < 10001 && !rc; i += 64) {
        tb_init(&many);
        for (int j = i; j < i + 64 && j < 10001; j++) {
            snprintf(vals[j], sizeof vals[j], "%d", j);
            tb_add(&many, vals[j], NOW, j);
        }
        rc = sp_sink_objects.write(k, &many.b, &e);
    }
    CHECK_INT(rc, SP_ETOOBIG);
    CHECK(strstr(e.msg, "more than 10000 objects") != NULL);
    if (k) {
        sp_sink_objects.abort(k, &res);
        sp_sink_objects.free(k);
    }
    CHECK_STR(list_files(), "");
    rm_tmpdir();
}

TEST(s3_local_endpoint)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tbatch *b = three_rows();
    char ep[300];
    snprintf(ep, sizeof ep, "file://%s/s3", tmpdir);
    tcfg t = { .bucket = "s3://data-lake/events/year={year}/", .tmpl = "ev_{date}",
               .endpoint = ep };
    CHECK_OK(run(&t, &b, 1, 0, &res, &e), &e);
    CHECK_STR(list_files(), "s3/data-lake/events/year=2026/ev_2026-11-24.csv");
    CHECK_INT(res.nobjects, 1);
    if (res.nobjects == 1)
        CHECK_STR(res.objects[0].uri, "s3://data-lake/events/year=2026/ev_2026-11-24.csv");
    sp_run_result_release(&res);
    /* issue 13: a bucket or a prefix cannot leave the endpoint's folder */
    const char *bad[] = { "s3://../x/", "s3://bkt/a/../../x/", "s3://ab/x/",
                          "s3://Data_Lake/x/", "s3://-lake/", "s3://data..lake/" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tcfg x = { .bucket = bad[i], .tmpl = "x", .endpoint = ep };
        CHECK_INT(run(&x, &b, 1, 0, &res, &e), SP_EDEF);
        CHECK(strstr(e.msg, bad[i]) != NULL);
        sp_run_result_release(&res);
        sp_error_clear(&e);
    }
    CHECK_STR(list_files(), "s3/data-lake/events/year=2026/ev_2026-11-24.csv");
    CHECK(sp_bucket_uri_problem("s3://a.b-c.123/x/y/") == NULL);
    CHECK(sp_bucket_uri_problem("file:///srv/x/{a}/../y/") != NULL);
    CHECK(sp_bucket_uri_problem("file:///srv/x../y/") == NULL);
    rm_tmpdir();
}

/* ---- size-bounded files ------------------------------------------------- */

/* check_rolled: the objects of res are <stem>_0001<ext>, _0002, ... under
 * out/, in order; each decodes alone, starts with the header, holds the
 * rows res says (at most max_rows), is at most max_size + slack bytes, and
 * the rows run on from file to file (n = 0, 1, 2, ... for one partition) */
static void check_rolled(const sp_run_result *res, const char *stem, const char *ext,
                         int mode, uint64_t max_rows, uint64_t max_size, uint64_t slack,
                         uint64_t total)
{
    uint64_t next = 0, rows = 0;
    for (size_t i = 0; i < res->nobjects; i++) {
        char rel[128], want[400];
        snprintf(rel, sizeof rel, "out/%s_%04zu%s", stem, i + 1, ext);
        snprintf(want, sizeof want, "%s/%s", tmpdir, rel);
        const char *u = res->objects[i].uri;
        CHECK(strlen(u) > 7 && strcmp(u + 7, want) == 0);
        long long size = file_size(rel);
        CHECK_INT(res->objects[i].size, size);
        if (max_size && size > (long long)(max_size + slack))
            fprintf(stderr, "  %s: %lld bytes, bound %llu\n", rel, size,
                    (unsigned long long)max_size);
        if (max_size)
            CHECK(size <= (long long)(max_size + slack));
        const char *txt = read_rel(rel, mode);
        CHECK(strncmp(txt, HDR, strlen(HDR)) == 0);
        uint64_t lines = 0;
        const char *p = strchr(txt, '\n');
        while (p && p[1]) { /* each row: its last field is n */
            const char *end = strchr(p + 1, '\n');
            const char *c = end;
            while (c && c > p && *c != ',' && *c != ':')
                c--;
            if (!end || c == p || strtoull(c + 1, NULL, 10) != next) {
                CHECK(end && c != p && strtoull(c + 1, NULL, 10) == next);
                break;
            }
            next++;
            lines++;
            p = end;
        }
        CHECK_INT(lines, res->objects[i].rows);
        if (max_rows)
            CHECK(res->objects[i].rows <= max_rows);
        CHECK(res->objects[i].rows > 0);
        rows += res->objects[i].rows;
    }
    CHECK_INT(rows, total);
    CHECK_INT(res->written_rows, total);
}

TEST(roll_by_rows_splits_batches)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    /* batches of 64 rows, files of 50: the bound cuts inside batches */
    tcfg t = { .tmpl = "data", .max_rows = 50 };
    CHECK_OK(run_big(&t, 1, 1000, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 20); /* exactly: no empty 21st file */
    check_rolled(&res, "data", ".csv", 0, 50, 0, 0, 1000);
    sp_run_result_release(&res);
    CHECK_OK(run_big(&t, 1, 1001, 0, &res, &e), &e); /* create_new: siblings */
    CHECK_INT(res.nobjects, 21);
    if (res.nobjects == 21) {
        CHECK(strstr(res.objects[0].uri, "/out/data_0001.1.csv") != NULL);
        CHECK(strstr(res.objects[20].uri, "/out/data_0021.csv") != NULL);
        CHECK_INT(res.objects[20].rows, 1);
    }
    sp_run_result_release(&res);
    list_files();
    CHECK_INT(nfound, 41);
    rm_tmpdir();
}

TEST(roll_by_size_uncompressed_is_exact)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tcfg t = { .tmpl = "data.csv", .max_size = 10000 };
    CHECK_OK(run_big(&t, 1, 5000, 0, &res, &e), &e);
    CHECK(res.nobjects > 10);
    check_rolled(&res, "data", ".csv", 0, 0, 10000, 0, 5000);
    /* and full: the next row would not have fit */
    for (size_t i = 0; i + 1 < res.nobjects; i++)
        CHECK(res.objects[i].size > 10000 - 64);
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(roll_by_size_compressed)
{
    const char *codecs[] = { "gzip", "zstd", "snappy" };
    const char *exts[] = { ".csv.gz", ".csv.zst", ".csv.snappy" };
    for (int c = 0; c < 3; c++) {
        mk_tmpdir();
        sp_error e = SP_ERROR_INIT;
        sp_run_result res;
        /* ~2 MiB of CSV into files of 64 KiB compressed */
        tcfg t = { .tmpl = "data", .compression = codecs[c], .max_size = 65536 };
        CHECK_OK(run_big(&t, 1, 50000, 0, &res, &e), &e);
        CHECK(res.nobjects >= 2);
        if (c < 2) /* decoded and checked row by row */
            check_rolled(&res, "data", exts[c], c + 1, 0, 65536, 64, 50000);
        uint64_t total = 0;
        for (size_t i = 0; i < res.nobjects; i++) {
            if (getenv("SP_TEST_SIZES"))
                fprintf(stderr, "  %s %zu: %llu bytes, %llu rows\n", codecs[c], i,
                        (unsigned long long)res.objects[i].size,
                        (unsigned long long)res.objects[i].rows);
            total += res.objects[i].rows;
            CHECK(res.objects[i].size <= 65536 + 64);
            if (i + 1 < res.nobjects) /* files are filled, not cut early */
                CHECK(res.objects[i].size > 65536 * 3 / 4);
        }
        CHECK_INT(total, 50000);
        sp_run_result_release(&res);
        rm_tmpdir();
    }
}

TEST(roll_partitions_separately)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    /* rows alternate o0, o1, o2: each partition counts its own rows */
    tcfg t = { .tmpl = "{org}/part", .max_rows = 100, .compression = "zstd" };
    CHECK_OK(run_big(&t, 3, 900, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 9);
    CHECK_STR(list_files(), "out/o0/part_0001.csv.zst\nout/o0/part_0002.csv.zst\n"
                            "out/o0/part_0003.csv.zst\nout/o1/part_0001.csv.zst\n"
                            "out/o1/part_0002.csv.zst\nout/o1/part_0003.csv.zst\n"
                            "out/o2/part_0001.csv.zst\nout/o2/part_0002.csv.zst\n"
                            "out/o2/part_0003.csv.zst");
    for (size_t i = 0; i < res.nobjects; i++)
        CHECK_INT(res.objects[i].rows, 100);
    const char *txt = read_rel("out/o1/part_0002.csv.zst", 2);
    CHECK(strncmp(txt, HDR "\"o1\",", strlen(HDR) + 5) == 0);
    CHECK(strstr(txt, ",301\n") != NULL); /* o1's 101st row: n = 1 + 3 * 100 */
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(roll_replace_dry_run_and_abort)
{
    mk_tmpdir();
    sp_error e = SP_ERROR_INIT;
    sp_run_result res;
    tcfg t = { .tmpl = "d", .max_rows = 40, .format = "ndjson", .compression = "gzip",
               .strategy = SP_STRATEGY_REPLACE };
    CHECK_OK(run_big(&t, 1, 100, 0, &res, &e), &e);
    sp_run_result_release(&res);
    CHECK_OK(run_big(&t, 1, 100, 0, &res, &e), &e); /* replaces the same names */
    CHECK_INT(res.nobjects, 3);
    sp_run_result_release(&res);
    CHECK_STR(list_files(), "out/d_0001.ndjson.gz\nout/d_0002.ndjson.gz\nout/d_0003.ndjson.gz");
    /* a dry run lists the files it would write, sizes before compression */
    tcfg dry = { .tmpl = "x", .max_rows = 40, .dry_run = 1 };
    CHECK_OK(run_big(&dry, 1, 100, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 3);
    if (res.nobjects == 3) {
        CHECK(strstr(res.objects[2].uri, "/out/x_0003.csv") != NULL);
        CHECK_INT(res.objects[2].rows, 20);
        CHECK(res.objects[0].size > strlen(HDR) + 40 * 20);
    }
    sp_run_result_release(&res);
    tcfg dsize = { .tmpl = "x", .max_size = 1000, .dry_run = 1 };
    CHECK_OK(run_big(&dsize, 1, 100, 0, &res, &e), &e);
    CHECK(res.nobjects >= 4);
    for (size_t i = 0; i < res.nobjects; i++)
        CHECK(res.objects[i].size <= 1000);
    sp_run_result_release(&res);
    /* an aborted run lists (and keeps) the files that rolled over: they
     * were published; the file in progress is not */
    tcfg ab = { .tmpl = "ab", .max_rows = 40 };
    CHECK_OK(run_big(&ab, 1, 100, 1, &res, &e), &e);
    CHECK_INT(res.nobjects, 2);
    CHECK_INT(res.written_rows, 80);
    sp_run_result_release(&res);
    CHECK_STR(list_files(), "out/ab_0001.csv\nout/ab_0002.csv\nout/d_0001.ndjson.gz\n"
                            "out/d_0002.ndjson.gz\nout/d_0003.ndjson.gz");
    /* a static name with no rows still makes its (first) file */
    tbatch empty;
    tb_init(&empty);
    tbatch *b = &empty;
    tcfg st = { .tmpl = "none", .max_rows = 5 };
    CHECK_OK(run(&st, &b, 1, 0, &res, &e), &e);
    CHECK_INT(res.nobjects, 1);
    CHECK_STR(read_rel("out/none_0001.csv", 0), HDR);
    sp_run_result_release(&res);
    rm_tmpdir();
}

TEST(result_add_and_release)
{
    sp_run_result r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < 37; i++) {
        char u[32];
        snprintf(u, sizeof u, "file:///x/%d", i);
        CHECK_INT(sp_run_result_add_object(&r, u, (uint64_t)i, (uint64_t)i * 2), 0);
    }
    CHECK_INT(r.nobjects, 37);
    CHECK_STR(r.objects[36].uri, "file:///x/36");
    CHECK_INT(r.objects[36].rows, 72);
    r.pipe = strdup("p");
    r.preview = strdup("x");
    sp_run_result_release(&r);
    CHECK(r.objects == NULL && r.pipe == NULL && r.nobjects == 0);
    sp_run_result_release(&r); /* twice is harmless */
}

int main(void)
{
    RUN(static_name);
    RUN(extension_rules);
    RUN(partition_by_column);
    RUN(partition_by_datetime_format);
    RUN(split_round_robin);
    RUN(create_new_siblings_and_replace);
    RUN(abort_leaves_nothing);
    RUN(many_streams_gzip_decode);
    RUN(dry_run_writes_nothing);
    RUN(empty_results);
    RUN(commit_failure_midway);
    RUN(errors_and_limits);
    RUN(s3_local_endpoint);
    RUN(roll_by_rows_splits_batches);
    RUN(roll_by_size_uncompressed_is_exact);
    RUN(roll_by_size_compressed);
    RUN(roll_partitions_separately);
    RUN(roll_replace_dry_run_and_abort);
    RUN(result_add_and_release);
    return sp_test_done();
}
