/* sp_keys: the tables of datafile keys (one place: key, flags, accepted
 * values, default, one-line doc), shared by the datafile parser, the
 * validators, the writer and the resolver.  Table order is the order in which
 * sp_dfwrite writes the keys (the order of `tinybird generate`). */
#ifndef SP_KEYS_H
#define SP_KEYS_H

#include <stddef.h>

#include "sp_buf.h"
#include "sp_model.h"

#define SP_K_REQUIRED 1u /* must be present */
#define SP_K_SECRET 2u   /* sensitive value: never printed */
#define SP_K_QUOTE 4u    /* written as KEY "value" (ENGINE keys) */
#define SP_K_BLOCK 8u    /* always written as a `KEY >` block */
#define SP_K_CI 16u      /* accepted values compare case-insensitively */
#define SP_K_NOEFFECT 32u /* accepted as Tinybird writes it, no effect in sinkpipe
                             (`check` warns; docs/datafiles.md) */

/* the type of an environment setting's value (datafile keys are TEXT, with
 * `values` when only some are accepted) */
typedef enum sp_keytype {
    SP_KT_TEXT = 0, /* any text */
    SP_KT_INT,      /* a whole decimal number from lo to hi */
    SP_KT_NUM,      /* a decimal number from lo to hi */
    SP_KT_BOOL,     /* true, false, 1 or 0 (any case) */
    SP_KT_ENUM,     /* one of `values` */
    SP_KT_TIME,     /* ISO 8601 time (sp_parse_time) */
} sp_keytype;

typedef struct sp_keydef {
    const char *key; /* "NAME", or "PREFIX_<what>" for a family of names */
    unsigned flags;
    const char *const *values; /* NULL-terminated accepted values, or NULL */
    const char *dflt;          /* default value or NULL */
    const char *alias_of;      /* canonical key when this is an alias */
    int group;                 /* writer: a blank line between groups */
    const char *doc;
    /* environment settings only */
    sp_keytype type;
    double lo, hi; /* INT, NUM: the accepted range */
} sp_keydef;

typedef struct sp_keytable {
    const char *what; /* "kafka connection", "pipe", ... */
    const sp_keydef *keys;
    size_t n;
} sp_keytable;

extern const sp_keytable sp_keys_kafka, sp_keys_s3, sp_keys_gcs, sp_keys_datasource,
    sp_keys_pipe;
/* Environment settings (not datafile keys): every variable the library
 * reads, by subsystem, NULL-terminated.  The library reads them only through
 * the sp_keys_env_* functions below, which know their types, ranges and
 * defaults; docs/configuration.md is generated from these tables. */
extern const sp_keytable sp_keys_env_engine, sp_keys_env_s3, sp_keys_env_gcs, sp_keys_env_aws,
    sp_keys_env_serve;
extern const sp_keytable *const sp_keys_env_tables[];

struct sp_env;
/* sp_keys_env_def: the entry of environment variable `name` (a family entry
 * "SINKPIPE_TOKEN_<name>" matches every name with its prefix), or NULL. */
const sp_keydef *sp_keys_env_def(const char *name);
/* sp_keys_env_get: the value of `name` in env (NULL env: none), else its default,
 * else NULL; "" counts as unset.  Owned by env or static.  TEXT and TIME
 * settings; a name not in the tables is a programming error (NULL). */
const char *sp_keys_env_get(const struct sp_env *env, const char *name);
/* sp_keys_env_int / _num / _bool / _enum: the setting checked against its
 * type and range: an invalid value is SP_EINVAL `NAME: 'value' is not ...`
 * (never a silent default).  Unset: the table's default, or `*out`
 * untouched when it has none (the caller's own default stands).  _enum
 * returns the accepted spelling of the table (static). */
int sp_keys_env_int(const struct sp_env *env, const char *name, int64_t *out, sp_error *err);
int sp_keys_env_num(const struct sp_env *env, const char *name, double *out, sp_error *err);
int sp_keys_env_bool(const struct sp_env *env, const char *name, int *out, sp_error *err);
int sp_keys_env_enum(const struct sp_env *env, const char *name, const char **out,
                    sp_error *err);

/* sp_keys_for_conn: the table of a connection type. */
const sp_keytable *sp_keys_for_conn(sp_conn_type t);
/* sp_keys_find: the entry for key (exact, upper case), or NULL. */
const sp_keydef *sp_keys_find(const sp_keytable *t, const char *key);
/* sp_keys_canonical: the key itself, or the key it is an alias of. */
const char *sp_keys_canonical(const sp_keytable *t, const char *key);
/* sp_keys_list: "A, B, C" of the table's keys (or of a NULL-terminated value
 * list) into out (bounded). */
void sp_keys_list(const sp_keytable *t, char *out, size_t n);
void sp_keys_values(const char *const *values, char *out, size_t n);
/* sp_keys_value_ok: 1 when value is accepted by d (templated values that
 * hold {{ }} are accepted here and checked after resolution). */
int sp_keys_value_ok(const sp_keydef *d, const char *value);
/* sp_keys_check: every key of l is known to t, accepted values, no
 * duplicates, required keys present.  Errors `where: KEY: reason`. */
int sp_keys_check(const sp_keytable *t, const sp_kvlist *l, const char *path,
                  const char *name, int line0, sp_error *err);
/* sp_kvlist_get_canon: value of key or of any alias of it. */
const sp_kv *sp_kvlist_find_canon(const sp_keytable *t, const sp_kvlist *l,
                                  const char *canon);

/* sp_name_ok: ^[a-zA-Z_][a-zA-Z0-9_]*$ */
int sp_name_ok(const char *s);
/* sp_chtype_ok: the outermost name of a ClickHouse type is known and its
 * parentheses balance. */
int sp_chtype_ok(const char *type);
/* sp_chtype_depth: the deepest nesting of parentheses in a type (quotes
 * skipped): 0 for String, 2 for Array(Nullable(String)). */
int sp_chtype_depth(const char *type);

/* sp_bucket_uri_problem: NULL when an EXPORT_BUCKET_URI cannot leave its
 * bucket or folder, else why (a static string): an s3:// bucket name must
 * follow S3's rules (3-63 characters of a-z, 0-9, '.' and '-', starting and
 * ending with a letter or digit, no ".."), and no URI may hold a ".."
 * path segment (with a file:// S3_ENDPOINT the bucket and the prefix are
 * folders under the endpoint's). */
const char *sp_bucket_uri_problem(const char *uri);

/* Validators used by sp_sinkcfg for overrides (NULL-terminated lists). */
extern const char *const sp_formats[], *const sp_compressions[], *const sp_strategies[];

/* sp_strategy_parse: create_new | replace | truncate (= replace). */
int sp_strategy_parse(const char *s, sp_strategy *out);
/* sp_size_parse: a positive size in bytes: digits, optionally a space, and
 * a unit B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers
 * of 1024), any case: "1048576", "256MB", "1 GiB".  At most SP_SIZE_MAX.
 * SP_EDEF for anything else (0, fractions, signs, unknown units). */
#define SP_SIZE_MAX ((uint64_t)1 << 62)
int sp_size_parse(const char *s, uint64_t *out);
/* sp_count_parse: a positive decimal count (digits only, at most
 * SP_SIZE_MAX); SP_EDEF otherwise. */
int sp_count_parse(const char *s, uint64_t *out);
/* sp_template_balanced: braces in a file template balance (no nesting). */
int sp_template_balanced(const char *s, size_t *pos);

/* sp_secret_key: key whose value is always sensitive */
int sp_secret_key(const char *key);

#endif
