/* sp_thrift: a Thrift compact-protocol encoder, just enough for Parquet's
 * metadata (FileMetaData, PageHeader): structs, i32/i64 (zigzag varints),
 * bools, binary/strings and lists, appended to an sp_buf.
 *
 * Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 *
 * Usage: fields are written in increasing id order inside a struct; a
 * nested struct (a field of struct type, or a list element) is opened with
 * sp_thrift_struct_begin / sp_thrift_elem_struct and closed with
 * sp_thrift_struct_end.  Errors (only SP_ENOMEM / SP_ETOOBIG from the
 * buffer) are sticky: the first one is kept in `rc` and `err`, and every
 * later call does nothing, so a caller writes a whole struct and checks
 * `w.rc` once. */
#ifndef SP_THRIFT_H
#define SP_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "sp_buf.h"

#define SP_THRIFT_MAX_DEPTH 32

/* compact-protocol element types (list headers) */
enum {
    SP_THRIFT_BOOL = 1, /* in a field header: 1 true, 2 false */
    SP_THRIFT_BYTE = 3,
    SP_THRIFT_I16 = 4,
    SP_THRIFT_I32 = 5,
    SP_THRIFT_I64 = 6,
    SP_THRIFT_DOUBLE = 7,
    SP_THRIFT_BINARY = 8,
    SP_THRIFT_LIST = 9,
    SP_THRIFT_STRUCT = 12
};

typedef struct sp_thrift {
    sp_buf *out;    /* borrowed */
    sp_error *err;  /* borrowed, may be NULL */
    int rc;         /* first failure, 0 while all went well */
    int depth;      /* open nested structs */
    int16_t last[SP_THRIFT_MAX_DEPTH]; /* last field id per open struct */
} sp_thrift;

/* sp_thrift_init: write into out (borrowed) the top-level struct's fields. */
void sp_thrift_init(sp_thrift *w, sp_buf *out, sp_error *err);

void sp_thrift_i32(sp_thrift *w, int16_t fid, int32_t v);
void sp_thrift_i64(sp_thrift *w, int16_t fid, int64_t v);
void sp_thrift_bool(sp_thrift *w, int16_t fid, int v);
void sp_thrift_byte(sp_thrift *w, int16_t fid, int8_t v); /* i8: one raw byte */
void sp_thrift_binary(sp_thrift *w, int16_t fid, const void *p, size_t n);
void sp_thrift_string(sp_thrift *w, int16_t fid, const char *s);
/* a struct-typed field: its fields follow, then sp_thrift_struct_end */
void sp_thrift_struct_begin(sp_thrift *w, int16_t fid);
/* the end of a nested struct (or, at depth 0, of the top-level one) */
void sp_thrift_struct_end(sp_thrift *w);
/* a list-typed field of n elements of elem_type; then n elements */
void sp_thrift_list_begin(sp_thrift *w, int16_t fid, int elem_type, size_t n);
/* list elements */
void sp_thrift_elem_i32(sp_thrift *w, int32_t v);
void sp_thrift_elem_string(sp_thrift *w, const char *s);
void sp_thrift_elem_struct(sp_thrift *w); /* fields, then sp_thrift_struct_end */

/* the raw pieces (exposed for the tests) */
void sp_thrift_varint(sp_thrift *w, uint64_t v);
static inline uint64_t sp_thrift_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

#endif
