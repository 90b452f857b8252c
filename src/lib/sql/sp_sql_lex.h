/* sp_sql_lex: a tokenizer for ClickHouse-dialect SQL (internal to sp_sql and
 * sp_template).
 *
 * Tokens point into the source text (no copies).  Whitespace and comments
 * are tokens too, so that the source can be re-emitted faithfully. */
#ifndef SP_SQL_LEX_H
#define SP_SQL_LEX_H

#include <stddef.h>

#include "sinkpipe.h"

typedef enum sp_tok_kind {
    SP_TOK_WS,      /* spaces, tabs, newlines */
    SP_TOK_COMMENT, /* -- … end of line, or / * … * / */
    SP_TOK_IDENT,   /* bare identifier or keyword */
    SP_TOK_QIDENT,  /* `backtick` or "double-quoted" identifier */
    SP_TOK_STRING,  /* 'string' with ClickHouse escapes */
    SP_TOK_NUMBER,  /* 12, 1.5, 1e-3, 0x1F */
    SP_TOK_OP,      /* operators and punctuation, incl. ( ) [ ] { } , */
    SP_TOK_PARAM    /* {name:Type} ClickHouse query parameter */
} sp_tok_kind;

typedef struct sp_tok {
    sp_tok_kind kind;
    size_t off; /* byte offset in the source */
    size_t len;
} sp_tok;

/* sp_sql_lex: tokenize src[0..n).  *out (caller frees) receives the tokens,
 * *ntok their count.  SP_EDEF for an unterminated string, identifier or
 * comment (the message gives the byte offset), SP_ENOMEM. */
int sp_sql_lex(const char *src, size_t n, sp_tok **out, size_t *ntok, sp_error *err);


/* sp_tok_is: the token is an identifier equal to word, ignoring case. */
int sp_tok_is(const char *src, const sp_tok *t, const char *word);

/* sp__sql_is_clause_kw: a keyword that starts or joins a clause (WHERE,
 * JOIN, LIMIT, …); used to tell an alias from the next clause. */
int sp__sql_is_clause_kw(const char *src, const sp_tok *t);

#endif
