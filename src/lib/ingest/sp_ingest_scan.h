/* sp_ingest_scan: the NDJSON fast path.  One pass over a record validates
 * its JSON strictly (RFC 8259, as jansson reads it) and finds the values of
 * the datasource's jsonpaths as spans of the record, without building a
 * tree or allocating per value.
 *
 * The contract is "the same as jansson, or say so": sp__scan_record either
 * returns 0, and then jansson's json_loadb (JSON_ALLOW_NUL) would have
 * accepted the record and every value found here is exactly the value it
 * would have given, or it returns SP__FALLBACK and the caller runs the
 * record through jansson (sp_ingest.c).  Falling back is always correct, so
 * whatever is rare or hard is left to jansson: invalid JSON (its error text
 * is what the quarantine shows), reals that overflow, integers beyond
 * int64 that the bignum rewrite would not take (longer than 80 characters,
 * or in a record holding the text \u0000), nesting deeper than 512, and
 * composite values whose objects repeat a key when their text or map
 * entries are needed (jansson keeps the first key's place and the last
 * value).
 *
 * Supported jsonpaths are chains of object keys (`$.a`, `$.a.b`,
 * `$['a b']`, at most 64 of them); sp__scan_new reports anything else
 * (indexes, [:]) as unsupported, and the ingest then uses jansson for every
 * record of that load. */
#ifndef SP_INGEST_SCAN_H
#define SP_INGEST_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "sp_buf.h"
#include "sp_ingest_int.h"

/* Returned (positive: never an sp_error code) when a record must go
 * through jansson instead. */
#define SP__FALLBACK 1

typedef enum sp__jvkind {
    SP__JV_MISSING, /* the path matched nothing */
    SP__JV_NULL,
    SP__JV_FALSE,
    SP__JV_TRUE,
    SP__JV_INT,  /* fits int64: i */
    SP__JV_BIG,  /* an integer beyond int64: p/n its token (jansson's bignum
                  * rewrite makes it the marker string "\0<token>") */
    SP__JV_REAL, /* a number with a fraction or exponent: p/n its text */
    SP__JV_STR,  /* p/n the raw body between the quotes; esc: holds escapes */
    SP__JV_ARR,  /* p/n from the bracket to its match, validated */
    SP__JV_OBJ
} sp__jvkind;

/* A value of a validated record: spans borrow the record's bytes and stay
 * valid as long as they do. */
typedef struct sp__jv {
    sp__jvkind t;
    int esc;
    const char *p;
    size_t n;
    int64_t i;
} sp__jv;

typedef struct sp__scan sp__scan;

/* sp__scan_new: a scanner for n columns whose jsonpaths are paths[0..n).
 * *out is NULL (and 0 returned) when some path is not supported; ENOMEM
 * via err.  The paths are borrowed and must outlive the scanner. */
int sp__scan_new(const sp__jpath *paths, size_t n, sp__scan **out, sp_error *err);
void sp__scan_free(sp__scan *s);
/* sp__scan_record: validate p[0..n) and find every path's value; 0 or
 * SP__FALLBACK (see above). */
int sp__scan_record(sp__scan *s, const char *p, size_t n);
/* sp__scan_get: column i's value in the last record scanned (t is
 * SP__JV_MISSING when absent). */
const sp__jv *sp__scan_get(const sp__scan *s, size_t i);
size_t sp__scan_mem(const sp__scan *s);

/* ---- values of a scanned record ---- */

/* sp__jv_str: the bytes of a string value as jansson decodes them: the
 * raw span when it holds no escape, else decoded into buf (reset first).
 * 0 or ENOMEM via err. */
int sp__jv_str(const sp__jv *v, sp_buf *buf, const char **s, size_t *n, sp_error *err);
/* sp__jv_real: the double of a REAL (correctly rounded, as strtod).  0,
 * or SP_ENOMEM for a token too long for the stack. */
int sp__jv_real(const sp__jv *v, double *out, sp_error *err);
/* sp__jv_compact: append v's compact JSON text to out, exactly as
 * sp__json_compact would for jansson's tree of it (the same text, written
 * by the same sequence of sp_buf calls, so out's ceiling cuts it at the
 * same place).  tmp holds decoded strings.  0, SP__FALLBACK (repeated or
 * escaped keys in an object, nesting deeper than the walker's stack), or
 * an error from out. */
int sp__jv_compact(const sp__jv *v, sp_buf *out, sp_buf *tmp, sp_error *err);
/* sp__jv_distinctkeys: 1 when no object in v (an OBJ or ARR) repeats a
 * key, so that its members are exactly jansson's, in the same order; tmp
 * holds decoded keys. */
int sp__jv_distinctkeys(const sp__jv *v, sp_buf *tmp);

/* Iteration over the members of an ARR or OBJ value. */
typedef struct sp__jit {
    const char *p, *end;
    int obj;
} sp__jit;

void sp__jit_init(sp__jit *it, const sp__jv *v);
/* sp__jit_next: the next element (key is filled for objects and may be
 * NULL for arrays); 0 at the end. */
int sp__jit_next(sp__jit *it, sp__jv *key, sp__jv *val);

#endif
