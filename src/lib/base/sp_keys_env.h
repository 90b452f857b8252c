/* sp_keys_env: the key table's types (shared with the datafile tables of
 * sp_keys.h) and the environment settings: every variable the library reads,
 * with type, range, default and doc, and the only functions that read them.
 * Depends on sp_env and sp_error only, so that every layer may read its
 * settings. */
#ifndef SP_KEYS_ENV_H
#define SP_KEYS_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "sinkpipe.h"
#include "sp_env.h"

/* flags of a key */
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

/* Environment settings (not datafile keys): every variable the library
 * reads, by subsystem, NULL-terminated.  The library reads them only through
 * the sp_keys_env_* functions below, which know their types, ranges and
 * defaults; docs/configuration.md is generated from these tables. */
extern const sp_keytable sp_keys_env_engine, sp_keys_env_s3, sp_keys_env_gcs, sp_keys_env_aws,
    sp_keys_env_serve;
extern const sp_keytable *const sp_keys_env_tables[];

/* sp_keys_env_def: the entry of environment variable `name` (a family entry
 * "SINKPIPE_TOKEN_<name>" matches every name with its prefix), or NULL. */
const sp_keydef *sp_keys_env_def(const char *name);
/* sp_keys_env_get: the value of `name` in env (NULL env: none), else its default,
 * else NULL; "" counts as unset.  Owned by env or static.  TEXT and TIME
 * settings; a name not in the tables is a programming error (NULL). */
const char *sp_keys_env_get(const sp_env *env, const char *name);
/* sp_keys_env_int / _num / _bool / _enum: the setting checked against its
 * type and range: an invalid value is SP_EINVAL `NAME: 'value' is not ...`
 * (never a silent default).  Unset: the table's default, or `*out`
 * untouched when it has none (the caller's own default stands).  _enum
 * returns the accepted spelling of the table (static). */
int sp_keys_env_int(const sp_env *env, const char *name, int64_t *out, sp_error *err);
int sp_keys_env_num(const sp_env *env, const char *name, double *out, sp_error *err);
int sp_keys_env_bool(const sp_env *env, const char *name, int *out, sp_error *err);
int sp_keys_env_enum(const sp_env *env, const char *name, const char **out,
                    sp_error *err);

/* sp_keys_values: "a, b, c" of a NULL-terminated value list into out
 * (bounded, always terminated). */
void sp_keys_values(const char *const *values, char *out, size_t n);
/* sp_keys_join: append ", s" (or "s" when *len is 0) to out[0..n), bounded. */
void sp_keys_join(char *out, size_t n, size_t *len, const char *s);

#endif
