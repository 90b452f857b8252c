/* sp_ascii: locale-free character helpers shared by the parsers (SQL lexer,
 * ingest paths, ClickHouse wire formats, HTTP query strings).  Header-only. */
#ifndef SP_ASCII_H
#define SP_ASCII_H

/* sp_hexval: the value of hex digit c (0-9, a-f, A-F), or -1 */
static inline int sp_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
