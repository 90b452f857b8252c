/* sp_ch_text: ClickHouse values held in binary (RowBinary, Native) as the
 * text ClickHouse prints for them, which is what an sp_batch carries
 * (sp_batch.h): used by sp_ch_rbread.
 *
 * The value functions write into out (no terminating NUL) and return the
 * length; out must hold the size named in the prototype; they allocate
 * nothing.  An Enum is read through a table of its names. */
#ifndef SP_CH_TEXT_H
#define SP_CH_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "sp_batch.h"
#include "sp_buf.h"
#include "sp_ch_escape.h" /* sp_ch_quote_ident, once here */

#define SP_CH_TEXT_MAX 96 /* the longest text: a Decimal256 (79 bytes) */

/* sp_ch_text_decimal: the w-byte (4, 8, 16, 32) little-endian integer at p,
 * two's complement when sgn, divided by 10^scale (0..76): "-12.5", "0.001",
 * "340282366920938463463374607431768211455"; no trailing fractional zeros,
 * as ClickHouse prints Decimal, Int128/256 and UInt128/256. */
size_t sp_ch_text_decimal(const uint8_t *p, unsigned w, int sgn, int scale,
                          char out[SP_CH_TEXT_MAX]);
/* sp_ch_text_uuid: a UUID sent as two little-endian UInt64 halves, high
 * half first, as "61f0c404-5cb3-11e7-907b-a6006ad3dba0" (36 bytes). */
size_t sp_ch_text_uuid(const uint8_t p[16], char out[36]);
/* sp_ch_text_ipv4: "1.2.3.4" for 0x01020304 (at most 15 bytes). */
size_t sp_ch_text_ipv4(uint32_t v, char out[16]);
/* sp_ch_text_ipv6: 16 bytes in network order as ClickHouse's formatIPv6
 * (BIND's inet_ntop6) writes them: lowercase hex words, the first longest
 * run of two or more zero words as "::", "::ffff:1.2.3.4" and "::1.2.3.4"
 * for IPv4 (at most 45 bytes). */
size_t sp_ch_text_ipv6(const uint8_t p[16], char out[48]);


/* The names of an Enum8/16 type by number. */
typedef struct sp_ch_text_enum {
    char *names; /* the names, unescaped, back to back */
    struct sp_ch_text_ename {
        int v;
        sp_str s; /* into names */
    } *e;         /* sorted by v */
    size_t n;
} sp_ch_text_enum;

/* sp_ch_text_enum_init: the table of an Enum body as sp_type keeps it
 * ("'a' = 1, 'b\'c' = -2": ClickHouse's quoting, with backslash escapes or
 * a doubled quote).  0, or -1 when the body is malformed or memory runs
 * out (e is then empty).  Release with sp_ch_text_enum_release. */
int sp_ch_text_enum_init(sp_ch_text_enum *e, const char *body);
void sp_ch_text_enum_release(sp_ch_text_enum *e);
/* sp_ch_text_enum_name: the name of number v (pointing into e), or NULL */
const sp_str *sp_ch_text_enum_name(const sp_ch_text_enum *e, int v);

#endif
