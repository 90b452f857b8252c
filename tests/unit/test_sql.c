// sp-deps: sp_buf sp_error sp_sql sp_sql_lex sp_sql_compose sp_sql_macros
/* sp_sql: tokenizer, composition, quoting and each rewrite rule as text. */
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_sql.h"
#include "sp_sql_lex.h"
#include "sp_test.h"

static char *rw(const char *q)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    sp_error err = SP_ERROR_INIT;
    if (sp_sql_to_duckdb(q, &b, &err) != 0) {
        sp_buf_release(&b);
        char *m = malloc(strlen(err.msg) + 8);
        snprintf(m, strlen(err.msg) + 8, "ERR: %s", err.msg);
        return m;
    }
    return sp_buf_detach(&b);
}

#define CHECK_RW(q, want)        \
    do {                         \
        char *res_ = rw(q);      \
        CHECK_STR(res_, (want)); \
        free(res_);              \
    } while (0)

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

TEST(string_unescape)
{
    const char *s = "'a\\nb\\x41\\\\\\'c''d\\0'";
    sp_tok *t = NULL;
    size_t n = 0;
    sp_buf b = SP_BUF_INIT(1024);
    CHECK_OK(sp_sql_lex(s, strlen(s), &t, &n, NULL), NULL);
    CHECK_OK(sp_sql_unescape_string(s, &t[0], &b, NULL), NULL);
    CHECK_MEM(b.data, b.len, "a\nbA\\'c'd\0", 10);
    free(t);
    sp_buf_release(&b);
}

TEST(rewrite_literals_and_identifiers)
{
    CHECK_RW("SELECT `a``b`, \"c\" FROM `t`", "SELECT \"a`b\", \"c\" FROM \"t\"");
    CHECK_RW("SELECT 'it\\'s', 'a\\\\b', 'x''y'", "SELECT 'it''s', 'a\\b', 'x''y'");
    CHECK_RW("SELECT 'a\\nb', '\\t'", "SELECT ('a' || chr(10) || 'b'), (chr(9))");
    CHECK_RW("SELECT '' -- c\n", "SELECT ''  \n");
    CHECK_RW("SELECT 1 = 1;", "SELECT 1 = 1");
}

TEST(rewrite_functions)
{
    CHECK_RW("SELECT count() FROM t", "SELECT count(*) FROM t");
    CHECK_RW("SELECT any(x), anyLast(y) FROM t", "SELECT any_value(x), anyLast(y) FROM t");
    CHECK_RW("SELECT quantile(0.9)(x)", "SELECT quantile_cont(x, 0.9)");
    CHECK_RW("SELECT quantiles(0.5, 0.9)(x)", "SELECT quantile_cont(x, [0.5, 0.9])");
    CHECK_RW("SELECT quantileExact(0.5)(x)", "SELECT quantile_disc(x, 0.5)");
    CHECK_RW("SELECT quantileTiming(0.5)(x)", "SELECT quantile_cont(x, 0.5)");
    CHECK_RW("SELECT topK(3)(x)", "SELECT approx_top_k(x, 3)");
    CHECK_RW("SELECT multiIf(a, 1, b, 2, 3)", "SELECT CASE WHEN a THEN  1 WHEN  b THEN  2 ELSE  3 END");
    CHECK_RW("SELECT arrayMap(x -> x + 1, arr)", "SELECT list_transform( arr, x -> x + 1)");
    CHECK_RW("SELECT arrayFilter(x -> x > 1, arr)", "SELECT list_filter( arr, x -> x > 1)");
    CHECK_RW("SELECT toStartOfInterval(t, INTERVAL 5 minute)",
             "SELECT CAST(time_bucket( INTERVAL 5 minute, CAST(t AS TIMESTAMP), "
             "TIMESTAMP '1970-01-01 00:00:00') AS TIMESTAMP_S)");
    CHECK_RW("SELECT toStartOfInterval(t, INTERVAL 1 week)",
             "SELECT CAST(time_bucket( INTERVAL 1 week, CAST(t AS TIMESTAMP)) AS TIMESTAMP_S)");
    CHECK_RW("SELECT toDateTime64(x, 3)", "SELECT CAST(x AS TIMESTAMP_MS)");
    CHECK_RW("SELECT toDecimal64(x, 4)", "SELECT CAST(x AS DECIMAL(18,  4))");
    CHECK_RW("SELECT CAST(x AS Nullable(UInt32)), y::DateTime, CAST(z AS DateTime64(6))",
             "SELECT CAST(x AS UINTEGER), y::TIMESTAMP_S, CAST(z AS TIMESTAMP)");
    CHECK_RW("SELECT formatDateTime(t, '%Y-%m-%d %H:%i:%S')",
             "SELECT strftime(CAST(t AS TIMESTAMP), '%Y-%m-%d %H:%M:%S')");
    CHECK_RW("SELECT isNull(a), isNotNull(b)", "SELECT ((a) IS NULL), ((b) IS NOT NULL)");
    CHECK_RW("SELECT t.count FROM t WHERE x = ANY (SELECT 1)",
             "SELECT t.count FROM t WHERE x = ANY (SELECT 1)");
}

TEST(rewrite_clauses)
{
    CHECK_RW("SELECT a FROM t FINAL WHERE 1", "SELECT a FROM t  WHERE 1");
    CHECK_RW("SELECT final FROM t", "SELECT final FROM t");
    CHECK_RW("SELECT a FROM t SETTINGS max_threads = 1, x = 2 FORMAT JSON",
             "SELECT a FROM t ");
    CHECK_RW("SELECT a FROM t FORMAT CSV", "SELECT a FROM t ");
    CHECK_RW("SELECT a FROM t PREWHERE b", "SELECT a FROM t WHERE b");
    CHECK_RW("SELECT a FROM t ANY LEFT JOIN u USING (a)", "SELECT a FROM t LEFT JOIN u USING (a)");
    CHECK_RW("SELECT a ? b : c AS x FROM t", "SELECT CASE WHEN  a  THEN  b  ELSE  c  END AS x FROM t");
    CHECK_RW("SELECT a ? b : c ? d : e", "SELECT CASE WHEN  a  THEN  b  ELSE  CASE WHEN  c  THEN  d  ELSE  e END  END ");
    CHECK_RW("WITH 1000 AS n SELECT n + 1, t.n, n AS n2 FROM t",
             "SELECT ( 1000 ) + 1, t.n, ( 1000 ) AS n2 FROM t");
    CHECK_RW("WITH x AS (SELECT 1) SELECT * FROM x", "WITH  x AS (SELECT 1)  SELECT * FROM x");
    CHECK_RW("SELECT a, b FROM t ORDER BY b DESC LIMIT 2 BY a",
             "SELECT * EXCLUDE (__sp_rn, __sp_ord) FROM (SELECT a, b , row_number() OVER "
             "(PARTITION BY  a ORDER BY  b DESC ) AS __sp_rn, row_number() OVER (ORDER BY  b DESC ) "
             "AS __sp_ord FROM t ) WHERE __sp_rn <=  2  ORDER BY __sp_ord ");
    CHECK_RW("SELECT 1 UNION ALL SELECT a FROM t LIMIT 1 BY a",
             "SELECT 1 UNION ALL SELECT * EXCLUDE (__sp_rn) FROM (SELECT a , row_number() OVER "
             "(PARTITION BY  a) AS __sp_rn FROM t ) WHERE __sp_rn <=  1  ");
    CHECK_RW("SELECT a FROM t LIMIT 1 BY a LIMIT 10",
             "SELECT * EXCLUDE (__sp_rn) FROM (SELECT a , row_number() OVER (PARTITION BY  a ) AS "
             "__sp_rn FROM t ) WHERE __sp_rn <=  1  LIMIT 10");
}

TEST(rewrite_errors)
{
    CHECK_RW("SELECT (1", "ERR: sql: unclosed '(' at offset 7");
    CHECK_RW("SELECT 1)", "ERR: sql: unbalanced ')' at offset 8");
    CHECK_RW("SELECT a ? b", "ERR: sql: '?' without ':' at offset 9");
    CHECK_RW("SELECT {x:UInt8}", "ERR: sql: {name:Type} query parameters are not supported at offset 7");
    CHECK_RW("SELECT formatDateTime(t, '%Q')",
             "ERR: sql: formatDateTime specifier '%Q' is not supported");
}

TEST(compose_nodes)
{
    const char *names[] = { "base", "agg", "final_node" };
    const char *sqls[] = { "SELECT * FROM events -- all\n",
                           "SELECT a, count() FROM base GROUP BY a;",
                           "SELECT * FROM agg a JOIN base ON 1 WHERE base_x FROM_x = 'agg'" };
    sp_buf b = SP_BUF_INIT(1 << 16);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_sql_compose(names, sqls, 3, &b, &err), &err);
    CHECK_STR(b.data, "SELECT * FROM (\nSELECT a, count() FROM (\nSELECT * FROM events -- all\n) AS "
                      "base GROUP BY a\n) a JOIN (\nSELECT * FROM events -- all\n) AS base ON 1 "
                      "WHERE base_x FROM_x = 'agg'");
    sp_buf_release(&b);
    /* later nodes and case differences are not references */
    const char *n2[] = { "a", "b" };
    const char *s2[] = { "SELECT * FROM b", "SELECT * FROM A, `a`" };
    CHECK_OK(sp_sql_compose(n2, s2, 2, &b, &err), &err);
    CHECK_STR(b.data, "SELECT * FROM A, `a`");
    sp_buf_reset(&b);
    const char *s3[] = { "SELECT 1", "SELECT * FROM `a` WHERE x" };
    CHECK_OK(sp_sql_compose(n2, s3, 2, &b, &err), &err);
    CHECK_STR(b.data, "SELECT * FROM (\nSELECT 1\n) AS `a` WHERE x");
    sp_buf_release(&b);
    CHECK_INT(sp_sql_compose(n2, s3, 0, &b, &err), SP_EINVAL);
}

TEST(quoting)
{
    sp_buf b = SP_BUF_INIT(1024);
    CHECK_OK(sp_sql_quote_ident(&b, "a\"b", NULL), NULL);
    CHECK_OK(sp_sql_quote_string(&b, "it's", 4, NULL), NULL);
    CHECK_STR(b.data, "\"a\"\"b\"'it''s'");
    CHECK_INT(sp_sql_quote_string(&b, "a\0b", 3, NULL), SP_EINVAL);
    sp_buf_release(&b);
    CHECK(strstr(sp_sql_duckdb_prelude(), "MACRO now()") != NULL);
}

int main(void)
{
    RUN(lexer_tokens);
    RUN(string_unescape);
    RUN(rewrite_literals_and_identifiers);
    RUN(rewrite_functions);
    RUN(rewrite_clauses);
    RUN(rewrite_errors);
    RUN(compose_nodes);
    RUN(quoting);
    return sp_test_done();
}
