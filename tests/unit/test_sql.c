// sp-deps: sp_buf sp_error sp_sql_lex sp_sql_compose sp_ch_escape
/* sp_sql: tokenizer and composition of a pipe's nodes. */
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_error.h"
#include "sp_sql.h"
#include "sp_sql_lex.h"
#include "sp_ch_escape.h"
#include "sp_test.h"

TEST(lexer_tokens)
{
    const char *s = "SELECT `a b`, \"c\", 'x\\'y''z', 1.5e3, 0x1F -- hi\n/* c */ a<=b::Int32";
    sp_tok *t = NULL;
    size_t n = 0;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_sql_lex(s, strlen(s), &t, &n, &err), &err);
    int kinds[32], k = 0;
    for (size_t i = 0; i < n && k < 32; i++)
        if (t[i].kind != SP_TOK_WS)
            kinds[k++] = (int)t[i].kind;
    int want[] = { SP_TOK_IDENT,  SP_TOK_QIDENT, SP_TOK_OP,      SP_TOK_QIDENT,  SP_TOK_OP,
                   SP_TOK_STRING, SP_TOK_OP,     SP_TOK_NUMBER,  SP_TOK_OP,      SP_TOK_NUMBER,
                   SP_TOK_COMMENT, SP_TOK_COMMENT, SP_TOK_IDENT, SP_TOK_OP,      SP_TOK_IDENT,
                   SP_TOK_OP,     SP_TOK_IDENT };
    CHECK_INT(k, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < k && i < (int)(sizeof want / sizeof *want); i++)
        CHECK_INT(kinds[i], want[i]);
    free(t);
    CHECK_INT(sp_sql_lex("SELECT 'abc", 11, &t, &n, &err), SP_EDEF);
    CHECK(strstr(err.msg, "unterminated string") != NULL);
}

TEST(lexer_heredoc_and_hash_comment)
{
    /* as ClickHouse's lexer reads them: a quote inside does not open a string */
    const char *s = "SELECT $$it's$$, $tag$a$$b$tag$ # it's\n, 1 #x";
    sp_tok *t = NULL;
    size_t n = 0;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_sql_lex(s, strlen(s), &t, &n, &err), &err);
    int strings = 0, comments = 0, hash_op = 0;
    for (size_t i = 0; i < n; i++) {
        strings += t[i].kind == SP_TOK_STRING;
        comments += t[i].kind == SP_TOK_COMMENT;
        hash_op += t[i].kind == SP_TOK_OP && s[t[i].off] == '#';
    }
    CHECK_INT(strings, 2);
    CHECK_INT(comments, 1);
    CHECK_INT(hash_op, 1); /* "#x" is not a comment */
    free(t);
    CHECK_INT(sp_sql_lex("SELECT $a$ x", 12, &t, &n, &err), SP_EDEF);
    CHECK(strstr(err.msg, "heredoc") != NULL);
}

TEST(string_unescape)
{
    const char *s = "'a\\nb\\x41\\\\\\'c''d\\0'";
    sp_tok *t = NULL;
    size_t n = 0;
    sp_buf b = SP_BUF_INIT(1024);
    CHECK_OK(sp_sql_lex(s, strlen(s), &t, &n, NULL), NULL);
    const char *p = s + t[0].off;
    CHECK_OK(sp_ch_unquote(&p, s + t[0].off + t[0].len, &b, NULL), NULL);
    CHECK_INT((int)(p - s), (int)(t[0].off + t[0].len));
    CHECK_MEM(b.data, b.len, "a\nbA\\'c'd\0", 10);
    free(t);
    sp_buf_release(&b);
}

TEST(compose_nodes)
{
    const char *names[] = { "base", "agg", "final_node" };
    const char *sqls[] = { "SELECT * FROM events -- all\n",
                           "SELECT a, count() FROM base GROUP BY a;",
                           "SELECT * FROM agg a JOIN base ON 1 WHERE base_x FROM_x = 'agg'" };
    sp_buf b = SP_BUF_INIT(1 << 16);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_sql_compose(names, sqls, 3, &b, NULL, &err), &err);
    CHECK_STR(b.data, "SELECT * FROM (\nSELECT a, count() FROM (\nSELECT * FROM events -- all\n) AS "
                      "base GROUP BY a\n) a JOIN (\nSELECT * FROM events -- all\n) AS base ON 1 "
                      "WHERE base_x FROM_x = 'agg'");
    sp_buf_release(&b);
    /* later nodes and case differences are not references */
    const char *n2[] = { "a", "b" };
    const char *s2[] = { "SELECT * FROM b", "SELECT * FROM A, `a`" };
    CHECK_OK(sp_sql_compose(n2, s2, 2, &b, NULL, &err), &err);
    CHECK_STR(b.data, "SELECT * FROM A, `a`");
    sp_buf_reset(&b);
    const char *s3[] = { "SELECT 1", "SELECT * FROM `a` WHERE x" };
    CHECK_OK(sp_sql_compose(n2, s3, 2, &b, NULL, &err), &err);
    CHECK_STR(b.data, "SELECT * FROM (\nSELECT 1\n) AS `a` WHERE x");
    sp_buf_release(&b);
    CHECK_INT(sp_sql_compose(n2, s3, 0, &b, NULL, &err), SP_EINVAL);
}

/* a node read twice by each next node doubles each time: the node that
 * crosses the ceiling is named (sp_run turns it into file:line) */
TEST(compose_fan_in_names_the_node)
{
    const char *names[] = { "n0", "n1", "n2", "n3", "n4", "n5" };
    const char *sqls[] = { "SELECT 1 AS x",
                           "SELECT a.x FROM n0 AS a JOIN n0 AS b ON 1",
                           "SELECT a.x FROM n1 AS a JOIN n1 AS b ON 1",
                           "SELECT a.x FROM n2 AS a JOIN n2 AS b ON 1",
                           "SELECT a.x FROM n3 AS a JOIN n3 AS b ON 1",
                           "SELECT a.x FROM n4 AS a JOIN n4 AS b ON 1" };
    sp_buf b = SP_BUF_INIT(1000);
    sp_error err = SP_ERROR_INIT;
    size_t bad = 99;
    CHECK_INT(sp_sql_compose(names, sqls, 6, &b, &bad, &err), SP_ETOOBIG);
    CHECK_INT((int)bad, 5);
    const char *want = "node 'n5': its SQL with the earlier nodes it reads inlined: ";
    CHECK(strncmp(err.msg, want, strlen(want)) == 0);
    sp_buf_release(&b);
}

static int stop_ref(void *ud, const char *name, size_t len, sp_error *err)
{
    (void)ud;
    (void)name;
    (void)len;
    return sp_error_set(err, SP_EDEF, 0, "stop");
}

static int collect_ref(void *ud, const char *name, size_t len, sp_error *err)
{
    (void)err;
    sp_buf *b = ud;
    if (b->len)
        sp_buf_addch(b, ',', NULL);
    return sp_buf_add(b, name, len, NULL);
}

TEST(table_refs)
{
    sp_buf b = SP_BUF_INIT(1 << 16);
    sp_error err = SP_ERROR_INIT;
    /* bare and quoted names after FROM/JOIN; not db.table, table functions,
     * subqueries, keywords or names elsewhere */
    CHECK_OK(sp_sql_table_refs("SELECT a FROM p1 AS x JOIN `p 2` USING a "
                               "LEFT JOIN db.t ON 1 JOIN numbers(3) ON 1, "
                               "(SELECT 1 FROM /* c */ p3) WHERE from_p = 'FROM p4' "
                               "UNION ALL SELECT * FROM \"p5\" FINAL",
                               collect_ref, &b, &err),
             &err);
    CHECK_STR(b.data, "p1,p 2,p3,p5");
    sp_buf_release(&b);
    /* a non-zero answer stops and is returned */
    CHECK_INT(sp_sql_table_refs("SELECT 1 FROM a JOIN b ON 1", stop_ref, NULL, &err), SP_EDEF);
}

int main(void)
{
    RUN(lexer_tokens);
    RUN(lexer_heredoc_and_hash_comment);
    RUN(string_unescape);
    RUN(compose_nodes);
    RUN(table_refs);
    RUN(compose_fan_in_names_the_node);
    return sp_test_done();
}
