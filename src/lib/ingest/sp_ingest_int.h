/* sp_ingest_int.h: internals shared by sp_ingest.c (record splitting,
 * batches, quarantine) and sp_ingest_conv.c (per-type conversion into
 * column builders, jsonpaths, value text).
 *
 * A column builder (sp__colbuf) accumulates the values of one column of the
 * current batch; arrays and maps keep their elements in child builders.  Text
 * lives in an arena of blocks whose addresses never move, so sp_str values
 * stay valid until the arena is reset at the end of the batch.  A row that
 * fails to convert is rolled back with sp__colbuf_truncate(). */
#ifndef SP_INGEST_INT_H
#define SP_INGEST_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_type.h"

/* ---- arena: bump allocator of stable blocks, reset per batch ---- */
typedef struct sp__ablock {
    char *p;
    size_t cap, used;
} sp__ablock;

typedef struct sp__arena {
    sp__ablock *b;
    size_t nb, cur;
    size_t held; /* bytes allocated in blocks */
} sp__arena;

typedef struct sp__amark {
    size_t cur, used;
} sp__amark;

/* sp__arena_dup: copy n bytes into the arena; NULL on ENOMEM. */
char *sp__arena_dup(sp__arena *a, const char *p, size_t n);
sp__amark sp__arena_mark(const sp__arena *a);
void sp__arena_rollback(sp__arena *a, sp__amark m);
void sp__arena_reset(sp__arena *a);
void sp__arena_release(sp__arena *a);

/* ---- jsonpath ---- */
typedef enum { SP__JP_KEY, SP__JP_INDEX, SP__JP_ALL } sp__jpkind;
typedef struct sp__jpstep {
    sp__jpkind kind;
    char *key;     /* KEY: heap, NUL-terminated */
    long index;    /* INDEX: negative counts from the end */
} sp__jpstep;

typedef struct sp__jpath {
    sp__jpstep *steps;
    size_t n;
} sp__jpath;

/* sp__jpath_parse: `$.a.b`, `$.a[0]`, `$.['a b']`, `$['a']`, `$.a[:]`,
 * `$.a[:].b`.  Fills *out (release with sp__jpath_release). */
int sp__jpath_parse(const char *text, sp__jpath *out, sp_error *err);
void sp__jpath_release(sp__jpath *p);
/* sp__jpath_eval: the value at the path, or NULL when missing.  The result
 * carries a reference the caller drops with json_decref(). */
json_t *sp__jpath_eval(const sp__jpath *p, json_t *root);

/* sp__literal_parse: a ClickHouse text literal of a composite value
 * (`[1, 'a']`, `{'k': 2}`, `(1, 'x')`, JSON arrays/objects too) into a JSON
 * tree whose scalars are strings (bare tokens as written, NULL as null).
 * New reference, or NULL when the text is not such a literal. */
json_t *sp__literal_parse(const char *s, size_t n);

/* sp__fmt_double: the shortest text that reads back as v (sp_dtoa); 0 when
 * buf is too small. */
size_t sp__fmt_double(double v, char *buf, size_t size);
/* sp__fmt_i64: decimal text of v into buf (>= 21 bytes, no terminator);
 * its length. */
size_t sp__fmt_i64(int64_t v, char *buf);
/* sp__json_str: append s[0..n) as a JSON string literal (quotes, escapes
 * of '"', '\\' and control characters; other bytes as they are). */
int sp__json_str(const char *s, size_t n, sp_buf *out, sp_error *err);

/* ---- column builders ---- */
typedef enum { SP__ST_U64, SP__ST_I64, SP__ST_F64, SP__ST_STR, SP__ST_LIST,
               SP__ST_TUPLE } sp__storage;

typedef struct sp__colbuf {
    const sp_type *type;
    sp__storage st;
    char *tname;       /* canonical type name, for messages */
    char **enum_names; /* ENUM8/16: names, enum_vals[i] their numbers */
    long *enum_vals;
    size_t nenum;
    size_t n, cap;     /* values held (rows for top level) */
    void *vals;        /* u64 / i64 / f64 / sp_str by st */
    uint8_t *nulls;
    size_t nnull;      /* count of NULLs held */
    uint64_t *offsets; /* LIST: n + 1 entries */
    struct sp__colbuf *child;
    size_t nchild;
    sp_column *childcols; /* views of the children, rebuilt at flush */
} sp__colbuf;

/* The conversion context: where text goes and how the batch grows. */
typedef struct sp__conv {
    sp__arena *arena;
    size_t *batch_bytes; /* grows by the bytes each value costs */
    sp_buf *scratch;     /* reusable text buffer */
    const char *colname; /* for messages */
    sp_buf *msg;         /* on a data error: "column 'x': ..." */
    int bignum;          /* the record holds bignum marker strings */
    sp_buf *ubuf;        /* sp__conv_jv: decoded strings */
} sp__conv;

int sp__colbuf_init(sp__colbuf *cb, const sp_type *t, sp_error *err);
void sp__colbuf_release(sp__colbuf *cb);
/* sp__colbuf_ensure: room for one more value (and its offset). */
int sp__colbuf_ensure(sp__colbuf *cb, sp_error *err);
size_t sp__colbuf_elem_size(const sp__colbuf *cb); /* bytes per value, 0 for lists */
/* sp__colbuf_truncate: drop values from index n on (recursively). */
void sp__colbuf_truncate(sp__colbuf *cb, size_t n);
/* sp__colbuf_view: fill col with views of the current values. */
void sp__colbuf_view(sp__colbuf *cb, sp_column *col);
/* sp__colbuf_bytes: memory held by the arrays (not the arena). */
size_t sp__colbuf_bytes(const sp__colbuf *cb);

/* Conversions.  Return 0, SP_EDATA with cv->msg filled (a data error: the
 * row goes to the quarantine), or another negative code (ENOMEM) via err.
 * from_text: the value came from text (CSV, DEFAULT): strings are accepted
 * for every scalar type. */
int sp__conv_json(sp__conv *cv, sp__colbuf *cb, json_t *v, int from_text, sp_error *err);
int sp__conv_text(sp__conv *cv, sp__colbuf *cb, const char *s, size_t n, sp_error *err);
/* sp__conv_jv: a value of a record scanned by sp_ingest_scan (NDJSON, so
 * from_text 0), exactly as sp__conv_json converts jansson's tree of it; or
 * SP__FALLBACK (1) when the record must go through jansson. */
struct sp__jv;
int sp__conv_jv(sp__conv *cv, sp__colbuf *cb, const struct sp__jv *v, sp_error *err);
/* sp__conv_null: a NULL into a Nullable builder (SP_EDATA when not). */
int sp__conv_null(sp__conv *cv, sp__colbuf *cb, sp_error *err);

/* sp__json_compact: append the compact JSON text of v (keys in document
 * order, numbers as short as they round-trip). */
int sp__json_compact(json_t *v, sp_buf *out, sp_error *err);
/* ... where, with bignum, marker strings (see below) are bare numbers. */
int sp__json_compact_bn(json_t *v, sp_buf *out, int bignum, sp_error *err);

/* Integers outside int64 (jansson refuses them: json_int_t): the NDJSON
 * reader rewrites each such number token of a record into the string
 * "\u0000<digits>" and parses again with bignum set, so the digits reach the
 * column exactly.  sp__json_bignum_rewrite: the record p/n with those tokens
 * rewritten into out (reset first); 1 when it rewrote any, 0 when there was
 * none or the record has a \u0000 of its own (marker ambiguous).
 * sp__bignum_text: the digits of such a marker string (borrowed from v),
 * NULL when v is not one or bignum is 0. */
int sp__json_bignum_rewrite(const char *p, size_t n, sp_buf *out);
const char *sp__bignum_text(json_t *v, int bignum, size_t *n);

/* Test hooks (sp_ingest.c): smaller limits, and the bytes held now. */
struct sp_ingest;
void sp__ingest_set_limits(struct sp_ingest *in, size_t max_rows, size_t max_bytes,
                           size_t max_record);
size_t sp__ingest_mem(const struct sp_ingest *in);
/* sp__ingest_use_scanner: 0 sends every NDJSON record through jansson (the
 * reference the fast path is compared with), 1 (the default) uses the
 * scanner when the jsonpaths allow it; sp__ingest_scanning: whether it
 * does. */
void sp__ingest_use_scanner(struct sp_ingest *in, int on);
int sp__ingest_scanning(const struct sp_ingest *in);
/* sp__ingest_fallbacks: NDJSON records the scanner handed to jansson. */
uint64_t sp__ingest_fallbacks(const struct sp_ingest *in);

#endif
