/* sp_thrift: Thrift compact-protocol encoder (see sp_thrift.h). */
#include "sp_thrift.h"

#include <string.h>

#include "sp_error.h"
#include "sp_banned.h"

void sp_thrift_init(sp_thrift *w, sp_buf *out, sp_error *err)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->err = err;
}

static void put(sp_thrift *w, const void *p, size_t n)
{
    if (!w->rc)
        w->rc = sp_buf_add(w->out, p, n, w->err);
}

static void byte(sp_thrift *w, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(w, &c, 1);
}

void sp_thrift_varint(sp_thrift *w, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (unsigned char)v;
    put(w, b, n);
}

/* field header: the id as a delta from the previous one when it fits in
 * 4 bits, else the type byte and the id as a zigzag varint */
static void field(sp_thrift *w, int16_t fid, int type)
{
    int16_t *last = &w->last[w->depth];
    int delta = fid - *last;
    if (delta > 0 && delta <= 15) {
        byte(w, (unsigned)(delta << 4 | type));
    } else {
        byte(w, (unsigned)type);
        sp_thrift_varint(w, sp_thrift_zigzag(fid));
    }
    *last = fid;
}

void sp_thrift_i32(sp_thrift *w, int16_t fid, int32_t v)
{
    field(w, fid, SP_THRIFT_I32);
    sp_thrift_varint(w, sp_thrift_zigzag(v));
}

void sp_thrift_i64(sp_thrift *w, int16_t fid, int64_t v)
{
    field(w, fid, SP_THRIFT_I64);
    sp_thrift_varint(w, sp_thrift_zigzag(v));
}

void sp_thrift_bool(sp_thrift *w, int16_t fid, int v)
{
    field(w, fid, v ? 1 : 2);
}

void sp_thrift_byte(sp_thrift *w, int16_t fid, int8_t v)
{
    field(w, fid, SP_THRIFT_BYTE);
    byte(w, (unsigned char)v);
}

void sp_thrift_binary(sp_thrift *w, int16_t fid, const void *p, size_t n)
{
    field(w, fid, SP_THRIFT_BINARY);
    sp_thrift_varint(w, n);
    put(w, p, n);
}

void sp_thrift_string(sp_thrift *w, int16_t fid, const char *s)
{
    sp_thrift_binary(w, fid, s, strlen(s));
}

static void push(sp_thrift *w)
{
    if (w->depth + 1 >= SP_THRIFT_MAX_DEPTH) {
        if (!w->rc)
            w->rc = sp_error_set(w->err, SP_EINTERNAL, 0, "thrift: structs nested too deep");
        return;
    }
    w->last[++w->depth] = 0;
}

void sp_thrift_struct_begin(sp_thrift *w, int16_t fid)
{
    field(w, fid, SP_THRIFT_STRUCT);
    push(w);
}

void sp_thrift_struct_end(sp_thrift *w)
{
    byte(w, 0); /* STOP */
    if (w->depth > 0)
        w->depth--;
}

void sp_thrift_list_begin(sp_thrift *w, int16_t fid, int elem_type, size_t n)
{
    field(w, fid, SP_THRIFT_LIST);
    if (n < 15) {
        byte(w, (unsigned)(n << 4 | (unsigned)elem_type));
    } else {
        byte(w, 0xF0u | (unsigned)elem_type);
        sp_thrift_varint(w, n);
    }
}

void sp_thrift_elem_i32(sp_thrift *w, int32_t v)
{
    sp_thrift_varint(w, sp_thrift_zigzag(v));
}

void sp_thrift_elem_string(sp_thrift *w, const char *s)
{
    size_t n = strlen(s);
    sp_thrift_varint(w, n);
    put(w, s, n);
}

void sp_thrift_elem_struct(sp_thrift *w)
{
    push(w);
}
