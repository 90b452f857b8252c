// sp-deps: sp_buf sp_error sp_sql sp_sql_names sp_sql_nameexpr sp_sql_lex sp_sql_compose sp_sql_macros sp_template sp_template_expr
/* The ClickHouse -> DuckDB pass executed on a real in-memory DuckDB: the
 * seed's queries (copied from the sink pipes spec) and every macro family
 * against a small fixed data set, with the values checked. */
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "duckdb.h"
#pragma GCC diagnostic pop
#include "sp_buf.h"
#include "sp_sql.h"
#include "sp_template.h"
#include "sp_test.h"

static duckdb_database db;
static duckdb_connection con;

static int exec(const char *sql, char *errbuf, size_t errlen)
{
    duckdb_result r;
    int bad = duckdb_query(con, sql, &r) == DuckDBError;
    if (bad)
        snprintf(errbuf, errlen, "%s", duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return bad;
}

/* rewrite q, run it, return rows as "a|b\n" text (caller frees), values
 * cast to VARCHAR by DuckDB; sorted when sort != 0 */
static char *run(const char *q, int sort)
{
    sp_buf rw = SP_BUF_INIT(1 << 20), sql = SP_BUF_INIT(1 << 20), res = SP_BUF_INIT(1 << 20);
    sp_error err = SP_ERROR_INIT;
    if (sp_sql_to_duckdb(q, &rw, &err) != 0) {
        sp_buf_release(&rw);
        return strdup(err.msg);
    }
    sp_buf_addf(&sql, NULL, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM (\n%s\n) AS __t%s", rw.data,
                sort ? " ORDER BY ALL" : "");
    duckdb_result r;
    if (duckdb_query(con, sql.data, &r) == DuckDBError) {
        sp_buf_addf(&res, NULL, "ERROR: %s\nSQL: %s", duckdb_result_error(&r), rw.data);
    } else {
        idx_t nc = duckdb_column_count(&r), nr = duckdb_row_count(&r);
        for (idx_t k = 0; k < nr; k++) {
            for (idx_t j = 0; j < nc; j++) {
                char *v = duckdb_value_varchar(&r, j, k);
                sp_buf_addf(&res, NULL, "%s%s", j ? "|" : "", v ? v : "NULL");
                duckdb_free(v);
            }
            sp_buf_addch(&res, '\n', NULL);
        }
    }
    duckdb_destroy_result(&r);
    sp_buf_release(&rw);
    sp_buf_release(&sql);
    char *s = sp_buf_detach(&res);
    return s;
}

#define CHECK_Q(q, sort, want)            \
    do {                                  \
        char *got_ = run((q), (sort));    \
        CHECK_STR(got_, (want));          \
        free(got_);                       \
    } while (0)

/* rewrite q, run it as is, return its result column names as "a|b"
 * (caller frees) */
static char *names(const char *q)
{
    sp_buf rw = SP_BUF_INIT(1 << 20), res = SP_BUF_INIT(1 << 20);
    sp_error err = SP_ERROR_INIT;
    if (sp_sql_to_duckdb(q, &rw, &err) != 0) {
        sp_buf_release(&rw);
        return strdup(err.msg);
    }
    duckdb_result r;
    if (duckdb_query(con, rw.data, &r) == DuckDBError) {
        sp_buf_addf(&res, NULL, "ERROR: %s\nSQL: %s", duckdb_result_error(&r), rw.data);
    } else {
        for (idx_t j = 0; j < duckdb_column_count(&r); j++)
            sp_buf_addf(&res, NULL, "%s%s", j ? "|" : "", duckdb_column_name(&r, j));
    }
    duckdb_destroy_result(&r);
    sp_buf_release(&rw);
    return sp_buf_detach(&res);
}

#define CHECK_NAMES(q, want)          \
    do {                              \
        char *got_ = names(q);        \
        CHECK_STR(got_, (want));      \
        free(got_);                   \
    } while (0)

static int setup(void)
{
    char e[1024];
    if (duckdb_open(NULL, &db) == DuckDBError || duckdb_connect(db, &con) == DuckDBError)
        return 1;
    const char *init[] = {
        "SET TimeZone='UTC'",
        "SET VARIABLE sp_now = TIMESTAMP_S '2024-05-02 10:30:00'",
        "CREATE TABLE events(timestamp TIMESTAMP_S, event_type VARCHAR, user_id VARCHAR, "
        "session_id VARCHAR, payload VARCHAR, amount DOUBLE, duration DOUBLE, metadata VARCHAR)",
        "INSERT INTO events VALUES "
        "('2024-05-01 08:00:00','click','u1','s1','p1',10,1,'{\"k\":\"v1\",\"n\":5,\"f\":1.5,\"b\":true}'),"
        "('2024-05-01 09:15:00','click','u2','s2','p2',1500,3,'{\"k\":\"v2\"}'),"
        "('2024-05-01 23:59:59','view','u1','s1','p3',0,2,'{}'),"
        "('2024-05-02 09:10:00','click','u3','s3','p4',2000,4,''),"
        "('2024-05-02 09:40:00','view','u3','s3','p5',5,6,''),"
        "('2024-05-02 09:59:59','view','u4','s4','p6',7,8,''),"
        "('2024-05-02 10:00:00','purchase','u1','s5','p7',999,1,''),"
        "('2024-05-02 10:26:00','purchase','u2','s6','p8',1200,2,'m8'),"
        "('2024-04-30 12:00:00','click','u9','s9','p9',1,1,'')",
    };
    if (exec(sp_sql_duckdb_prelude(), e, sizeof e)) {
        printf("# prelude failed: %s\n", e);
        return 1;
    }
    for (size_t i = 0; i < sizeof init / sizeof *init; i++)
        if (exec(init[i], e, sizeof e)) {
            printf("# setup failed: %s\n", e);
            return 1;
        }
    return 0;
}

/* ---- the seed's queries ---- */

TEST(seed_kafka_events_sink)
{
    CHECK_Q("\n        SELECT timestamp, event_type, user_id, payload\n        FROM events\n"
            "        WHERE timestamp >= now() - interval 1 hour\n      ",
            1,
            "2024-05-02 09:40:00|view|u3|p5\n"
            "2024-05-02 09:59:59|view|u4|p6\n"
            "2024-05-02 10:00:00|purchase|u1|p7\n"
            "2024-05-02 10:26:00|purchase|u2|p8\n");
}

TEST(seed_hourly_events_to_kafka)
{
    CHECK_Q("SELECT\n  toStartOfHour(timestamp) AS hour,\n  event_type,\n  count() AS event_count,\n"
            "  uniqExact(user_id) AS unique_users\nFROM events\n"
            "WHERE timestamp >= toStartOfHour(now()) - interval 1 hour\n"
            "  AND timestamp < toStartOfHour(now())\nGROUP BY hour, event_type\n",
            1,
            "2024-05-02 09:00:00|click|1|1\n"
            "2024-05-02 09:00:00|view|2|2\n");
}

TEST(seed_s3_events_sink)
{
    CHECK_Q("SELECT timestamp, session_id, event_type\nFROM events\n"
            "WHERE toDate(timestamp) = today() - 1\n",
            1,
            "2024-05-01 08:00:00|s1|click\n"
            "2024-05-01 09:15:00|s2|click\n"
            "2024-05-01 23:59:59|s1|view\n");
}

TEST(seed_daily_export)
{
    CHECK_Q("SELECT\n  toDate(timestamp) AS date,\n  event_type,\n  count() AS event_count,\n"
            "  uniqExact(user_id) AS unique_users,\n  avg(duration) AS avg_duration\n"
            "FROM events\nWHERE toDate(timestamp) = yesterday()\nGROUP BY date, event_type\n"
            "ORDER BY event_count DESC\n",
            0,
            "2024-05-01|click|2|2|2.0\n"
            "2024-05-01|view|1|1|2.0\n");
}

TEST(seed_realtime_event_stream)
{
    CHECK_Q("SELECT\n  timestamp,\n  user_id,\n  event_type,\n  amount,\n  metadata\nFROM events\n"
            "WHERE timestamp >= now() - interval 5 minute\n  AND amount > 1000\nORDER BY timestamp\n",
            0, "2024-05-02 10:26:00|u2|purchase|1200.0|m8\n");
}

TEST(seed_daily_partition_export)
{
    CHECK_Q("SELECT *\nFROM events\nWHERE toDate(timestamp) = yesterday()\nORDER BY timestamp\n", 0,
            "2024-05-01 08:00:00|click|u1|s1|p1|10.0|1.0|{\"k\":\"v1\",\"n\":5,\"f\":1.5,\"b\":true}\n"
            "2024-05-01 09:15:00|click|u2|s2|p2|1500.0|3.0|{\"k\":\"v2\"}\n"
            "2024-05-01 23:59:59|view|u1|s1|p3|0.0|2.0|{}\n");
}

/* ---- types of the time functions ---- */

TEST(time_function_types)
{
    CHECK_Q("SELECT toTypeName(now()), toTypeName(today()), toTypeName(today() - 1), "
            "toTypeName(yesterday()), toTypeName(toStartOfHour(timestamp)), "
            "toTypeName(toDate(timestamp)), toTypeName(toStartOfMonth(timestamp)), "
            "toTypeName(toDateTime('2024-01-01 00:00:00')), "
            "toTypeName(toDateTime64('2024-01-01 00:00:00.123', 3)), "
            "toTypeName(toStartOfInterval(timestamp, INTERVAL 5 minute)) FROM events LIMIT 1",
            0,
            "TIMESTAMP_S|DATE|DATE|DATE|TIMESTAMP_S|DATE|DATE|TIMESTAMP_S|TIMESTAMP_MS|"
            "TIMESTAMP_S\n");
}

TEST(time_functions_values)
{
    CHECK_Q("SELECT now(), today(), yesterday(), toStartOfMinute(toDateTime('2024-05-02 10:31:45')),"
            " toStartOfFiveMinutes(toDateTime('2024-05-02 10:34:45')),"
            " toStartOfFifteenMinutes(toDateTime('2024-05-02 10:44:45')),"
            " toStartOfDay(now()), toMonday(toDate('2024-05-02')),"
            " toStartOfWeek(toDate('2024-05-02')), toStartOfQuarter(toDate('2024-05-02')),"
            " toStartOfYear(now()), toYYYYMM(now()), toYYYYMMDD(now())",
            0,
            "2024-05-02 10:30:00|2024-05-02|2024-05-01|2024-05-02 10:31:00|2024-05-02 10:30:00|"
            "2024-05-02 10:30:00|2024-05-02 00:00:00|2024-04-29|2024-04-28|2024-04-01|"
            "2024-01-01|202405|20240502\n");
    CHECK_Q("SELECT toYear(now()), toMonth(now()), toDayOfMonth(now()), toDayOfWeek(now()),"
            " toHour(now()), toMinute(now()), toSecond(now()), toUnixTimestamp(now()),"
            " fromUnixTimestamp(1714645800), dateDiff('hour', toDateTime('2024-05-02 08:59:00'), now()),"
            " addDays(toDate('2024-05-02'), 3) = toDate('2024-05-05')",
            0, "2024|5|2|4|10|30|0|1714645800|2024-05-02 10:30:00|2|1\n");
    CHECK_Q("SELECT formatDateTime(toDateTime('2024-05-02 03:04:05'), '%Y-%m-%d %H:%i:%S'),"
            " formatDateTime(toDateTime('2024-05-02 03:04:05'), '%F %T'),"
            " formatDateTime(toDateTime('2024-05-02 03:04:05'), '%M %j %y')",
            0, "2024-05-02 03:04:05|2024-05-02 03:04:05|May 123 24\n");
    CHECK_Q("SELECT toStartOfInterval(toDateTime('2024-05-02 10:34:45'), INTERVAL 5 minute),"
            " toStartOfInterval(toDateTime('2024-05-02 10:34:45'), INTERVAL 1 hour)",
            0, "2024-05-02 10:30:00|2024-05-02 10:00:00\n");
    /* epoch-aligned like ClickHouse: 2-day buckets start on even days since 1970 */
    CHECK_Q("SELECT toStartOfInterval(toDateTime('2024-05-02 10:34:45'), INTERVAL 2 day),"
            " toStartOfInterval(toDateTime('2024-05-02 10:34:45'), INTERVAL 1 week),"
            " toStartOfInterval(toDateTime('2024-05-02 10:34:45'), INTERVAL 3 month)",
            0, "2024-05-01 00:00:00|2024-04-29 00:00:00|2024-04-01 00:00:00\n");
}

/* ---- aggregates ---- */

TEST(aggregates)
{
    CHECK_Q("SELECT count(), uniq(user_id), uniqCombined(user_id), countIf(amount > 1000),"
            " sumIf(amount, event_type = 'view'), avgIf(duration, event_type = 'view'),"
            " minIf(amount, event_type = 'purchase'), maxIf(amount, event_type = 'click'),"
            " argMax(user_id, amount), argMin(user_id, timestamp), any(event_type) IS NOT NULL,"
            " anyLast(event_type) IS NOT NULL, count(DISTINCT session_id) FROM events",
            0, "9|5|5|3|12.0|5.333333333333333|999.0|2000.0|u3|u9|1|1|7\n");
    CHECK_Q("SELECT quantile(0.5)(duration), quantiles(0.5, 0.9)(duration), median(duration),"
            " quantileExact(0.5)(amount) FROM events",
            0, "2.0|[2.0, 6.4]|2.0|10.0\n");
    CHECK_Q("SELECT length(groupArray(user_id)), length(groupUniqArray(user_id)),"
            " topK(1)(event_type) FROM events",
            0, "9|5|[click]\n");
}

/* ---- result column names are ClickHouse's ---- */

TEST(result_column_names)
{
    CHECK_NAMES("SELECT event_type, count(), uniqExact(user_id), toDate(timestamp), avg(duration)"
                " FROM events GROUP BY event_type, toDate(timestamp)",
                "event_type|count()|uniqExact(user_id)|toDate(timestamp)|avg(duration)");
    CHECK_NAMES("SELECT count(*), count(DISTINCT user_id), quantile(0.9)(amount),"
                " round(sum(amount) / count(), 2), max(amount) - min(amount) FROM events",
                "count()|countDistinct(user_id)|quantile(0.9)(amount)|"
                "round(divide(sum(amount), count()), 2)|minus(max(amount), min(amount))");
    CHECK_NAMES("SELECT events.user_id, `amount`, amount * 2 + 1, -duration, amount > 100 AND"
                " duration < 5, CAST(amount AS Int32), toStartOfHour(timestamp),"
                " event_type || '!', if(amount > 100, 'big', 'small'), 1e3, 'it''s'"
                " FROM events LIMIT 1",
                "user_id|amount|plus(multiply(amount, 2), 1)|negate(duration)|"
                "and(greater(amount, 100), less(duration, 5))|CAST(amount, 'Int32')|"
                "toStartOfHour(timestamp)|concat(event_type, '!')|"
                "if(greater(amount, 100), 'big', 'small')|1000.|'it\\'s'");
    CHECK_NAMES("SELECT amount + 1 AS a1, amount b, * EXCLUDE (payload, metadata, session_id)"
                " FROM events LIMIT 1",
                "a1|b|timestamp|event_type|user_id|amount|duration");
    /* the outermost list only; the first UNION branch names the result */
    CHECK_NAMES("SELECT x + 1 FROM (SELECT amount * 2 AS x FROM events) UNION ALL SELECT 1",
                "plus(x, 1)");
    CHECK_NAMES("WITH 1000 AS big SELECT big, amount > big ? 'big' : 'small' FROM events LIMIT 1",
                "big|if(greater(amount, big), 'big', 'small')");
    CHECK_NAMES("SELECT user_id, count() FROM events GROUP BY user_id ORDER BY count() DESC"
                " LIMIT 1 BY user_id LIMIT 2",
                "user_id|count()");
    /* not reproduced: whitespace-normalised text */
    CHECK_NAMES("SELECT count()   OVER (PARTITION BY user_id) FROM events LIMIT 1",
                "count() OVER (PARTITION BY user_id)");
}

/* ---- rewrites that need the token pass ---- */

TEST(limit_by)
{
    CHECK_Q("SELECT event_type, user_id, amount FROM events ORDER BY amount DESC LIMIT 1 BY event_type",
            0, "click|u3|2000.0\npurchase|u2|1200.0\nview|u4|7.0\n");
    CHECK_Q("SELECT event_type, amount FROM events ORDER BY amount DESC LIMIT 2 BY event_type LIMIT 3",
            0, "click|2000.0\nclick|1500.0\npurchase|1200.0\n");
    CHECK_Q("SELECT event_type, amount FROM events ORDER BY event_type, amount LIMIT 1, 1 BY event_type",
            0, "click|10.0\npurchase|1200.0\nview|5.0\n");
}

TEST(ternary_with_multiif)
{
    CHECK_Q("WITH 1000 AS big SELECT user_id, amount > big ? 'big' : 'small' AS size,"
            " multiIf(amount > 1500, 'a', amount > 100, 'b', 'c') AS m"
            " FROM events WHERE toDate(timestamp) = yesterday() ORDER BY timestamp",
            0, "u1|small|c\nu2|big|b\nu1|small|c\n");
    CHECK_Q("WITH (SELECT max(amount) FROM events) AS top, t AS (SELECT 1 AS one)"
            " SELECT top, one FROM t",
            0, "2000.0|1\n");
}

TEST(strings_json_arrays)
{
    CHECK_Q("SELECT 'it\\'s', 'a\\\\b', length('x\\ny'), 'tab\\there' LIKE 'tab%here', `event_type`"
            " FROM events FINAL WHERE user_id = 'u9' SETTINGS max_threads = 1 FORMAT JSON",
            0, "it's|a\\b|3|1|click\n");
    CHECK_Q("SELECT JSONExtractString(metadata, 'k'), JSONExtractInt(metadata, 'n'),"
            " JSONExtractFloat(metadata, 'f'), JSONExtractBool(metadata, 'b'),"
            " JSONHas(metadata, 'k'), JSONHas(metadata, 'zz'), JSONExtractString(metadata, 'zz')"
            " FROM events WHERE session_id = 's1' AND payload = 'p1'",
            0, "v1|5|1.5|1|1|0|\n");
    CHECK_Q("SELECT arrayMap(x -> x * 2, [1, 2, 3]), arrayFilter(x -> x > 1, [1, 2, 3]),"
            " has([1, 2], 2), indexOf([5, 6], 6), splitByChar(',', 'a,b'), replaceAll('aXa', 'X', 'y'),"
            " empty(''), notEmpty('a'), intDiv(7, 2), modulo(7, 2), toString(12), toInt32('42'),"
            " CAST('7' AS UInt8), toDecimal32('1.25', 2), isNull(NULL), ifNull(NULL, 3)",
            0, "[2, 4, 6]|[2, 3]|1|2|[a, b]|aya|1|1|3|1|12|42|7|1.25|1|3\n");
    CHECK_Q("SELECT arrayJoin([1, 2]) AS x ORDER BY x", 0, "1\n2\n");
}

/* predicates at the top of the outer select list are UInt8 (ClickHouse);
 * inside expressions, subqueries and for Bool values they stay BOOLEAN */
TEST(predicates_are_uint8)
{
    CHECK_Q("SELECT 1 = 1 AS a, empty('') AS b, 2 > 3, notEmpty('x') c, 1 IN (1, 2),"
            " NULL IS NULL, toTypeName(1 = 1), true AS t, CAST(1 AS Bool) AS u,"
            " if(1 = 1, 'y', 'n'), x FROM (SELECT 1 = 1 AS x)",
            0, "1|1|0|1|1|1|BOOLEAN|true|true|y|true\n");
    CHECK_Q("SELECT count() FROM events WHERE amount > 1000 AND notEmpty(user_id)", 0, "3\n");
}

/* a literal with a point is Float64, as on ClickHouse; exact inside a cast
 * to Decimal */
TEST(float_literals)
{
    CHECK_Q("SELECT toString(1.0), 0.1 + 0.2, 2.50, 1.5 * 2, toTypeName(1.5),"
            " CAST(1.25 AS Decimal(9, 2)), toDecimal64(0.1, 3), 1.5::Decimal(9, 1), 1e3, 007",
            0, "1|0.30000000000000004|2.5|3.0|DOUBLE|1.25|0.100|1.5|1000.0|7\n");
}

/* String functions on bytes, like ClickHouse (checked against a real
 * ClickHouse by tests/e2e/engine_parity.sh) */
TEST(strings_bytes_like_clickhouse)
{
    CHECK_Q("SELECT length('\xc3\xbcn\xc3\xaf'), lengthUTF8('\xc3\xbcn\xc3\xaf'),"
            " char_length('\xc3\xbc'), length([1, 2, 3]), length(''), empty(''), notEmpty('\xc3\xbc')",
            0, "5|3|1|3|0|1|1\n");
    CHECK_Q("SELECT substring('h\xc3\xa9llo', 2, 2), substring('hello', 2), substr('hello', -3, 2),"
            " substringUTF8('h\xc3\xa9llo', 2, 2)",
            0, "\xc3\xa9|ello|ll|\xc3\xa9l\n");
    CHECK_Q("SELECT upper('ab\xc3\xbc'), lower('AB\xc3\x9c'), upperUTF8('\xc3\xbc'), lowerUTF8('\xc3\x9c')",
            0, "AB\xc3\xbc|ab\xc3\x9c|\xc3\x9c|\xc3\xbc\n");
    CHECK_Q("SELECT concat('a', NULL) IS NULL, concat('a', 'b', 1), concat('x'),"
            " concat('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),"
            " concat('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'),"
            " length(CAST('{\"a\":\"\xc3\xbc\"}' AS JSON))",
            0, "1|ab1|x|abcdefgh|abcdefghijklmnop|10\n");
    CHECK_Q("SELECT toString(toFloat64(1)), toString(toFloat64(1.5)), toString(toFloat32(2)),"
            " toString(12), toString('a')",
            0, "1|1.5|2|12|a\n");
}

/* a template rendered with parameters, composed, rewritten and run */
static char *run_tpl(const char *tpl, const sp_param *p, size_t np)
{
    sp_buf r = SP_BUF_INIT(1 << 20), comp = SP_BUF_INIT(1 << 20);
    sp_error err = SP_ERROR_INIT;
    if (sp_template_render(tpl, p, np, NULL, &r, &err) != 0) {
        sp_buf_release(&r);
        return strdup(err.msg);
    }
    const char *names[] = { "base", "out" };
    const char *sqls[] = { "SELECT * FROM events FINAL", r.data };
    if (sp_sql_compose(names, sqls, 2, &comp, &err) != 0) {
        sp_buf_release(&r);
        return strdup(err.msg);
    }
    char *res = run(comp.data, 0);
    sp_buf_release(&r);
    sp_buf_release(&comp);
    return res;
}

TEST(templates_end_to_end)
{
    const char *tpl = "%\nSELECT user_id, count() AS n FROM base\n"
                      "WHERE timestamp >= {{ DateTime(start, '2024-05-01 00:00:00') }}\n"
                      "{% if defined(etype) %} AND event_type = {{ String(etype) }} {% end %}\n"
                      "GROUP BY user_id ORDER BY {{ column(order_by, 'user_id') }} LIMIT {{ Int32(lim, 2) }}";
    sp_param p1[] = { { "etype", "view" } };
    char *got = run_tpl(tpl, p1, 1);
    CHECK_STR(got, "u1|1\nu3|1\n");
    free(got);
    sp_param p2[] = { { "start", "2024-05-02 10:00:00" }, { "lim", "5" } };
    got = run_tpl(tpl, p2, 2);
    CHECK_STR(got, "u1|1\nu2|1\n");
    free(got);
    /* injection attempts stay inside a literal, or are refused */
    sp_param p3[] = { { "etype", "x' OR '1'='1" } };
    got = run_tpl(tpl, p3, 1);
    CHECK_STR(got, "");
    free(got);
    sp_param p4[] = { { "etype", "x\\' OR 1=1 --" } };
    got = run_tpl(tpl, p4, 1);
    CHECK_STR(got, "");
    free(got);
    sp_param p5[] = { { "order_by", "user_id; DROP TABLE events" } };
    got = run_tpl(tpl, p5, 1);
    CHECK_STR(got, "param 'order_by': 'user_id; DROP TABLE events' is not a valid column name");
    free(got);
    sp_param p6[] = { { "lim", "1 UNION SELECT 1" } };
    got = run_tpl(tpl, p6, 1);
    CHECK_STR(got, "param 'lim': '1 UNION SELECT 1' is not a valid Int32");
    free(got);
}

int main(void)
{
    if (setup()) {
        printf("not ok - setup\n");
        return 1;
    }
    RUN(seed_kafka_events_sink);
    RUN(seed_hourly_events_to_kafka);
    RUN(seed_s3_events_sink);
    RUN(seed_daily_export);
    RUN(seed_realtime_event_stream);
    RUN(seed_daily_partition_export);
    RUN(time_function_types);
    RUN(time_functions_values);
    RUN(aggregates);
    RUN(result_column_names);
    RUN(limit_by);
    RUN(ternary_with_multiif);
    RUN(strings_json_arrays);
    RUN(strings_bytes_like_clickhouse);
    RUN(predicates_are_uint8);
    RUN(float_literals);
    RUN(templates_end_to_end);
    duckdb_disconnect(&con);
    duckdb_close(&db);
    return sp_test_done();
}
