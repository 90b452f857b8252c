/* sp_keys: the key tables of every datafile kind (see sp_keys.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sp_codec.h"
#include "sp_error.h"
#include "sp_format.h"
#include "sp_keys.h"
#include "sp_banned.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define VALS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define REGISTERED_NAME(w) #w,
const char *const sp_formats[] = { SP_FORMATS(REGISTERED_NAME) NULL };        /* sp_format.h */
const char *const sp_compressions[] = { SP_CODECS(REGISTERED_NAME) NULL };    /* sp_codec.h */
const char *const sp_strategies[] = { "create_new", "replace", "truncate", "new", "@new",
                                       "@truncate", NULL };

static const sp_keydef kafka_keys[] = {
    { "KAFKA_BOOTSTRAP_SERVERS", SP_K_REQUIRED, NULL, NULL, NULL, 0, "host:port[,host:port...]" },
    { "KAFKA_SECURITY_PROTOCOL", SP_K_CI, VALS("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"),
      "SASL_SSL", NULL, 0, "transport security" },
    { "KAFKA_SASL_MECHANISM", SP_K_CI,
      VALS("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"), "PLAIN", NULL, 0,
      "SASL mechanism" },
    { "KAFKA_SASL_OAUTHBEARER_METHOD", SP_K_CI, VALS("AWS"), NULL, NULL, 0, "OAUTHBEARER token source" },
    { "KAFKA_SASL_OAUTHBEARER_AWS_REGION", 0, NULL, NULL, NULL, 0, "AWS region for MSK IAM" },
    { "KAFKA_SASL_OAUTHBEARER_AWS_ROLE_ARN", 0, NULL, NULL, NULL, 0, "IAM role for MSK IAM" },
    { "KAFKA_SASL_OAUTHBEARER_AWS_EXTERNAL_ID", 0, NULL, NULL, NULL, 0, "external id for the role" },
    { "KAFKA_KEY", SP_K_SECRET, NULL, NULL, NULL, 0, "SASL user name / API key" },
    { "KAFKA_SECRET", SP_K_SECRET, NULL, NULL, NULL, 0, "SASL password / API secret" },
    { "KAFKA_SCHEMA_REGISTRY_URL", 0, NULL, NULL, NULL, 0, "schema registry URL" },
    { "KAFKA_SSL_CA_PEM", 0, NULL, NULL, NULL, 0, "CA certificate (PEM, line or block)" },
    { "KAFKA_PRODUCER_CONFIG", SP_K_BLOCK, NULL, NULL, NULL, 0,
      "extension: librdkafka key=value lines" },
};

static const sp_keydef s3_keys[] = {
    { "S3_REGION", SP_K_REQUIRED, NULL, NULL, NULL, 0, "bucket region" },
    { "S3_ARN", 0, NULL, NULL, NULL, 0, "IAM role to assume" },
    { "S3_ACCESS_KEY", 0, NULL, NULL, NULL, 0, "access key id" },
    { "S3_SECRET", SP_K_SECRET, NULL, NULL, NULL, 0, "secret access key" },
    { "S3_ENDPOINT", 0, NULL, NULL, NULL, 0, "extension: endpoint URL (MinIO, local)" },
    { "S3_PATH_STYLE", SP_K_CI, VALS("true", "false"), NULL, NULL, 0,
      "extension: path-style addressing" },
    { "S3_EXTERNAL_ID", 0, NULL, NULL, NULL, 0, "extension: external id for S3_ARN" },
    { "S3_STS_ENDPOINT", 0, NULL, NULL, NULL, 0,
      "extension: STS endpoint URL for S3_ARN" },
};

static const sp_keydef gcs_keys[] = {
    { "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON", SP_K_SECRET, NULL, NULL, NULL, 0,
      "service account JSON" },
    { "GCS_HMAC_ACCESS_ID", 0, NULL, NULL, NULL, 0, "HMAC access id" },
    { "GCS_HMAC_SECRET", SP_K_SECRET, NULL, NULL, NULL, 0, "HMAC secret" },
    { "GCS_ENDPOINT", 0, NULL, NULL, NULL, 0,
      "extension: storage endpoint URL (default https://storage.googleapis.com; file:///dir: a "
      "local folder)" },
};

/* group: 1 engine, 2 indexes, 3 backfill, 4 kafka, 5 import, 6 forward query,
 * 8 shared_with, 9 tags (tokens are written between 6 and 8) */
static const sp_keydef ds_keys[] = {
    { "ENGINE", SP_K_QUOTE, NULL, "MergeTree", NULL, 1, "table engine" },
    { "ENGINE_PARTITION_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "PARTITION BY" },
    { "ENGINE_SORTING_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "ORDER BY" },
    { "ENGINE_PRIMARY_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "PRIMARY KEY" },
    { "ENGINE_SAMPLING_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "SAMPLE BY" },
    { "ENGINE_TTL", SP_K_QUOTE, NULL, NULL, NULL, 1, "TTL" },
    { "ENGINE_VER", SP_K_QUOTE, NULL, NULL, NULL, 1, "ReplacingMergeTree version" },
    { "ENGINE_IS_DELETED", SP_K_QUOTE, NULL, NULL, NULL, 1, "ReplacingMergeTree is_deleted" },
    { "ENGINE_SIGN", SP_K_QUOTE, NULL, NULL, NULL, 1, "Collapsing sign column" },
    { "ENGINE_VERSION", SP_K_QUOTE, NULL, NULL, NULL, 1, "VersionedCollapsing version" },
    { "ENGINE_SUMMING_COLUMNS", SP_K_QUOTE, NULL, NULL, NULL, 1, "SummingMergeTree columns" },
    { "ENGINE_SETTINGS", SP_K_QUOTE, NULL, NULL, NULL, 1, "SETTINGS" },
    { "INDEXES", SP_K_BLOCK, NULL, NULL, NULL, 2, "skipping indexes" },
    { "BACKFILL", SP_K_NOEFFECT, NULL, NULL, NULL, 3, "backfill mode" },
    { "KAFKA_CONNECTION_NAME", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "Kafka ingestion connection" },
    { "KAFKA_TOPIC", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "Kafka ingestion topic" },
    { "KAFKA_GROUP_ID", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "consumer group" },
    { "KAFKA_AUTO_OFFSET_RESET", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "earliest | latest" },
    { "KAFKA_STORE_RAW_VALUE", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "True | False" },
    { "KAFKA_STORE_HEADERS", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "True | False" },
    { "KAFKA_TARGET_PARTITIONS", SP_K_NOEFFECT, NULL, NULL, NULL, 4, "partitions" },
    { "IMPORT_CONNECTION_NAME", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "S3/GCS import connection" },
    { "IMPORT_BUCKET_URI", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "import bucket URI" },
    { "IMPORT_SCHEDULE", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "import schedule" },
    { "IMPORT_FROM_TIMESTAMP", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "import start" },
    { "IMPORT_STRATEGY", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "import strategy" },
    { "IMPORT_TABLE_ARN", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "DynamoDB table" },
    { "IMPORT_EXPORT_BUCKET", SP_K_NOEFFECT, NULL, NULL, NULL, 5, "DynamoDB export bucket" },
    { "FORWARD_QUERY", SP_K_BLOCK | SP_K_NOEFFECT, NULL, NULL, NULL, 6, "migration query" },
    { "SHARED_WITH", SP_K_BLOCK | SP_K_NOEFFECT, NULL, NULL, NULL, 8, "workspaces" },
    { "TAGS", SP_K_NOEFFECT, NULL, NULL, NULL, 9, "tags (no effect in sinkpipe)" },
};

static const sp_keydef pipe_keys[] = {
    { "EXPORT_CONNECTION_NAME", 0, NULL, NULL, NULL, 0, "sink connection" },
    { "EXPORT_KAFKA_TOPIC", 0, NULL, NULL, NULL, 0, "Kafka sink topic" },
    { "EXPORT_BUCKET_URI", 0, NULL, NULL, NULL, 0,
      "s3://bucket/prefix/, gs://bucket/prefix/ or file:///dir/" },
    { "EXPORT_FILE_TEMPLATE", 0, NULL, NULL, NULL, 0, "object name template" },
    { "EXPORT_SCHEDULE", 0, NULL, "@on-demand", NULL, 0, "cron, @once, @on-demand" },
    { "EXPORT_FORMAT", SP_K_CI, sp_formats, "csv", NULL, 0, "file format" },
    { "EXPORT_STRATEGY", SP_K_CI, sp_strategies, "create_new", NULL, 0, "write strategy" },
    { "EXPORT_WRITE_STRATEGY", SP_K_CI, sp_strategies, NULL, "EXPORT_STRATEGY", 0, "alias" },
    { "EXPORT_COMPRESSION", SP_K_CI, sp_compressions, "none", NULL, 0,
      "compression (parquet: of its pages, default snappy)" },
    { "EXPORT_PARQUET_ROW_GROUP_SIZE", 0, NULL, "1000000", NULL, 0,
      "extension: rows per Parquet row group (a group also closes at a byte bound)" },
    { "EXPORT_MAX_FILE_SIZE", 0, NULL, NULL, NULL, 0,
      "extension: start a new file once one reaches this size as stored (bytes, or "
      "256MB, 1GiB ...)" },
    { "EXPORT_MAX_FILE_ROWS", 0, NULL, NULL, NULL, 0,
      "extension: start a new file once one holds this many rows" },
    { "EXPORT_SERVICE", SP_K_CI, VALS("kafka", "s3", "s3_iamrole", "gcs"), NULL, NULL, 0, "service" },
    { "EXPORT_KAFKA_KEY", 0, NULL, NULL, NULL, 0, "extension: message key column" },
    { "EXPORT_KAFKA_TRANSACTIONAL", SP_K_CI, VALS("auto", "true", "false"), "auto", NULL, 0,
      "extension: one transaction per run (exactly once for read_committed consumers); auto: "
      "when the broker allows it, else at-least-once with a warning; false: idempotent, "
      "at-least-once" },
    { "TARGET_DATASOURCE", 0, NULL, NULL, NULL, 0, "copy target" },
    { "COPY_SCHEDULE", 0, NULL, NULL, NULL, 0, "copy schedule" },
    { "COPY_MODE", 0, NULL, NULL, NULL, 0, "append | replace" },
    { "DATASOURCE", 0, NULL, NULL, NULL, 0, "materialized target" },
    { "ENGINE", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: the target's engine (creates it)" },
    { "ENGINE_PARTITION_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: PARTITION BY" },
    { "ENGINE_SORTING_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: ORDER BY" },
    { "ENGINE_PRIMARY_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: PRIMARY KEY" },
    { "ENGINE_SAMPLING_KEY", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: SAMPLE BY" },
    { "ENGINE_TTL", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: TTL" },
    { "ENGINE_VER", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: Replacing version" },
    { "ENGINE_IS_DELETED", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: is_deleted" },
    { "ENGINE_SIGN", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: Collapsing sign" },
    { "ENGINE_VERSION", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: Versioned version" },
    { "ENGINE_SUMMING_COLUMNS", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: Summing columns" },
    { "ENGINE_SETTINGS", SP_K_QUOTE, NULL, NULL, NULL, 1, "materialized: SETTINGS" },
    { "DEPLOYMENT_METHOD", SP_K_NOEFFECT, NULL, NULL, NULL, 0, "materialized deployment" },
    { "CACHE", SP_K_NOEFFECT, NULL, NULL, NULL, 0, "endpoint cache ttl" },
    { "TAGS", SP_K_NOEFFECT, NULL, NULL, NULL, 0, "tags" },
};

const sp_keytable sp_keys_kafka = { "kafka connection", kafka_keys, NELEM(kafka_keys) };
const sp_keytable sp_keys_s3 = { "s3 connection", s3_keys, NELEM(s3_keys) };
const sp_keytable sp_keys_gcs = { "gcs connection", gcs_keys, NELEM(gcs_keys) };
const sp_keytable sp_keys_datasource = { "datasource", ds_keys, NELEM(ds_keys) };
const sp_keytable sp_keys_pipe = { "pipe", pipe_keys, NELEM(pipe_keys) };

const sp_keytable *sp_keys_for_conn(sp_conn_type t)
{
    switch (t) {
    case SP_CONN_KAFKA: return &sp_keys_kafka;
    case SP_CONN_S3: return &sp_keys_s3;
    case SP_CONN_GCS: return &sp_keys_gcs;
    }
    return &sp_keys_kafka;
}

const sp_keydef *sp_keys_find(const sp_keytable *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->keys[i].key, key) == 0)
            return &t->keys[i];
    return NULL;
}

const char *sp_keys_canonical(const sp_keytable *t, const char *key)
{
    const sp_keydef *d = sp_keys_find(t, key);
    return d && d->alias_of ? d->alias_of : key;
}

const sp_kv *sp_kvlist_find_canon(const sp_keytable *t, const sp_kvlist *l,
                                  const char *canon)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(sp_keys_canonical(t, l->v[i].key), canon) == 0)
            return &l->v[i];
    return NULL;
}

void sp_keys_list(const sp_keytable *t, char *out, size_t n)
{
    size_t len = 0;
    if (n)
        out[0] = '\0';
    for (size_t i = 0; i < t->n; i++)
        if (!t->keys[i].alias_of)
            sp_keys_join(out, n, &len, t->keys[i].key);
}

int sp_keys_value_ok(const sp_keydef *d, const char *value)
{
    if (!d->values || strstr(value, "{{"))
        return 1;
    for (size_t i = 0; d->values[i]; i++) {
        if ((d->flags & SP_K_CI) ? strcasecmp(d->values[i], value) == 0
                                 : strcmp(d->values[i], value) == 0)
            return 1;
    }
    return 0;
}

int sp_keys_check(const sp_keytable *t, const sp_kvlist *l, const char *path,
                  const char *name, int line0, sp_error *err)
{
    sp_where where;
    char list[700];
    for (size_t i = 0; i < l->n; i++) {
        const sp_kv *kv = &l->v[i];
        const sp_keydef *d = sp_keys_find(t, kv->key);
        sp_where_at(&where, path, name, kv->line, kv->key);
        if (!d) {
            sp_keys_list(t, list, sizeof list);
            return sp_model_set(err, where, SP_EDEF, "unknown key (expected one of %s)",
                                list);
        }
        const char *canon = d->alias_of ? d->alias_of : d->key;
        for (size_t j = 0; j < i; j++)
            if (strcmp(sp_keys_canonical(t, l->v[j].key), canon) == 0)
                return sp_model_set(err, where, SP_EDEF, "duplicate key");
        if (!sp_keys_value_ok(d, kv->value)) {
            /* the noun: last word of the key (EXPORT_FORMAT: format) */
            char noun[32] = "value";
            const char *us = strrchr(canon, '_');
            if (us && strcmp(d->values[0], "true") != 0 && strlen(us + 1) < sizeof noun) {
                size_t j = 0;
                for (const char *c = us + 1; *c; c++)
                    noun[j++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
                noun[j] = '\0';
            }
            sp_keys_values(d->values, list, sizeof list);
            if (d->flags & SP_K_SECRET)
                return sp_model_set(err, where, SP_EDEF, "unknown %s (expected %s)", noun,
                                    list);
            return sp_model_set(err, where, SP_EDEF, "unknown %s '%s' (expected %s)",
                                noun, kv->value, list);
        }
    }
    for (size_t i = 0; i < t->n; i++) {
        if ((t->keys[i].flags & SP_K_REQUIRED) && !sp_kvlist_find(l, t->keys[i].key)) {
            sp_where_at(&where, path, name, line0, t->keys[i].key);
            return sp_model_set(err, where, SP_EDEF, "required key is missing (%s)",
                                t->keys[i].doc);
        }
    }
    return 0;
}

int sp_name_ok(const char *s)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static const char *const chtypes[] = {
    "Int8", "Int16", "Int32", "Int64", "Int128", "Int256", "UInt8", "UInt16", "UInt32",
    "UInt64", "UInt128", "UInt256", "Float32", "Float64", "BFloat16", "Decimal", "Decimal32",
    "Decimal64", "Decimal128", "Decimal256", "String", "FixedString", "UUID", "Date", "Date32",
    "DateTime", "DateTime32", "DateTime64", "Time", "Time64", "Bool", "Boolean", "Enum",
    "Enum8", "Enum16", "LowCardinality", "Nullable", "Array", "Map", "Tuple", "Nested", "JSON",
    "Object", "IPv4", "IPv6", "SimpleAggregateFunction", "AggregateFunction", "Point", "Ring",
    "Polygon", "MultiPolygon", "LineString", "MultiLineString", "Variant", "Dynamic",
    "Nothing", "IntervalSecond", "IntervalMinute", "IntervalHour", "IntervalDay",
    "IntervalWeek", "IntervalMonth", "IntervalYear", NULL
};

int sp_chtype_ok(const char *type)
{
    size_t n = 0;
    while ((type[n] >= 'a' && type[n] <= 'z') || (type[n] >= 'A' && type[n] <= 'Z') ||
           (type[n] >= '0' && type[n] <= '9') || type[n] == '_')
        n++;
    int known = 0;
    for (size_t i = 0; chtypes[i]; i++)
        if (strlen(chtypes[i]) == n && memcmp(chtypes[i], type, n) == 0)
            known = 1;
    if (!known)
        return 0;
    const char *s = type + n;
    if (*s == '\0')
        return 1;
    if (*s != '(')
        return 0;
    int depth = 0;
    char q = 0;
    for (; *s; s++) {
        if (q) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == q)
                q = 0;
            continue;
        }
        if (*s == '\'' || *s == '"' || *s == '`')
            q = *s;
        else if (*s == '(')
            depth++;
        else if (*s == ')' && --depth == 0)
            return s[1] == '\0';
        else if (depth < 0)
            return 0;
    }
    return 0;
}

int sp_chtype_depth(const char *type)
{
    int depth = 0, max = 0;
    char q = 0;
    for (const char *s = type; *s; s++) {
        if (q) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == q)
                q = 0;
        } else if (*s == '\'' || *s == '"' || *s == '`') {
            q = *s;
        } else if (*s == '(' && ++depth > max) {
            max = depth;
        } else if (*s == ')') {
            depth--;
        }
    }
    return max;
}

static int lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

const char *sp_bucket_uri_problem(const char *uri)
{
    const char *path = uri;
    if (!strncmp(uri, "s3://", 5)) {
        const char *b = uri + 5;
        size_t n = strcspn(b, "/");
        if (n < 3 || n > 63)
            return "an S3 bucket name has 3 to 63 characters";
        for (size_t i = 0; i < n; i++)
            if (!lower_alnum(b[i]) && b[i] != '.' && b[i] != '-')
                return "an S3 bucket name holds only a-z, 0-9, '.' and '-'";
        if (!lower_alnum(b[0]) || !lower_alnum(b[n - 1]))
            return "an S3 bucket name starts and ends with a letter or digit";
        for (size_t i = 0; i + 1 < n; i++)
            if (b[i] == '.' && b[i + 1] == '.')
                return "an S3 bucket name has no \"..\"";
        path = b + n;
    } else if (!strncmp(uri, "gs://", 5) || !strncmp(uri, "file://", 7)) {
        path = uri + (uri[0] == 'g' ? 5 : 7);
    }
    for (const char *q = path; *q;) { /* segments between '/' */
        size_t n = strcspn(q, "/");
        if (n == 2 && q[0] == '.' && q[1] == '.')
            return "a '..' path segment would leave the bucket or folder";
        q += n + (q[n] == '/');
    }
    return NULL;
}

int sp_strategy_parse(const char *s, sp_strategy *out)
{
    /* Tinybird's spellings: new, @new, @truncate */
    if (strcasecmp(s, "create_new") == 0 || strcasecmp(s, "new") == 0 || strcasecmp(s, "@new") == 0)
        *out = SP_STRATEGY_CREATE_NEW;
    else if (strcasecmp(s, "replace") == 0 || strcasecmp(s, "truncate") == 0 ||
             strcasecmp(s, "@truncate") == 0)
        *out = SP_STRATEGY_REPLACE;
    else
        return SP_EDEF;
    return 0;
}

/* parse_u64: leading decimal digits of s (1 .. SP_SIZE_MAX); *end after */
static int parse_u64(const char *s, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (SP_SIZE_MAX - (uint64_t)(*p - '0')) / 10)
            return SP_EDEF;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == s || v == 0)
        return SP_EDEF;
    *out = v;
    *end = p;
    return 0;
}

int sp_size_parse(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mul;
    } units[] = {
        { "", 1 },
        { "B", 1 },
        { "KB", 1000ull },
        { "MB", 1000ull * 1000 },
        { "GB", 1000ull * 1000 * 1000 },
        { "TB", 1000ull * 1000 * 1000 * 1000 },
        { "KiB", 1ull << 10 },
        { "MiB", 1ull << 20 },
        { "GiB", 1ull << 30 },
        { "TiB", 1ull << 40 },
    };
    uint64_t v;
    const char *p;
    if (!s || parse_u64(s, &v, &p))
        return SP_EDEF;
    if (*p == ' ' && p[1]) /* one space before a unit */
        p++;
    for (size_t i = 0; i < NELEM(units); i++) {
        if (strcasecmp(p, units[i].unit) != 0)
            continue;
        if (v > SP_SIZE_MAX / units[i].mul)
            return SP_EDEF;
        *out = v * units[i].mul;
        return 0;
    }
    return SP_EDEF;
}

int sp_count_parse(const char *s, uint64_t *out)
{
    const char *p;
    uint64_t v;
    if (!s || parse_u64(s, &v, &p) || *p)
        return SP_EDEF;
    *out = v;
    return 0;
}

int sp_template_balanced(const char *s, size_t *pos)
{
    int open = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '{') {
            if (open) {
                *pos = i + 1;
                return 0;
            }
            open = 1;
            *pos = i + 1;
        } else if (s[i] == '}') {
            if (!open) {
                *pos = i + 1;
                return 0;
            }
            open = 0;
        }
    }
    return !open;
}

int sp_secret_key(const char *key)
{
    static const char *const keys[] = { "KAFKA_KEY", "KAFKA_SECRET", "S3_SECRET",
                                        "GCS_SERVICE_ACCOUNT_CREDENTIALS_JSON",
                                        "GCS_HMAC_SECRET", NULL };
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(keys[i], key) == 0)
            return 1;
    return 0;
}
