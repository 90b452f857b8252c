// sp-deps: all
/* The backend registries (docs/architecture.md, "Backends"): every entry
 * is complete, lookups and listings come from the entries, and the key
 * table's accepted values are the registries' names. */
#include <stdio.h>
#include <string.h>

#include "sp_codec.h"
#include "sp_engines.h"
#include "sp_env.h"
#include "sp_format.h"
#include "sp_keys.h"
#include "sp_sink.h"
#include "sp_store_for.h"
#include "sp_keys_env.h"
#include "sp_test.h"

#define FMT_PTR(w) &sp_format_##w,
#define CODEC_PTR(w) &sp_codec_##w,

TEST(formats_complete_and_listed)
{
    const sp_format *f[] = { SP_FORMATS(FMT_PTR) };
    size_t n = sizeof f / sizeof f[0];
    char names[256] = "";
    for (size_t i = 0; i < n; i++) {
        CHECK(sp_format_find(f[i]->name) == f[i]);
        CHECK(f[i]->ext && *f[i]->ext);
        CHECK(f[i]->content_type && strchr(f[i]->content_type, '/'));
        CHECK(f[i]->header != NULL);
        /* a row format or a stateful writer, all of it */
        CHECK((f[i]->row && f[i]->rows && !f[i]->w_open) ||
              (!f[i]->row && f[i]->w_open && f[i]->w_rows && f[i]->w_flush &&
               f[i]->w_finish && f[i]->w_buffered && f[i]->w_free));
        CHECK_STR(sp_formats[i], f[i]->name); /* the key table's values */
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 f[i]->name);
    }
    CHECK(sp_formats[n] == NULL);
    CHECK_STR(sp_format_names(), names);
    CHECK_STR(sp_format_names(), "csv, ndjson, parquet");
    char rows[64];
    CHECK_STR(sp_format_row_names(rows, sizeof rows), "csv, ndjson");
    CHECK_STR(sp_format_row_names(rows, 5), "csv,");
    CHECK_STR(sp_format_csv.content_type, "text/csv");
    CHECK_STR(sp_format_ndjson.content_type, "application/x-ndjson");
    CHECK_STR(sp_format_parquet.content_type, "application/vnd.apache.parquet");
    CHECK(sp_format_find("xml") == NULL);
    CHECK(sp_format_find(NULL) == NULL);
}

TEST(codecs_complete_and_listed)
{
    const sp_codec *c[] = { SP_CODECS(CODEC_PTR) };
    size_t n = sizeof c / sizeof c[0];
    for (size_t i = 0; i < n; i++) {
        CHECK(sp_codec_find(c[i]->name) == c[i]);
        if (c[i]->alias)
            CHECK(sp_codec_find(c[i]->alias) == c[i]);
        CHECK(c[i]->ext != NULL);
        CHECK(c[i]->open && c[i]->write && c[i]->flush && c[i]->finish && c[i]->free);
        CHECK_STR(sp_compressions[i], c[i]->name);
    }
    CHECK(sp_compressions[n] == NULL);
    CHECK(c[0] == &sp_codec_none); /* the first is the default */
}

TEST(engines_chosen_by_the_registry)
{
    char names[64];
    CHECK_STR(sp_engine_backend_names(names, sizeof names), "embedded, clickhouse");
    CHECK(sp_engine_backend_find("embedded") == &sp_engine_backend_embedded);
    CHECK(sp_engine_backend_find("clickhouse") == &sp_engine_backend_server);
    CHECK(sp_engine_backend_find("duckdb") == NULL);
    CHECK(sp_engine_backend_embedded.open && sp_engine_backend_embedded.open_scratch);
    CHECK(sp_engine_backend_server.open && !sp_engine_backend_server.open_scratch);
    sp_env *env = sp_env_new_empty();
    const sp_engine_backend *b = NULL;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_engine_backend_for(env, &b, &err), &err); /* unset: the default */
    CHECK(b == &sp_engine_backend_embedded);
    sp_env_set(env, "SINKPIPE_ENGINE", "");
    CHECK_OK(sp_engine_backend_for(env, &b, &err), &err);
    CHECK(b == &sp_engine_backend_embedded);
    sp_env_set(env, "SINKPIPE_ENGINE", "clickhouse");
    CHECK_OK(sp_engine_backend_for(env, &b, &err), &err);
    CHECK(b == &sp_engine_backend_server);
    sp_env_set(env, "SINKPIPE_ENGINE", "duckdb");
    CHECK_INT(sp_engine_backend_for(env, &b, &err), SP_EINVAL);
    CHECK(b == NULL);
    CHECK_STR(err.msg, "SINKPIPE_ENGINE: unknown engine 'duckdb' (expected embedded, clickhouse)");
    sp_env_free(env);
    /* the setting's accepted values (base/, which cannot ask the registry)
     * are the registry's names */
    const sp_keydef *d = sp_keys_env_def("SINKPIPE_ENGINE");
    char vals[128];
    CHECK(d != NULL);
    sp_keys_values(d->values, vals, sizeof vals);
    CHECK_STR(vals, sp_engine_backend_names(names, sizeof names));
}

TEST(stores_chosen_by_scheme)
{
    CHECK(sp_store_backend_of_uri("s3://b/p/") == &sp_store_backend_s3);
    CHECK(sp_store_backend_of_uri("gs://b/") == &sp_store_backend_gcs);
    CHECK(sp_store_backend_of_uri("file:///tmp/x/") == &sp_store_backend_file);
    CHECK(sp_store_backend_of_uri("s3:/b") == NULL);
    CHECK(sp_store_backend_of_uri("s3x://b") == NULL);
    CHECK(sp_store_backend_of_uri("http://b/") == NULL);
    CHECK(sp_store_backend_of_uri(NULL) == NULL);
    CHECK(sp_store_backend_find("gcs") == &sp_store_backend_gcs);
    CHECK(sp_store_backend_find("gs") == NULL);
    sp_bucket_uri u;
    sp_error err = SP_ERROR_INIT;
    CHECK_INT(sp_bucket_uri_parse("ftp://x/", &u, &err), SP_EDEF);
    CHECK_STR(err.msg, "EXPORT_BUCKET_URI 'ftp://x/': expected s3://bucket/prefix/, "
                       "gs://bucket/prefix/ or file:///abs/path/");
    sp_error_clear(&err);
    CHECK_OK(sp_bucket_uri_parse("gs://bk/a/{year}/", &u, &err), &err);
    CHECK(u.backend == &sp_store_backend_gcs);
    CHECK_STR(u.root, "bk");
    CHECK_STR(u.key_prefix, "a/{year}/");
    sp_bucket_uri_release(&u);
    CHECK_OK(sp_bucket_uri_parse("file:///tmp/out/{d}/", &u, &err), &err);
    CHECK(u.backend == &sp_store_backend_file);
    CHECK_STR(u.root, "/tmp/out");
    CHECK_STR(u.key_prefix, "{d}/");
    sp_bucket_uri_release(&u);
    CHECK_INT(sp_bucket_uri_parse("file://rel/x/", &u, &err), SP_EDEF);
    CHECK(strstr(err.msg, "relative file:// paths are not supported") != NULL);
}

TEST(store_factory_takes_a_store_conf)
{
    sp_error err = SP_ERROR_INIT;
    sp_store_dest d;
    /* a gs:// URI needs a GCS connection */
    sp_store_conf c = { "gs://bk/p/", "lake", SP_CONN_S3, NULL, NULL };
    CHECK_INT(sp_store_open_for(&c, 1, &d, &err), SP_EDEF);
    CHECK_STR(err.msg, "EXPORT_BUCKET_URI 'gs://bk/p/': a gs:// URI needs a gcs connection "
                       "(connection 'lake' is not)");
    CHECK(d.store == NULL && d.uri_prefix == NULL);
    sp_error_clear(&err);
    /* a dry run opens no bucket store (no network, no credentials) */
    c.conn_type = SP_CONN_GCS;
    CHECK_OK(sp_store_open_for(&c, 1, &d, &err), &err);
    CHECK(d.store == NULL);
    CHECK_STR(d.uri_prefix, "gs://bk/");
    CHECK_STR(d.key_prefix, "p/");
    sp_store_dest_release(&d);
    /* a folder that does not exist: none for a dry run */
    sp_store_conf f = { "file:///nonexistent-sp-registries/x/{y}/", NULL, SP_CONN_S3, NULL,
                        NULL };
    CHECK_OK(sp_store_open_for(&f, 1, &d, &err), &err);
    CHECK(d.store == NULL);
    CHECK_STR(d.uri_prefix, "file:///nonexistent-sp-registries/x/");
    CHECK_STR(d.key_prefix, "{y}/");
    sp_store_dest_release(&d);
    /* the file system root */
    sp_store_conf r = { "file:///", NULL, SP_CONN_S3, NULL, NULL };
    CHECK_OK(sp_store_open_for(&r, 1, &d, &err), &err);
    CHECK_STR(d.uri_prefix, "file:///");
    sp_store_dest_release(&d);
}

TEST(sinks_chosen_by_the_registry)
{
    sp_sinkcfg cfg;
    memset(&cfg, 0, sizeof cfg);
    const sp_sink_vt *vt = NULL;
    sp_error err = SP_ERROR_INIT;
    cfg.conn_type = SP_CONN_KAFKA;
    CHECK_OK(sp_sink_for(&cfg, &vt, &err), &err);
    CHECK(vt == &sp_sink_kafka);
    CHECK_STR(vt->service(&cfg), "kafka");
    CHECK(!vt->dry_run);
    cfg.conn_type = SP_CONN_GCS;
    char uri[] = "gs://b/p/";
    cfg.bucket_uri = uri;
    CHECK_OK(sp_sink_for(&cfg, &vt, &err), &err);
    CHECK(vt == &sp_sink_objects);
    CHECK_STR(vt->service(&cfg), "gcs");
    CHECK(vt->dry_run);
    char furi[] = "file:///tmp/x/";
    cfg.bucket_uri = furi;
    CHECK_STR(vt->service(&cfg), "file");
    CHECK(sp_sink_for_journal("kafka") == &sp_sink_kafka);
    CHECK(sp_sink_for_journal("s3") == NULL); /* a store's entry */
    CHECK(sp_sink_for_journal(NULL) == NULL);
}

int main(void)
{
    RUN(formats_complete_and_listed);
    RUN(codecs_complete_and_listed);
    RUN(engines_chosen_by_the_registry);
    RUN(stores_chosen_by_scheme);
    RUN(store_factory_takes_a_store_conf);
    RUN(sinks_chosen_by_the_registry);
    return sp_test_done();
}
