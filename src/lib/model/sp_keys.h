/* sp_keys: the tables of datafile keys (one place: key, flags, accepted
 * values, default, one-line doc), shared by the datafile parser, the
 * validators, the writer and the resolver.  Table order is the order in which
 * sp_dfwrite writes the keys (the order of `tinybird generate`). */
#ifndef SP_KEYS_H
#define SP_KEYS_H

#include <stddef.h>

#include "sp_buf.h"
#include "sp_keys_env.h"
#include "sp_model.h"



extern const sp_keytable sp_keys_kafka, sp_keys_s3, sp_keys_gcs, sp_keys_datasource,
    sp_keys_pipe;
/* sp_keys_for_conn: the table of a connection type. */
const sp_keytable *sp_keys_for_conn(sp_conn_type t);
/* sp_keys_find: the entry for key (exact, upper case), or NULL. */
const sp_keydef *sp_keys_find(const sp_keytable *t, const char *key);
/* sp_keys_canonical: the key itself, or the key it is an alias of. */
const char *sp_keys_canonical(const sp_keytable *t, const char *key);
/* sp_keys_list: "A, B, C" of the table's keys (or of a NULL-terminated value
 * list) into out (bounded). */
void sp_keys_list(const sp_keytable *t, char *out, size_t n);
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
