/* sp_sql_macros: the DuckDB prelude giving ClickHouse function names.
 *
 * One string of `CREATE OR REPLACE MACRO` statements separated by ';'
 * (duckdb_query runs them all).  Macros are expanded syntactically, so
 * aggregate macros (uniqExact, sumIf, …) work in GROUP BY queries.  A macro
 * named like a DuckDB built-in (now, today) overrides it (checked on 1.4.4
 * by tests/unit/test_sql_duckdb.c).  Names DuckDB cannot take as macros
 * (`any` is a keyword, count(DISTINCT …) must stay the built-in) and
 * functions needing a constant type argument are rewritten by the token pass
 * in sp_sql.c instead.  DateTime results are TIMESTAMP_S, Date results DATE. */
#include "sp_sql.h"

#define M(x) "CREATE OR REPLACE MACRO " x ";\n"
#define TS(x) "CAST(" x " AS TIMESTAMP_S)"
#define LOWER_AZ "abcdefghijklmnopqrstuvwxyz"
#define UPPER_AZ "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

static const char prelude[] =
    /* logical time: the engine sets sp_now before each query */
    M("now() AS CAST(getvariable('sp_now') AS TIMESTAMP_S)")
    M("now64() AS CAST(getvariable('sp_now') AS TIMESTAMP_MS), (p) AS CAST(getvariable('sp_now') AS TIMESTAMP_MS)")
    M("today() AS CAST(getvariable('sp_now') AS DATE)")
    M("yesterday() AS CAST(getvariable('sp_now') AS DATE) - 1")
    /* aggregates */
    M("uniq(x) AS count(DISTINCT x)")
    M("uniqExact(x) AS count(DISTINCT x)")
    M("uniqCombined(x) AS count(DISTINCT x)")
    M("uniqCombined64(x) AS count(DISTINCT x)")
    M("uniqHLL12(x) AS count(DISTINCT x)")
    M("countIf(c) AS count_if(c)")
    M("sumIf(x, c) AS coalesce(sum(CASE WHEN c THEN x END), 0)")
    M("avgIf(x, c) AS avg(CASE WHEN c THEN x END)")
    M("minIf(x, c) AS min(CASE WHEN c THEN x END)")
    M("maxIf(x, c) AS max(CASE WHEN c THEN x END)")
    M("uniqIf(x, c) AS count(DISTINCT CASE WHEN c THEN x END)")
    M("uniqExactIf(x, c) AS count(DISTINCT CASE WHEN c THEN x END)")
    M("groupArray(x) AS list(x) FILTER (WHERE x IS NOT NULL)")
    M("groupUniqArray(x) AS list(DISTINCT x) FILTER (WHERE x IS NOT NULL)")
    M("anyLast(x) AS last(x)")
    M("anyHeavy(x) AS mode(x)")
    /* dates and times */
    M("toDate(x) AS CAST(x AS DATE), (x, tz) AS CAST(x AS DATE)")
    M("toDate32(x) AS CAST(x AS DATE)")
    M("toDateTime(x) AS " TS("x") ", (x, tz) AS " TS("x"))
    M("toStartOfSecond(t) AS " TS("date_trunc('second', t)"))
    M("toStartOfMinute(t) AS " TS("date_trunc('minute', t)"))
    M("toStartOfFiveMinutes(t) AS " TS("time_bucket(INTERVAL 5 MINUTE, CAST(t AS TIMESTAMP))"))
    M("toStartOfFiveMinute(t) AS " TS("time_bucket(INTERVAL 5 MINUTE, CAST(t AS TIMESTAMP))"))
    M("toStartOfTenMinutes(t) AS " TS("time_bucket(INTERVAL 10 MINUTE, CAST(t AS TIMESTAMP))"))
    M("toStartOfFifteenMinutes(t) AS " TS("time_bucket(INTERVAL 15 MINUTE, CAST(t AS TIMESTAMP))"))
    M("toStartOfHour(t) AS " TS("date_trunc('hour', t)"))
    M("toStartOfDay(t) AS " TS("date_trunc('day', t)"))
    M("toStartOfWeek(t) AS CAST(date_trunc('week', CAST(t AS DATE) + 1) - 1 AS DATE), "
      "(t, mode) AS CASE WHEN mode % 2 = 1 THEN CAST(date_trunc('week', CAST(t AS DATE)) AS DATE) "
      "ELSE CAST(date_trunc('week', CAST(t AS DATE) + 1) - 1 AS DATE) END")
    M("toMonday(t) AS CAST(date_trunc('week', CAST(t AS DATE)) AS DATE)")
    M("toStartOfMonth(t) AS CAST(date_trunc('month', CAST(t AS DATE)) AS DATE)")
    M("toStartOfQuarter(t) AS CAST(date_trunc('quarter', CAST(t AS DATE)) AS DATE)")
    M("toStartOfYear(t) AS CAST(date_trunc('year', CAST(t AS DATE)) AS DATE)")
    M("toYYYYMM(t) AS CAST(year(t) * 100 + month(t) AS UINTEGER)")
    M("toYYYYMMDD(t) AS CAST(year(t) * 10000 + month(t) * 100 + day(t) AS UINTEGER)")
    M("toYear(t) AS CAST(year(t) AS USMALLINT)")
    M("toQuarter(t) AS CAST(quarter(t) AS UTINYINT)")
    M("toMonth(t) AS CAST(month(t) AS UTINYINT)")
    M("toDayOfMonth(t) AS CAST(day(t) AS UTINYINT)")
    M("toDayOfWeek(t) AS CAST(isodow(t) AS UTINYINT)")
    M("toDayOfYear(t) AS CAST(dayofyear(t) AS USMALLINT)")
    M("toHour(t) AS CAST(hour(t) AS UTINYINT)")
    M("toMinute(t) AS CAST(minute(t) AS UTINYINT)")
    M("toSecond(t) AS CAST(second(t) AS UTINYINT)")
    M("toUnixTimestamp(t) AS CAST(epoch(CAST(t AS TIMESTAMP)) AS UINTEGER)")
    M("fromUnixTimestamp(n) AS " TS("make_timestamp(CAST(n AS BIGINT) * 1000000)"))
    M("toIntervalSecond(n) AS to_seconds(CAST(n AS BIGINT))")
    M("toIntervalMinute(n) AS to_minutes(CAST(n AS BIGINT))")
    M("toIntervalHour(n) AS to_hours(CAST(n AS BIGINT))")
    M("toIntervalDay(n) AS to_days(CAST(n AS INTEGER))")
    M("toIntervalWeek(n) AS to_weeks(CAST(n AS INTEGER))")
    M("toIntervalMonth(n) AS to_months(CAST(n AS INTEGER))")
    M("toIntervalYear(n) AS to_years(CAST(n AS INTEGER))")
    M("addSeconds(t, n) AS t + to_seconds(CAST(n AS BIGINT))")
    M("addMinutes(t, n) AS t + to_minutes(CAST(n AS BIGINT))")
    M("addHours(t, n) AS t + to_hours(CAST(n AS BIGINT))")
    M("addDays(t, n) AS t + to_days(CAST(n AS INTEGER))")
    M("addWeeks(t, n) AS t + to_weeks(CAST(n AS INTEGER))")
    M("addMonths(t, n) AS t + to_months(CAST(n AS INTEGER))")
    M("addYears(t, n) AS t + to_years(CAST(n AS INTEGER))")
    M("subtractSeconds(t, n) AS t - to_seconds(CAST(n AS BIGINT))")
    M("subtractMinutes(t, n) AS t - to_minutes(CAST(n AS BIGINT))")
    M("subtractHours(t, n) AS t - to_hours(CAST(n AS BIGINT))")
    M("subtractDays(t, n) AS t - to_days(CAST(n AS INTEGER))")
    M("subtractWeeks(t, n) AS t - to_weeks(CAST(n AS INTEGER))")
    M("subtractMonths(t, n) AS t - to_months(CAST(n AS INTEGER))")
    M("subtractYears(t, n) AS t - to_years(CAST(n AS INTEGER))")
    M("dateDiff(u, a, b) AS date_diff(u, a, b), (u, a, b, tz) AS date_diff(u, a, b)")
    /* conversions */
    /* floats as ClickHouse's shortest text: 1.0 -> 1 */
    M("toString(x) AS CASE WHEN typeof(x) IN ('DOUBLE', 'FLOAT') "
      "THEN regexp_replace(CAST(x AS VARCHAR), '\\.0$', '') ELSE CAST(x AS VARCHAR) END")
    M("toInt8(x) AS CAST(x AS TINYINT)")
    M("toInt16(x) AS CAST(x AS SMALLINT)")
    M("toInt32(x) AS CAST(x AS INTEGER)")
    M("toInt64(x) AS CAST(x AS BIGINT)")
    M("toUInt8(x) AS CAST(x AS UTINYINT)")
    M("toUInt16(x) AS CAST(x AS USMALLINT)")
    M("toUInt32(x) AS CAST(x AS UINTEGER)")
    M("toUInt64(x) AS CAST(x AS UBIGINT)")
    M("toFloat32(x) AS CAST(x AS FLOAT)")
    M("toFloat64(x) AS CAST(x AS DOUBLE)")
    M("toInt32OrZero(x) AS coalesce(TRY_CAST(x AS INTEGER), 0)")
    M("toInt64OrZero(x) AS coalesce(TRY_CAST(x AS BIGINT), 0)")
    M("toFloat64OrZero(x) AS coalesce(TRY_CAST(x AS DOUBLE), 0)")
    M("toInt32OrNull(x) AS TRY_CAST(x AS INTEGER)")
    M("toInt64OrNull(x) AS TRY_CAST(x AS BIGINT)")
    M("toFloat64OrNull(x) AS TRY_CAST(x AS DOUBLE)")
    M("toTypeName(x) AS typeof(x)")
    /* JSON: missing keys give '' / 0 like ClickHouse */
    M("sp_jpath(k) AS '$.\"' || replace(CAST(k AS VARCHAR), '\"', '\\\"') || '\"'")
    M("JSONExtractString(j, k) AS coalesce(json_extract_string(j, sp_jpath(k)), ''), "
      "(j, k1, k2) AS coalesce(json_extract_string(j, sp_jpath(k1) || substr(sp_jpath(k2), 2)), '')")
    M("JSONExtractInt(j, k) AS coalesce(TRY_CAST(json_extract(j, sp_jpath(k)) AS BIGINT), 0)")
    M("JSONExtractUInt(j, k) AS coalesce(TRY_CAST(json_extract(j, sp_jpath(k)) AS UBIGINT), 0)")
    M("JSONExtractFloat(j, k) AS coalesce(TRY_CAST(json_extract(j, sp_jpath(k)) AS DOUBLE), 0)")
    M("JSONExtractBool(j, k) AS coalesce(TRY_CAST(json_extract(j, sp_jpath(k)) AS BOOLEAN), false)")
    M("JSONExtractRaw(j, k) AS coalesce(CAST(json_extract(j, sp_jpath(k)) AS VARCHAR), '')")
    M("JSONHas(j, k) AS json_extract(j, sp_jpath(k)) IS NOT NULL")
    /* strings and arrays */
    /* String functions work on bytes (ASCII case only) like ClickHouse; the
     * UTF8 ones on characters.  length: bytes of a string, elements of an
     * array (typeof is constant, both branches bind for both).  substring
     * slices the bytes: a cut through a character fails decode() (an error
     * where ClickHouse returns the broken bytes). */
    M("length(x) AS CASE WHEN typeof(x) IN ('VARCHAR', 'JSON') THEN strlen(CAST(x AS VARCHAR)) "
      "ELSE len(x) END")
    M("lengthUTF8(x) AS len(x)")
    M("char_length(x) AS len(x)")
    M("empty(x) AS length(x) = 0")
    M("notEmpty(x) AS length(x) > 0")
    M("substring(s, o) AS decode(array_slice(encode(s), o, 9223372036854775807)), "
      "(s, o, n) AS decode(array_slice(encode(s), o, o + n - 1))")
    M("substr(s, o) AS substring(s, o), (s, o, n) AS substring(s, o, n)")
    M("substringUTF8(s, o) AS substring_grapheme(s, o), "
      "(s, o, n) AS substring_grapheme(s, o, n)")
    M("upper(s) AS translate(s, '" LOWER_AZ "', '" UPPER_AZ "')")
    M("lower(s) AS translate(s, '" UPPER_AZ "', '" LOWER_AZ "')")
    M("upperUTF8(s) AS ucase(s)")
    M("lowerUTF8(s) AS lcase(s)")
    /* concat is NULL when an argument is (DuckDB's skips NULLs); 1..16 args */
    M("sp_s(x) AS CAST(x AS VARCHAR)")
    M("concat(a) AS sp_s(a), "
      "(a, b) AS sp_s(a) || sp_s(b), "
      "(a, b, c) AS sp_s(a) || sp_s(b) || sp_s(c), "
      "(a, b, c, d) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d), "
      "(a, b, c, d, e) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || sp_s(e), "
      "(a, b, c, d, e, f) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || sp_s(e) || "
      "sp_s(f), "
      "(a, b, c, d, e, f, g) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || sp_s(e) || "
      "sp_s(f) || sp_s(g), "
      "(a, b, c, d, e, f, g, h) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || sp_s(e) || "
      "sp_s(f) || sp_s(g) || sp_s(h), "
      "(a, b, c, d, e, f, g, h, i) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || "
      "sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i), "
      "(a, b, c, d, e, f, g, h, i, j) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || "
      "sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || sp_s(j), "
      "(a, b, c, d, e, f, g, h, i, j, k) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || "
      "sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || sp_s(j) || sp_s(k), "
      "(a, b, c, d, e, f, g, h, i, j, k, l) AS sp_s(a) || sp_s(b) || sp_s(c) || sp_s(d) || "
      "sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || sp_s(j) || sp_s(k) || "
      "sp_s(l), "
      "(a, b, c, d, e, f, g, h, i, j, k, l, m) AS sp_s(a) || sp_s(b) || sp_s(c) || "
      "sp_s(d) || sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || sp_s(j) || "
      "sp_s(k) || sp_s(l) || sp_s(m), "
      "(a, b, c, d, e, f, g, h, i, j, k, l, m, n) AS sp_s(a) || sp_s(b) || sp_s(c) || "
      "sp_s(d) || sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || sp_s(j) || "
      "sp_s(k) || sp_s(l) || sp_s(m) || sp_s(n), "
      "(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o) AS sp_s(a) || sp_s(b) || sp_s(c) || "
      "sp_s(d) || sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || sp_s(j) || "
      "sp_s(k) || sp_s(l) || sp_s(m) || sp_s(n) || sp_s(o), "
      "(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) AS sp_s(a) || sp_s(b) || "
      "sp_s(c) || sp_s(d) || sp_s(e) || sp_s(f) || sp_s(g) || sp_s(h) || sp_s(i) || "
      "sp_s(j) || sp_s(k) || sp_s(l) || sp_s(m) || sp_s(n) || sp_s(o) || sp_s(p)")
    M("replaceAll(s, a, b) AS replace(s, a, b)")
    M("replaceRegexpAll(s, a, b) AS regexp_replace(s, a, b, 'g')")
    M("splitByChar(sep, s) AS string_split(s, sep)")
    M("splitByString(sep, s) AS string_split(s, sep)")
    M("arrayJoin(x) AS unnest(x)")
    M("has(a, x) AS list_contains(a, x)")
    M("indexOf(a, x) AS coalesce(list_position(a, x), 0)")
    M("positionCaseInsensitive(h, n) AS strpos(lower(h), lower(n))")
    M("startsWith(s, p) AS starts_with(s, p)")
    M("endsWith(s, p) AS ends_with(s, p)")
    M("match(s, p) AS regexp_matches(s, p)")
    /* arithmetic and NULLs */
    M("intDiv(a, b) AS CAST(trunc(a / b) AS BIGINT)")
    M("modulo(a, b) AS a % b")
    M("rand() AS CAST(floor(random() * 4294967296) AS UINTEGER)")
    M("rand64() AS CAST(floor(random() * 18446744073709551615) AS UBIGINT)")
    M("cityHash64(x) AS hash(x)")
    M("sipHash64(x) AS hash(x)")
    M("xxHash64(x) AS hash(x)");

const char *sp_sql_duckdb_prelude(void)
{
    return prelude;
}
