/* sp_ch_escape: ClickHouse's quoting and backslash escapes, one copy for
 * every module that writes SQL for ClickHouse or reads its text.
 *
 * Writing.  ClickHouse's escaped and quoted text (TabSeparated fields, the
 * 'strings' inside arrays, maps and tuples, Values) escapes exactly
 * \b \f \n \r \t \0 \\ \' (sp_ch_esc).  A string literal in SQL needs only
 * ' and \ escaped (sp_ch_quote_string); an identifier in backquotes only `
 * and \ (sp_ch_quote_ident).
 *
 * Reading (ClickHouse's parseComplexEscapeSequence, checked against chDB in
 * tests/unit/test_ch_wire.c): \a \b \e \f \n \r \t \v \0 are control
 * characters, \xHH a byte; \\ \' \" \` \/ \= and a backslash before a
 * control character give the character alone; any other \c keeps its
 * backslash ('100\%' stays 100\%, for LIKE and regular expressions).  In a
 * quoted literal a doubled quote is the quote. */
#ifndef SP_CH_ESCAPE_H
#define SP_CH_ESCAPE_H

#include <stddef.h>

#include "sp_buf.h"

/* sp_ch_esc: the two-character escape ClickHouse writes for c, or NULL for
 * a character written as it is. */
static inline const char *sp_ch_esc(char c)
{
    switch (c) {
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\0': return "\\0";
    case '\\': return "\\\\";
    case '\'': return "\\'";
    default: return NULL;
    }
}

/* sp_ch_escape: p[0..n) with sp_ch_esc's escapes, appended to out. */
int sp_ch_escape(const char *p, size_t n, sp_buf *out, sp_error *err);

/* sp_ch_unesc: decode the escape at p (p < end, *p == '\\') into out[0..*nout)
 * (one or two bytes); returns the bytes consumed (1 for a lone backslash at
 * the end, which stands for itself). */
size_t sp_ch_unesc(const char *p, const char *end, char out[2], size_t *nout);
/* sp_ch_unescape: p[0..n) decoded, appended to out (and terminated). */
int sp_ch_unescape(const char *p, size_t n, sp_buf *out, sp_error *err);
/* sp_ch_unquote: the literal at *pp (its opening quote: ', ` or "), decoded
 * into out (appended); *pp moves past the closing quote.  SP_EDATA when it
 * does not end before `end`, or out's error. */
int sp_ch_unquote(const char **pp, const char *end, sp_buf *out, sp_error *err);

/* sp_ch_quote_string: s[0..n) as a ClickHouse string literal, 'a\'b'. */
int sp_ch_quote_string(sp_buf *b, const char *s, size_t n, sp_error *err);
/* sp_ch_quote_ident: s as an identifier in backquotes, `a\`b`. */
int sp_ch_quote_ident(sp_buf *b, const char *s, sp_error *err);

#endif
