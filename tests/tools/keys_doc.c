/* keys_doc: print docs/configuration.md from the key tables (sp_keys.c), so
 * the documentation of every datafile key is generated from the one table
 * the parser and validators use.  tests/e2e/docs.sh checks that the
 * committed page matches.  Usage: keys_doc > docs/configuration.md */
#include <stdio.h>
#include <string.h>

#include "sp_keys.h"

/* a table's heading and header row */
static void head(const char *level, const char *title, const char *first, const char *second)
{
    printf("\n%s %s\n\n", level, title);
    printf("| %s | %s | accepted values | default | description |\n", first, second);
    printf("|---|---|---|---|---|\n");
}

/* the description cell: the secret mark, then the doc, kept in its cell
 * (no '|' or newline), then the row's end */
static void doc_cell(const sp_keydef *d)
{
    if (d->flags & SP_K_SECRET)
        printf("(secret: never printed) ");
    for (const char *p = d->doc ? d->doc : ""; *p; p++)
        putchar(*p == '|' ? '/' : *p == '\n' ? ' ' : *p);
    printf(" |\n");
}

static void table(const sp_keytable *t, const char *title)
{
    head("##", title, "key", "required");
    for (size_t i = 0; i < t->n; i++) {
        const sp_keydef *d = &t->keys[i];
        char vals[1024] = "";
        if (d->values)
            sp_keys_values(d->values, vals, sizeof vals);
        printf("| `%s` | %s | %s | %s | ", d->key, (d->flags & SP_K_REQUIRED) ? "yes" : "",
               vals, d->dflt ? d->dflt : "");
        if (d->alias_of)
            printf("alias of `%s`. ", d->alias_of);
        doc_cell(d);
    }
}

/* an environment table: each variable with its type and range */
static void env_table(const sp_keytable *t, const char *title)
{
    head("###", title, "variable", "type");
    for (size_t i = 0; i < t->n; i++) {
        const sp_keydef *d = &t->keys[i];
        char vals[1024] = "";
        const char *type = "text";
        switch (d->type) {
        case SP_KT_TEXT: break;
        case SP_KT_INT:
            type = "integer";
            snprintf(vals, sizeof vals, "%.0f to %.0f", d->lo, d->hi);
            break;
        case SP_KT_NUM:
            type = "number";
            snprintf(vals, sizeof vals, "%g to %g", d->lo, d->hi);
            break;
        case SP_KT_BOOL:
            type = "boolean";
            snprintf(vals, sizeof vals, "true, false, 1, 0");
            break;
        case SP_KT_ENUM:
            type = "choice";
            sp_keys_values(d->values, vals, sizeof vals);
            break;
        case SP_KT_TIME: type = "time (ISO 8601)"; break;
        }
        printf("| `%s` | %s | %s | %s | ", d->key, type, vals, d->dflt ? d->dflt : "");
        doc_cell(d);
    }
}

int main(void)
{
    printf("# Configuration keys\n\n");
    printf("Generated from the key tables in `src/lib/model/sp_keys.c` and `src/lib/base/sp_keys_env.c` by "
           "`build/tools/keys_doc` (a test checks this page matches). Unknown keys "
           "are errors. Any connection key can be overridden per environment with "
           "`SINKPIPE_CONNECTION__<connection>__<KEY>=value` (an empty value removes "
           "the key); values may use `{{ tb_secret(\"NAME\"[, \"default\"]) }}`, "
           "resolved from the environment, then `.env.local`, then `.env` of the "
           "project folder.\n");
    table(&sp_keys_pipe, "Pipes (`.pipe`, TYPE sink)");
    table(&sp_keys_kafka, "Kafka connections (`.connection`, TYPE kafka)");
    table(&sp_keys_s3, "S3 connections (`.connection`, TYPE s3)");
    table(&sp_keys_gcs, "GCS connections (`.connection`, TYPE gcs)");
    table(&sp_keys_datasource, "Datasources (`.datasource`)");
    printf("\n## Environment\n\n"
           "Every variable the library reads, from the process environment, then "
           "`.env.local`, then `.env` of the project folder (an empty value counts as "
           "unset). A value that is not of the variable's type or outside its range is "
           "an error naming the variable (`SINKPIPE_S3_THREADS: 'many' is not a whole "
           "number from 1 to 64`), never a silent default.\n");
    env_table(&sp_keys_env_engine, "Engine (docs/engine.md, docs/engine-clickhouse.md)");
    env_table(&sp_keys_env_s3, "S3 uploads (docs/s3.md)");
    env_table(&sp_keys_env_gcs, "GCS uploads with a service-account key (docs/gcs.md)");
    env_table(&sp_keys_env_aws, "AWS variables of S3 connections (docs/s3.md)");
    env_table(&sp_keys_env_serve, "Daemon and tokens (`sinkpipe serve`, docs/serve.md)");
    printf("\n## Secrets\n\n"
           "A value that came from `tb_secret`, whatever key it feeds (a bootstrap "
           "server, a region, an endpoint as much as a password), the value of every "
           "key marked secret above, and credentials read from the environment, a "
           "shared credentials file or AssumeRole are never printed: they are "
           "registered with one scrubber (`src/lib/base/sp_secret.c`) that every error "
           "message passes through when it is made — ours and the text of "
           "librdkafka, libcurl and ClickHouse it carries — and so do `check` "
           "diagnostics, the daemon's log fields and API errors. What reaches the "
           "terminal, the ops log, `/v0/jobs` or `sinkpipe jobs` shows `***` "
           "instead. With an address-like value its parts are hidden too: the items "
           "of a list, `host:port`, the host, a URL's user info.\n\n"
           "The rule, so that hiding never mangles text: a value of 12 characters or "
           "more is replaced wherever it occurs; a shorter one only as a whole token "
           "— where the value begins (ends) with a letter, digit or `_`, the "
           "character before (after) it must not be one. A secret `ou` hides "
           "`user=ou` but leaves `routine` alone; `SSL` in `Invalid value \"SSL\"` "
           "is hidden, in `SSLv3` it is not (it is not the secret there). Longer "
           "values are replaced first. A very short secret is still hidden wherever "
           "it stands alone, which can hide a common word (a secret `on` turns "
           "`failed on retry` into `failed *** retry`): secret values should not be "
           "words.\n");
    return 0;
}
