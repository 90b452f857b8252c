// sp-deps: sp_buf sp_error sp_sql sp_sql_names sp_sql_nameexpr sp_sql_lex sp_sql_compose sp_sql_macros
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
    CHECK_RW("SELECT 'it\\'s', 'a\\\\b', 'x''y'",
             "SELECT 'it''s' AS \"'it\\'s'\", 'a\\b' AS \"'a\\\\b'\", 'x''y' AS \"'x\\'y'\"");
    CHECK_RW("SELECT 'a\\nb', '\\t'",
             "SELECT ('a' || chr(10) || 'b') AS \"'a\\nb'\", (chr(9)) AS \"'\\t'\"");
    CHECK_RW("SELECT '' -- c\n",
             "SELECT '' AS \"''\"  \n");
    CHECK_RW("SELECT 1 = 1;",
             "SELECT CAST((1 = 1) AS UTINYINT) AS \"equals(1, 1)\"");
}

TEST(rewrite_functions)
{
    CHECK_RW("SELECT count() FROM t",
             "SELECT count(*) AS \"count()\" FROM t");
    CHECK_RW("SELECT any(x), anyLast(y) FROM t",
             "SELECT any_value(x) AS \"any(x)\", anyLast(y) AS \"anyLast(y)\" FROM t");
    CHECK_RW("SELECT quantile(0.9)(x)",
             "SELECT quantile_cont(x, CAST('0.9' AS DOUBLE)) AS \"quantile(0.9)(x)\"");
    CHECK_RW("SELECT quantiles(0.5, 0.9)(x)",
             "SELECT quantile_cont(x, [CAST('0.5' AS DOUBLE), CAST('0.9' AS DOUBLE)]) AS "
             "\"quantiles(0.5, 0.9)(x)\"");
    CHECK_RW("SELECT quantileExact(0.5)(x)",
             "SELECT quantile_disc(x, CAST('0.5' AS DOUBLE)) AS \"quantileExact(0.5)(x)\"");
    CHECK_RW("SELECT quantileTiming(0.5)(x)",
             "SELECT quantile_cont(x, CAST('0.5' AS DOUBLE)) AS \"quantileTiming(0.5)(x)\"");
    CHECK_RW("SELECT topK(3)(x)",
             "SELECT approx_top_k(x, 3) AS \"topK(3)(x)\"");
    CHECK_RW("SELECT multiIf(a, 1, b, 2, 3)",
             "SELECT CASE WHEN a THEN  1 WHEN  b THEN  2 ELSE  3 END AS \"multiIf(a, 1, b, "
             "2, 3)\"");
    CHECK_RW("SELECT arrayMap(x -> x + 1, arr)",
             "SELECT list_transform( arr, x -> x + 1) AS \"arrayMap(lambda(tuple(x), "
             "plus(x, 1)), arr)\"");
    CHECK_RW("SELECT arrayFilter(x -> x > 1, arr)",
             "SELECT list_filter( arr, x -> x > 1) AS \"arrayFilter(lambda(tuple(x), "
             "greater(x, 1)), arr)\"");
    CHECK_RW("SELECT toStartOfInterval(t, INTERVAL 5 minute)",
             "SELECT CAST(time_bucket( INTERVAL 5 minute, CAST(t AS TIMESTAMP), TIMESTAMP "
             "'1970-01-01 00:00:00') AS TIMESTAMP_S) AS \"toStartOfInterval(t, "
             "toIntervalMinute(5))\"");
    CHECK_RW("SELECT toStartOfInterval(t, INTERVAL 1 week)",
             "SELECT CAST(time_bucket( INTERVAL 1 week, CAST(t AS TIMESTAMP)) AS "
             "TIMESTAMP_S) AS \"toStartOfInterval(t, toIntervalWeek(1))\"");
    CHECK_RW("SELECT toDateTime64(x, 3)",
             "SELECT CAST(x AS TIMESTAMP_MS) AS \"toDateTime64(x, 3)\"");
    CHECK_RW("SELECT toDecimal64(x, 4)",
             "SELECT CAST(x AS DECIMAL(18,  4)) AS \"toDecimal64(x, 4)\"");
    CHECK_RW("SELECT CAST(x AS Nullable(UInt32)), y::DateTime, CAST(z AS DateTime64(6))",
             "SELECT CAST(x AS UINTEGER) AS \"CAST(x, 'Nullable(UInt32)')\", "
             "y::TIMESTAMP_S AS \"CAST(y, 'DateTime')\", CAST(z AS TIMESTAMP) AS \"CAST(z, "
             "'DateTime64(6)')\"");
    CHECK_RW("SELECT formatDateTime(t, '%Y-%m-%d %H:%i:%S')",
             "SELECT strftime(CAST(t AS TIMESTAMP), '%Y-%m-%d %H:%M:%S') AS "
             "\"formatDateTime(t, '%Y-%m-%d %H:%i:%S')\"");
    CHECK_RW("SELECT isNull(a), isNotNull(b)",
             "SELECT CAST((((a) IS NULL)) AS UTINYINT) AS \"isNull(a)\", CAST((((b) IS NOT "
             "NULL)) AS UTINYINT) AS \"isNotNull(b)\"");
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
    CHECK_RW("SELECT a ? b : c ? d : e",
             "SELECT CASE WHEN  a  THEN  b  ELSE  CASE WHEN  c  THEN  d  ELSE  e  END  END AS "
             "\"if(a, b, if(c, d, e))\"");
    CHECK_RW("WITH 1000 AS n SELECT n + 1, t.n, n AS n2 FROM t",
             "SELECT ( 1000 ) + 1 AS \"plus(n, 1)\", t.n, ( 1000 ) AS n2 FROM t");
    CHECK_RW("WITH x AS (SELECT 1) SELECT * FROM x", "WITH  x AS (SELECT 1)  SELECT * FROM x");
    CHECK_RW("SELECT a, b FROM t ORDER BY b DESC LIMIT 2 BY a",
             "SELECT * EXCLUDE (__sp_rn, __sp_ord) FROM (SELECT a, b , row_number() OVER "
             "(PARTITION BY  a ORDER BY  b DESC ) AS __sp_rn, row_number() OVER (ORDER BY  b DESC ) "
             "AS __sp_ord FROM t ) WHERE __sp_rn <=  2  ORDER BY __sp_ord ");
    CHECK_RW("SELECT 1 UNION ALL SELECT a FROM t LIMIT 1 BY a",
             "SELECT 1 AS \"1\" UNION ALL SELECT * EXCLUDE (__sp_rn) FROM (SELECT a , "
             "row_number() OVER (PARTITION BY  a) AS __sp_rn FROM t ) WHERE __sp_rn <=  1  ");
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

/* result column names: every unaliased, non-bare item of the outermost
 * select list gets ClickHouse's name as a quoted alias (sp_sql_names.c) */
TEST(names_kept_and_bare)
{
    CHECK_RW("SELECT a, t.a, \"q\", `b c`, *, t.*, COLUMNS('x') FROM t",
             "SELECT a, t.a, \"q\", \"b c\", *, t.*, COLUMNS('x') FROM t");
    CHECK_RW("SELECT a + 1 AS x, b - 1 y, count() c, sum(a) `s`, (a) FROM t",
             "SELECT a + 1 AS x, b - 1 y, count(*) c, sum(a) \"s\", (a) AS \"a\" FROM t");
    CHECK_RW("SELECT x IS NULL, INTERVAL 2 hour, CASE WHEN 1 THEN 2 END, NULL, true FROM t",
             "SELECT CAST((x IS NULL) AS UTINYINT) AS \"isNull(x)\", INTERVAL 2 hour AS "
             "\"toIntervalHour(2)\", CASE WHEN 1 THEN 2 END AS \"multiIf(1, 2, NULL)\", "
             "NULL AS \"NULL\", true AS \"true\" FROM t");
}

TEST(names_functions_and_operators)
{
    CHECK_RW("SELECT count(*), COUNT(*), Count(), count(DISTINCT a), sum(DISTINCT a) FROM t",
             "SELECT count(*) AS \"count()\", COUNT(*) AS \"COUNT()\", count(*) AS "
             "\"Count()\", count(DISTINCT a) AS \"countDistinct(a)\", sum(DISTINCT a) AS "
             "\"sumDistinct(a)\" FROM t");
    CHECK_RW("SELECT a - b * 2, (a + 1) / 2 % 3, -a, - (a), 1 + 2 + 3 FROM t",
             "SELECT a - b * 2 AS \"minus(a, multiply(b, 2))\", (a + 1) / 2 % 3 AS "
             "\"modulo(divide(plus(a, 1), 2), 3)\", -a AS \"negate(a)\", - (a) AS "
             "\"negate(a)\", 1 + 2 + 3 AS \"plus(plus(1, 2), 3)\" FROM t");
    CHECK_RW("SELECT a = 1 AND b < 2 OR c != 'x', NOT a, a AND b AND c, a <> 1, a == 1 FROM t",
             "SELECT CAST((a = 1 AND b < 2 OR c != 'x') AS UTINYINT) AS \"or(and(equals(a, "
             "1), less(b, 2)), notEquals(c, 'x'))\", CAST((NOT a) AS UTINYINT) AS "
             "\"not(a)\", CAST((a AND b AND c) AS UTINYINT) AS \"and(a, b, c)\", CAST((a <> "
             "1) AS UTINYINT) AS \"notEquals(a, 1)\", CAST((a == 1) AS UTINYINT) AS "
             "\"equals(a, 1)\" FROM t");
    CHECK_RW("SELECT s || 'x' || s, a IN (1, 2), a NOT IN (1), (a, 1), [1, 2], [a, 1], [], s "
             "LIKE 'x', s NOT ILIKE 'y' FROM t",
             "SELECT s || 'x' || s AS \"concat(s, 'x', s)\", CAST((a IN (1, 2)) AS "
             "UTINYINT) AS \"in(a, (1, 2))\", CAST((a NOT IN (1)) AS UTINYINT) AS "
             "\"notIn(a, 1)\", (a, 1) AS \"tuple(a, 1)\", [1, 2] AS \"[1, 2]\", [a, 1] AS "
             "\"array(a, 1)\", [] AS \"[]\", CAST((s LIKE 'x') AS UTINYINT) AS \"like(s, "
             "'x')\", CAST((s NOT ILIKE 'y') AS UTINYINT) AS \"notILike(s, 'y')\" FROM t");
    CHECK_RW("SELECT CAST(a AS Nullable(Int32)), CAST(a, 'String'), a::DateTime, CAST(t AS "
             "DateTime('UTC')) FROM t",
             "SELECT CAST(a AS INTEGER) AS \"CAST(a, 'Nullable(Int32)')\", CAST(a, 'String') "
             "AS \"CAST(a, 'String')\", a::TIMESTAMP_S AS \"CAST(a, 'DateTime')\", CAST(t AS "
             "TIMESTAMP_S) AS \"CAST(t, 'DateTime(\\'UTC\\')')\" FROM t");
    CHECK_RW("SELECT CASE WHEN a THEN 1 END, CASE a WHEN 1 THEN 'x' ELSE 'y' END, a ? 1 : 2 "
             "FROM t",
             "SELECT CASE WHEN a THEN 1 END AS \"multiIf(a, 1, NULL)\", CASE a WHEN 1 THEN "
             "'x' ELSE 'y' END AS \"caseWithExpression(a, 1, 'x', 'y')\", CASE WHEN  a  THEN "
             " 1  ELSE  2  END AS \"if(a, 1, 2)\" FROM t");
    CHECK_RW("SELECT INTERVAL 1 HOUR, t + INTERVAL 5 minute FROM t",
             "SELECT INTERVAL 1 HOUR AS \"toIntervalHour(1)\", t + INTERVAL 5 minute AS "
             "\"plus(t, toIntervalMinute(5))\" FROM t");
    CHECK_RW("SELECT a IS NULL, a IS NOT NULL, a BETWEEN 1 AND 2, arr[1], arrayMap(x -> x * "
             "2, arr) FROM t",
             "SELECT CAST((a IS NULL) AS UTINYINT) AS \"isNull(a)\", CAST((a IS NOT NULL) "
             "AS UTINYINT) AS \"isNotNull(a)\", CAST((a BETWEEN 1 AND 2) AS UTINYINT) AS "
             "\"and(greaterOrEquals(a, 1), lessOrEquals(a, 2))\", arr[1] AS "
             "\"arrayElement(arr, 1)\", list_transform( arr, x -> x * 2) AS "
             "\"arrayMap(lambda(tuple(x), multiply(x, 2)), arr)\" FROM t");
    CHECK_RW("SELECT quantile(0.9)(x), quantiles(0.5, 0.9)(x), topK(3)(s) FROM t",
             "SELECT quantile_cont(x, CAST('0.9' AS DOUBLE)) AS \"quantile(0.9)(x)\", "
             "quantile_cont(x, [CAST('0.5' AS DOUBLE), CAST('0.9' AS DOUBLE)]) AS "
             "\"quantiles(0.5, 0.9)(x)\", approx_top_k(s, 3) AS \"topK(3)(s)\" FROM t");
}

TEST(names_literals)
{
    CHECK_RW("SELECT 1e3, 2.0, -1.5, 0x1F, 1e21, 1e-7, 0.000001, 18446744073709551616, -0, "
             "007 FROM t",
             "SELECT 1e3 AS \"1000.\", CAST('2.0' AS DOUBLE) AS \"2.\", -CAST('1.5' AS "
             "DOUBLE) AS \"-1.5\", 0x1F AS \"31\", 1e21 AS \"1e21\", 1e-7 AS \"1e-7\", "
             "CAST('0.000001' AS DOUBLE) AS \"0.000001\", 18446744073709551616 AS "
             "\"18446744073709552000.\", -0 AS \"0\", 007 AS \"7\" FROM t");
    CHECK_RW("SELECT 'it''s', 'x\"y', 'a\\\\b', 'a\\nb' FROM t",
             "SELECT 'it''s' AS \"'it\\'s'\", 'x\"y' AS \"'x\"\"y'\", 'a\\b' AS "
             "\"'a\\\\b'\", ('a' || chr(10) || 'b') AS \"'a\\nb'\" FROM t");
}

TEST(names_scope_and_fallback)
{
    CHECK_RW("SELECT a  DIV  2, a NOT BETWEEN 1 AND 2, count() OVER (PARTITION BY a) FROM t",
             "SELECT a  DIV  2 AS \"a DIV 2\", a NOT BETWEEN 1 AND 2 AS \"a NOT BETWEEN 1 "
             "AND 2\", count(*) OVER (PARTITION BY a) AS \"count() OVER (PARTITION BY a)\" "
             "FROM t");
    CHECK_RW("SELECT count() FROM (SELECT a + 1 FROM t) UNION ALL SELECT count() + 1 FROM t",
             "SELECT count(*) AS \"count()\" FROM (SELECT a + 1 FROM t) UNION ALL SELECT "
             "count(*) + 1 FROM t");
    CHECK_RW("WITH 10 AS n, x AS (SELECT 1) SELECT n, n * 2 FROM x",
             "WITH  x AS (SELECT 1)  SELECT ( 10 ) AS \"n\", ( 10 ) * 2 AS \"multiply(n, "
             "2)\" FROM x");
    CHECK_RW("SELECT DISTINCT a + 1 FROM t ORDER BY 1 SETTINGS max_threads = 1 FORMAT JSON",
             "SELECT DISTINCT a + 1 AS \"plus(a, 1)\" FROM t ORDER BY 1 ");
    CHECK_RW("SELECT a, b + 1 -- c\nFROM t",
             "SELECT a, b + 1 AS \"plus(b, 1)\"  \nFROM t");
    CHECK_RW("SELECT count();",
             "SELECT count(*) AS \"count()\"");
    CHECK_RW("SELECT a + 1, {x:UInt8}",
             "ERR: sql: {name:Type} query parameters are not supported at offset 14");
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
    RUN(names_kept_and_bare);
    RUN(names_functions_and_operators);
    RUN(names_literals);
    RUN(names_scope_and_fallback);
    RUN(compose_nodes);
    RUN(quoting);
    return sp_test_done();
}
