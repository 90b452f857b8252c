// sp-deps: sp_buf sp_error sp_template sp_template_expr sp_template_val sp_template_fn sp_template_py sp_sql_lex sp_time sp_template_eval sp_template_typed
/* sp_template: rendering, typed parameters, Tinybird's functions, Python
 * expressions, statements, errors, injection attempts, check mode and the
 * declared-parameter listing.  Expected outputs marked "(Tinybird)" are the
 * ones Tinybird's own sql_template.py documents for the same input. */
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_sql_lex.h"
#include "sp_template.h"
#include "sp_test.h"

static sp_param P[] = {
    { "s", "it's \\ x" },   { "n", "42" },         { "bad", "abc" },    { "big", "300" },
    { "f", "1.5" },         { "d", "2024-02-29" }, { "dt", "2024-01-02 03:04:05" },
    { "dtd", "2024-01-02" }, { "b", "true" },       { "arr", "1, 2,3" }, { "sarr", "a,b'c" },
    { "col", "user_id" },   { "cols", "a, t.b" },  { "evil", "x; DROP TABLE t" },
    { "pct", "50%" },       { "empty", "" },       { "neg", "-5" },     { "a", "2" },
    { "bb", "3" },          { "ids", "1,2,3" },    { "bq", "a`b\\c" },  { "q2", "x') OR 1=1 --" },
    { "payload", "[{\"dp\":\"Design\"},{\"dp\":\"Marketing\"}]" },
};
#define NP (sizeof P / sizeof *P)

static char *render_f(const char *src, unsigned flags)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    sp_error err = SP_ERROR_INIT;
    int rc = sp_template_render_ex(src, P, NP, "pipes/x.pipe:3", flags, &b, NULL, &err);
    if (rc) {
        sp_buf_release(&b);
        size_t n = strlen(err.msg) + 16;
        char *m = malloc(n);
        snprintf(m, n, "ERR %d: %s", rc, err.msg);
        return m;
    }
    char *s = sp_buf_detach(&b);
    return s ? s : strdup("");
}

#define CHECK_RF(src, flags, want)         \
    do {                                   \
        char *res_ = render_f(src, flags); \
        CHECK_STR(res_, (want));           \
        free(res_);                        \
    } while (0)
#define CHECK_R(src, want) CHECK_RF(src, 0, want)
#define CHECK_C(src, want) CHECK_RF(src, SP_TEMPLATE_CHECK, want)

TEST(detects_templates)
{
    CHECK_INT(sp_template_is_templated("SELECT 1"), 0);
    CHECK_INT(sp_template_is_templated("SELECT {{ x }}"), 1);
    CHECK_INT(sp_template_is_templated("{% if 1 %}{% end %}"), 1);
    CHECK_R("SELECT 1 -- {not a tag}", "SELECT 1 -- {not a tag}");
    CHECK_R("%\nSELECT {{ Int32(n) }}", "\nSELECT toInt32('42')");
    CHECK_R("  % SELECT 1", " SELECT 1");
    CHECK_R("SELECT 5 % 2", "SELECT 5 % 2");
    CHECK_R("SELECT '{{!x}}' {%! y %} {#! z #}", "SELECT '{{x}}' {% y %} {# z #}");
}

TEST(typed_values)
{
    CHECK_R("{{ String(s) }}", "'it\\'s \\\\ x'");
    CHECK_R("{{ Int32(n) }} {{ UInt8(n) }} {{ Int64(neg) }} {{ Int256(n) }}",
            "toInt32('42') toUInt8('42') toInt64('-5') toInt256('42')");
    CHECK_R("{{ Int(n) }} {{ Integer(n) }}", "42 42");
    CHECK_R("{{ Float64(f) }} {{ Float32(n) }}", "toFloat64('1.5') toFloat32('42.0')");
    CHECK_R("{{ Boolean(b) }} {{ Boolean(empty) }} {{ Boolean(zz) }} {{ Boolean(zz, True) }}",
            "1 0 0 1");
    CHECK_R("{{ Date(d) }} {{ DateTime(dt) }} {{ DateTime(dtd) }}",
            "'2024-02-29' '2024-01-02 03:04:05' '2024-01-02 00:00:00'");
    CHECK_R("{{ DateTime64(dt) }}", "'2024-01-02 03:04:05'");
    CHECK_R("{{ Array(arr, 'Int32') }} {{ Array(sarr, 'String') }}", "[1,2,3] ['a','b\\'c']");
    CHECK_R("{{ Array(none, 'Int32', default='4,5') }} {{ Array(none, 'Int32', '6') }}", "[4,5] [6]");
    CHECK_R("{{ Array(ids) }} {{ Array(ids, 'Float32') }}", "['1','2','3'] [1.0,2.0,3.0]");
    /* a list as the default (Tinybird's docs: default=['mobile','desktop']) */
    CHECK_R("{{ Array(devices, 'String', default=['mobile','desktop']) }}", "['mobile','desktop']");
    CHECK_R("{{ s }}", "'it\\'s \\\\ x'");
    CHECK_R("{{ 'lit' }} {{ 7 }} {{ True }} {{ 1.0 }} {{ -2 }}", "'lit' 7 True 1.0 -2");
    /* Tinybird: Int128 limits, typed floats */
    sp_param p128[] = { { "foo", "-170141183460469231731687303715884105728" },
                        { "bar", "170141183460469231731687303715884105727" } };
    sp_buf b = SP_BUF_INIT(4096);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_template_render("{{Int128(foo)}} {{Int128(bar)}} {{UInt128(bar)}}", p128, 2, NULL,
                                &b, &err),
             &err);
    CHECK_STR(b.data, "toInt128('-170141183460469231731687303715884105728') "
                      "toInt128('170141183460469231731687303715884105727') "
                      "toUInt128('170141183460469231731687303715884105727')");
    sp_buf_release(&b);
}

TEST(defaults_and_missing)
{
    CHECK_R("LIMIT {{ Int32(lim, 10, description=\"max rows\", required=False) }}",
            "LIMIT toInt32('10')");
    CHECK_R("{{ String(country, 'US') }}", "'US'");
    CHECK_R("{{ DateTime(start, '2024-01-01 00:00:00') }}", "'2024-01-01 00:00:00'");
    CHECK_R("{{ String(missing) }}", "ERR -8: pipes/x.pipe:3: param 'missing' is required");
    CHECK_R("{{ String(missing, required=True) }}",
            "ERR -8: pipes/x.pipe:3: param 'missing' is required");
    CHECK_R("{{ String(empty, 'x') }}", "''");
    CHECK_R("{{ Int32(missing, defined=False) }}",
            "ERR -8: pipes/x.pipe:3: expression \"Int32(missing, defin...\" evaluated to null");
    CHECK_R("{{ missing }}", "ERR -8: pipes/x.pipe:3: expression \"missing\" evaluated to null");
    CHECK_R("{{ DateTime(start, '2020-09-09', description=\"from\", required=False, "
            "format='date-time', example='2020-01-01') }}",
            "'2020-09-09 00:00:00'");
}

TEST(validation_errors)
{
    CHECK_R("{{ Int32(bad) }}", "ERR -8: pipes/x.pipe:3: param 'bad': 'abc' is not a valid Int32");
    CHECK_R("{{ UInt8(big) }}", "ERR -8: pipes/x.pipe:3: param 'big': '300' is not a valid UInt8");
    CHECK_R("{{ UInt32(neg) }}", "ERR -8: pipes/x.pipe:3: param 'neg': '-5' is not a valid UInt32");
    CHECK_R("{{ Date(dt) }}",
            "ERR -8: pipes/x.pipe:3: param 'dt': '2024-01-02 03:04:05' is not a valid Date");
    CHECK_R("{{ DateTime(bad) }}", "ERR -8: pipes/x.pipe:3: param 'bad': 'abc' is not a valid DateTime");
    CHECK_R("{{ Float64(evil) }}",
            "ERR -8: pipes/x.pipe:3: param 'evil': 'x; DROP TABLE t' is not a valid Float64");
    CHECK_R("{{ Array(sarr, 'Int32') }}",
            "ERR -8: pipes/x.pipe:3: param 'sarr': item 0 'a' is not a valid Int32");
    CHECK_R("{{ Array(empty, 'Int32') }}",
            "ERR -8: pipes/x.pipe:3: param 'empty': item 0 (empty string) is not a valid Int32");
    CHECK_R("{{ Boolean(b, description='x') }}",
            "ERR -2: pipes/x.pipe:3: template line 1: Boolean() got an unexpected keyword argument "
            "'description'");
    CHECK_R("{{ Int32(n, min=1) }}",
            "ERR -2: pipes/x.pipe:3: template line 1: Int32() got an unexpected keyword argument 'min'");
}

TEST(errors_and_status)
{
    CHECK_R("{{ error('bad request') }}", "ERR -8: pipes/x.pipe:3: bad request");
    CHECK_R("{% if not defined(zz) %}{{ custom_error('need zz', 404) }}{% end %}",
            "ERR -8: pipes/x.pipe:3: need zz");
    /* Tinybird: outside {{ }} error() is just text */
    CHECK_R("{% if not defined(test) %}error(\"This is an error\"){% end %}",
            "error(\"This is an error\")");
    sp_buf b = SP_BUF_INIT(4096);
    sp_error err = SP_ERROR_INIT;
    sp_template_status st;
    CHECK_INT(sp_template_render_ex("{{ custom_error({'error': 'gone', 'code': 7}, 410) }}", NULL, 0,
                                    NULL, 0, &b, &st, &err),
              SP_EPARAM);
    CHECK_INT(st.http_status, 410);
    CHECK_STR(st.body, "{\"error\":\"gone\",\"code\":7}");
    free(st.body);
    err = (sp_error)SP_ERROR_INIT;
    CHECK_INT(sp_template_render_ex("{{ custom_error('no way', 403) }}", NULL, 0, NULL, 0, &b, &st,
                                    &err),
              SP_EPARAM);
    CHECK_INT(st.http_status, 403);
    CHECK_STR(st.body, "{\"error\":\"no way\"}");
    free(st.body);
    err = (sp_error)SP_ERROR_INIT;
    CHECK_INT(sp_template_render_ex("{{ error('x', 418) }}", NULL, 0, NULL, 0, &b, &st, &err),
              SP_EPARAM);
    CHECK_INT(st.http_status, 400);
    CHECK(st.body == NULL);
    err = (sp_error)SP_ERROR_INIT;
    CHECK_INT(sp_template_render_ex("{{ Int32(x) }}", NULL, 0, NULL, 0, &b, &st, &err), SP_EPARAM);
    CHECK_INT(st.http_status, 400);
    err = (sp_error)SP_ERROR_INIT;
    CHECK_INT(sp_template_render_ex("{{ nope( }}", NULL, 0, NULL, 0, &b, &st, &err), SP_EDEF);
    CHECK_INT(st.http_status, 0);
    sp_buf_release(&b);
}

TEST(identifiers)
{
    CHECK_R("SELECT {{ column(col) }}", "SELECT `user_id`");
    CHECK_R("SELECT {{ column(nocol, 'timestamp') }}", "SELECT `timestamp`");
    CHECK_R("SELECT {{ columns(cols) }}", "SELECT `a`,`t`.`b`");
    CHECK_R("SELECT {{ columns(nocols, 'x,y') }}", "SELECT `x`,`y`");
    CHECK_R("SELECT {{ columns(nocols, 'x,y', fn='sum') }}", "SELECT sum(`x`) as `x`,sum(`y`) as `y`");
    CHECK_R("SELECT {{ symbol(col) }}", "SELECT `user_id`");
    CHECK_R("SELECT {{ column(nocol) }}",
            "ERR -8: pipes/x.pipe:3: param 'nocol' is required: column() has no default, use "
            "`column(nocol, 'default_column_name')`");
    CHECK_R("FROM {{ table(col) }} JOIN {{ TABLE('db.t') }}", "FROM user_id JOIN db.t");
    CHECK_R("FROM {{ table(evil) }}",
            "ERR -8: pipes/x.pipe:3: param 'evil': 'x; DROP TABLE t' is not a valid table name");
    CHECK_R("{{ sql_unescape(String(pct), '%') }} {{ String(pct) }}", "'50%' '50\\%'");
    CHECK_R("{{ split_to_array(String(sarr)) }} {{ split_to_array(String(zz, 'x, y')) }}",
            "['a', 'b\\'c'] ['x', 'y']");
    CHECK_R("{{ split_to_array(zz, '') }} {{ split_to_array('a|b', '', '|') }}", "[''] ['a', 'b']");
}

/* the rendered SQL of an injection attempt lexes as the tokens expected */
static void check_tokens(const char *src, const char *const *kinds_and_text)
{
    char *out = render_f(src, 0);
    sp_tok *t = NULL;
    size_t n = 0;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_sql_lex(out, strlen(out), &t, &n, &err), &err);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].kind == SP_TOK_WS)
            continue;
        char buf[256];
        snprintf(buf, sizeof buf, "%.*s", (int)t[i].len, out + t[i].off);
        if (!kinds_and_text[k]) {
            CHECK_STR(buf, "(no more tokens)");
            break;
        }
        CHECK_STR(buf, kinds_and_text[k]);
        k++;
    }
    CHECK(kinds_and_text[k] == NULL);
    free(t);
    free(out);
}

TEST(injection)
{
    static const char *const t1[] = { "SELECT", "`x; DROP TABLE t`", "FROM", "t", NULL };
    check_tokens("SELECT {{ column(evil) }} FROM t", t1);
    static const char *const t2[] = { "SELECT", "`a\\`b\\\\c`", NULL };
    check_tokens("SELECT {{ symbol(bq) }}", t2);
    static const char *const t3[] = { "WHERE", "x", "=", "'x\\') OR 1=1 --'", NULL };
    check_tokens("WHERE x = {{ String(q2) }}", t3);
    check_tokens("WHERE x = {{ q2 }}", t3);
    static const char *const t4[] = { "WHERE", "x", "IN", "[", "'x\\') OR 1=1 --'", "]", NULL };
    check_tokens("WHERE x IN {{ Array(q2, 'String') }}", t4);
    static const char *const t5[] = { "WHERE", "x", "IN", "[", "'x\\') OR 1=1 --'", "]", NULL };
    check_tokens("WHERE x IN {{ split_to_array(q2) }}", t5);
    static const char *const t6[] = { "WHERE", "x", "=", "'x\\') OR 1=1 --'", NULL };
    check_tokens("WHERE {{ sql_and(x=q2) }}", t6);
    static const char *const t7[] = { "SELECT", "`a\\`b\\\\c`", ",", "`x; DROP TABLE t`", NULL };
    check_tokens("SELECT {{ columns(bq + ',' + evil) }}", t7);
    static const char *const t8[] = { "SELECT", "'x\\') OR 1=1 --'", NULL };
    check_tokens("SELECT {{ sql_unescape(q2, '%') }}", t8);
    check_tokens("SELECT {{ sql_unescape(q2) }}", t8);
    /* what sql_unescape may never unescape */
    CHECK_R("{{ sql_unescape(q2, \"'\") }}",
            "ERR -2: pipes/x.pipe:3: template line 1: sql_unescape(): quotes and backslashes stay "
            "escaped");
    CHECK_R("{{ backend_hint(q2 + '\\nDROP') }}", "-- backend_hint x') OR 1=1 -- DROP\n");
    CHECK_R("{{ tb_secret('X') }}",
            "ERR -19: pipes/x.pipe:3: template line 1: tb_secret() in SQL is not supported (the "
            "secret would be written into the rendered SQL); use it in .connection files");
    CHECK_R("{% import os %}", "ERR -2: pipes/x.pipe:3: template line 1: import is forbidden");
    CHECK_R("{{ __import__('os') }}",
            "ERR -2: pipes/x.pipe:3: template line 1: names starting with '__' are not allowed");
    CHECK_R("{{ ''.__class__ }}",
            "ERR -2: pipes/x.pipe:3: template line 1: attributes starting with '_' are not allowed");
    CHECK_R("{{ len([1] * 10**7) }}",
            "ERR -2: pipes/x.pipe:3: template line 1: Invalid BinOp: Pow() (Tinybird does not "
            "allow '**')");
    CHECK_R("{{ len([1] * 100000000) }}",
            "ERR -15: pipes/x.pipe:3: template line 1: the repeated value is too long");
}

TEST(expressions)
{
    CHECK_R("{{ Int32(a) * Int32(bb) }} {{ Int32(a) + 1 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} "
            "{{ 7 / 2 }} {{ 2 - 5 }}",
            "6 3 3 -4 1 3.5 -3");
    CHECK_R("{{ 'a' + 'b' }} {{ 'ab' * 2 }} {{ [1] + [2] }}", "'ab' 'abab' [1, 2]");
    CHECK_R("{{ 3 in [1, 2, 3] }} {{ 'x' not in 'abc' }} {{ 'b' in 'abc' }} {{ 1 in (2,) }}",
            "True True True False");
    CHECK_R("{% if empty != '' %}a{% else %}b{% end %}{% if s != [''] %}c{% end %}", "bc");
    CHECK_R("{{ len('héllo') }} {{ len(split_to_array(ids)) }} {{ len({'a': 1}) }}", "5 3 1");
    CHECK_R("{{ 'y' if defined(n) else 'n' }} {{ n or 'd' }} {{ zz or 'd' }} {{ n and 'x' }}",
            "'y' '42' 'd' 'x'");
    CHECK_R("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ None is None }} {{ n is not None }}",
            "True False True True");
    CHECK_R("{{ [x * 2 for x in [1, 2, 3] if x > 1] }} {{ (1, 'a') }} {{ {'k': [1]}['k'][0] }}",
            "[4, 6] (1, 'a') 1");
    CHECK_R("{{ 'abcdef'[1:3] }} {{ 'abcdef'[-1] }} {{ [1,2,3][::-1] }} {{ 'x,y'.split(',')[1] }}",
            "'bc' 'f' [3, 2, 1] 'y'");
    CHECK_R("{{ ' A b '.strip().lower() }} {{ 'a-b'.replace('-', '_') }} {{ ','.join(['a','b']) }} "
            "{{ 'abc'.startswith('ab') }} {{ 'abc'.upper() }}",
            "'a b' 'a_b' 'a,b' True 'ABC'");
    CHECK_R("{{ '%s-%d' % ('a', 3) }} {{ '{}:{}'.format(1, 'b') }} {{ str(12) + 'x' }} "
            "{{ int('7') + 1 }} {{ float('2.5') }} {{ round(2.675, 2) }} {{ abs(-3) }}",
            "'a-3' '1:b' '12x' 8 2.5 2.67 3");
    CHECK_R("{{ min(3, 1, 2) }} {{ max([1, 5]) }} {{ sum([1, 2]) }} {{ sorted([3, 1, 2]) }} "
            "{{ list(range(3)) }} {{ any([0, 1]) }} {{ all([]) }}",
            "1 5 3 [1, 2, 3] [0, 1, 2] True True");
    CHECK_R("{{ JSON(payload)[1]['dp'] }} {{ JSON(zz, '{\"a\": 1}').get('a') }} "
            "{{ JSON(zz).get('a', 'd') }}",
            "'Marketing' 1 'd'");
    /* a parameter declared Array(x, 'Int32') reads as a list of numbers */
    CHECK_R("{% set total = sum(ids) %}{{ total }} {{ Array(ids, 'Int32') }}", "6 [1,2,3]");
    /* a trailing comma in a multi-line call */
    CHECK_R("x = {{\n    String(\n        zz,\n        'd',\n    )\n}}", "x = 'd'");
    CHECK_R("{{ '5' > 3 }}",
            "ERR -2: pipes/x.pipe:3: template line 1: '>' not supported between instances of 'str' "
            "and 'int'");
    CHECK_R("{{ 1 / 0 }}", "ERR -2: pipes/x.pipe:3: template line 1: division by zero");
    CHECK_R("{{ 9223372036854775807 + 1 }}",
            "ERR -2: pipes/x.pipe:3: template line 1: integer overflow in the template expression");
    CHECK_R("{{ [1][5] }}", "ERR -2: pipes/x.pipe:3: template line 1: IndexError: list index out of range");
    CHECK_R("{{ n.get('x') }}",
            "ERR -2: pipes/x.pipe:3: template line 1: 'str' object has no attribute 'get'. Make sure "
            "you're using an object/dictionary where trying to use .get()");
}

TEST(dates)
{
    /* Tinybird's doctests */
    CHECK_R("{{ day_diff('2019-01-01', '2019-01-01') }} {{ day_diff('2019-01-02', '2019-02-01') }} "
            "{{ day_diff('2019-02-01', '2019-01-02') }}",
            "0 30 30");
    CHECK_R("{{ date_diff_in_days('2019-02-01 20:00:00', '2019-01-02 20:00:00', "
            "date_format='%Y-%m-%d %H:%M:%S') }} "
            "{{ date_diff_in_days('2019-01-01', '2019/01/04', backup_date_format='%Y/%m/%d') }} "
            "{{ date_diff_in_days('2019-02-01T20:00:00z', '2019-02-15', '%Y-%m-%dT%H:%M:%Sz', "
            "backup_date_format='%Y-%m-%d') }}",
            "30 3 13");
    CHECK_R("{{ date_diff_in_hours('2022-12-19T20:43:22Z', '2022-12-19T18:42:23Z','%Y-%m-%dT%H:%M:%Sz') }} "
            "{{ date_diff_in_hours('2022-12-14 18:42:22', '2022-12-19 18:42:22') }} "
            "{{ date_diff_in_hours('2022-12-19T03:22:12.102Z', '2022-12-19', "
            "date_format='%Y-%m-%dT%H:%M:%S.%fz', backup_date_format='%Y-%m-%d') }}",
            "2 120 3");
    CHECK_R("{{ date_diff_in_minutes('2022-12-14 18:42:22', '2022-12-19 18:42:22') }} "
            "{{ date_diff_in_minutes('2022-12-19', '2022-12-19 00:01:00', backup_date_format='%Y-%m-%d') }}",
            "7200 1");
    CHECK_R("{{ date_diff_in_seconds('2022-12-19 18:42:22', '2022-12-19 18:43:22') }} "
            "{{ date_diff_in_seconds('2022-12-19T18:42:23.521Z', '2022-12-19T18:44:23.531Z',"
            "'%Y-%m-%dT%H:%M:%S.%fz') }} "
            "{{ date_diff_in_seconds('2022-12-19 18:42:23.521', '2022-12-19 18:42:24.521',"
            "'%Y-%m-%d %H:%M:%S.%f') }}",
            "60 120 1");
    CHECK_R("{{ date_diff_in_hours('2022-12-32 18:42:22', '2022-12-19 18:42:22', none_if_error=True) "
            "is None }}",
            "True");
    CHECK_R("{{ day_diff('2019-01-01', '2019/01/02') }}",
            "ERR -8: pipes/x.pipe:3: invalid date format in function `day_diff`, it must be ISO "
            "format date YYYY-MM-DD, e.g. 2018-09-26. For other formats, try `date_diff_in_days`");
    CHECK_C("{{ day_diff(start, end) }} {{ date_diff_in_hours(start, end, default=5) }}", "0 5");
    CHECK_R("{% if day_diff(Date(d), '2024-03-02') > 1 %}long{% end %}", "long");
}

TEST(sql_and)
{
    /* Tinybird's doctests */
    sp_param pa[] = { { "a", "1" }, { "b", "2" } };
    sp_buf out = SP_BUF_INIT(4096);
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_template_render("{{sql_and(a=a, b=b)}}", pa, 2, NULL, &out, &err), &err);
    CHECK_STR(out.data, "a = '1' and b = '2'");
    sp_buf_reset(&out);
    CHECK_OK(sp_template_render("{{sql_and(a=a, b=b)}}", pa + 1, 1, NULL, &out, &err), &err);
    CHECK_STR(out.data, "b = '2'");
    sp_buf_reset(&out);
    CHECK_OK(sp_template_render("{{sql_and(a=Int(a, defined=False), b=Int(b, defined=False))}}",
                                pa + 1, 1, NULL, &out, &err),
             &err);
    CHECK_STR(out.data, "b = 2");
    sp_buf_release(&out);
    CHECK_R("{{ sql_and(x__in=Array(sarr), y__not_in=Array(ids, 'Int32'), n__gt=Int32(n), "
            "n__lte=Float32(f), z__gte=zz) }}",
            "x in ['a','b\\'c'] and y not in [1,2,3] and n > toInt32('42') and n <= toFloat32('1.5')");
    CHECK_R("{{ sql_and(x__like=n) }}",
            "ERR -2: pipes/x.pipe:3: template line 1: sql_and(): operand like not supported");
}

TEST(statements)
{
    CHECK_R("a{% if defined(n) %}b{% end %}c", "abc");
    CHECK_R("a{% if defined(zz) %}b{% else %}B{% end %}c", "aBc");
    CHECK_R("{% if Int32(n) > 40 and not defined(zz) %}x{% elif 1 %}y{% end %}", "x");
    CHECK_R("{% if Int32(n) < 40 %}x{% elif n == '42' %}y{% else %}z{% end %}", "y");
    CHECK_R("{% if zz or empty %}x{% else %}{% if s != 'a' %}n{% end %}{% end %}", "n");
    CHECK_R("{% if defined(zz) and Int32(zz) > 1 %}x{% end %}ok", "ok");
    CHECK_R("{% if defined(zz) %}{{ Int32(bad) }}{% end %}ok", "ok");
    CHECK_R("{# comment #}x{% comment also ignored %}", "x");
    CHECK_R("{% set x = 'name' %}{{ column(x) }}", "`name`");
    CHECK_R("{% set var_1 = 'name,age,address' %}{{columns(var_1)}}", "`name`,`age`,`address`");
    CHECK_R("{% set a, b = 1, 2 %}{{ a + b }}{% set a += 10 %} {{ a }}", "3 11");
    CHECK_R("{% for x in split_to_array(ids) %}{{ x }},{% end %}", "'1','2','3',");
    CHECK_R("{% for i, x in enumerate(['a', 'b']) %}{{ i }}={{ x }} {% end %}", "0='a' 1='b' ");
    CHECK_R("{% for last, c in enumerate_with_last(split_to_array(cols)) %}{{ column(c) }}"
            "{% if not last %}, {% end %}{% end %}",
            "`a`, `t`.`b`");
    CHECK_R("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% end %}"
            "{% if x == 4 %}{% break %}{% end %}{{ x }}{% end %}",
            "13");
    CHECK_R("{% for x in [] %}{{ x }}{% else %}none{% end %}", "none");
    CHECK_R("{% set i = 0 %}{% while i < 3 %}{% set i += 1 %}{{ i }}{% end %}", "123");
    CHECK_R("{% try %}{{ Int32(bad) }}{% except %}fallback{% end %}", "fallback");
    CHECK_R("{% try %}x{{ error('e') }}{% except Exception as e %}{{ e }}{% end %}",
            "'pipes/x.pipe:3: e'");
    CHECK_R("{% raw String(n) %}", "'42'");
    CHECK_R("{% for kv in JSON(payload) %} OR department = {{kv['dp']}}{% end %}",
            " OR department = 'Design' OR department = 'Marketing'");
    CHECK_R("{% for x in range(10000000) %}{% end %}",
            "ERR -15: pipes/x.pipe:3: template line 1: range() of more than 1000000 numbers");
    CHECK_R("{% while True %}{% end %}",
            "ERR -15: pipes/x.pipe:3: template line 1: the template does too much work (over "
            "2000000 steps)");
}

TEST(check_mode)
{
    /* Tinybird's test_mode doctests */
    CHECK_C("select * from table where f = {{Float32(foo)}}",
            "select * from table where f = toFloat32('0.0')");
    CHECK_C("SELECT * FROM t where a = {{test}}", "SELECT * FROM t where a = '__no_value__'");
    CHECK_C("{% for v in test %}SELECT {{v}} {% end %}",
            "SELECT '__no_value__' SELECT '__no_value__' SELECT '__no_value__' ");
    CHECK_C("select {{Int32(foo, 1)}}", "select toInt32('1')");
    CHECK_C("SELECT c FROM where a > {{Date(start)}} and b > {{DateTime(start)}}",
            "SELECT c FROM where a > '2019-01-01' and b > '2019-01-01 00:00:00'");
    CHECK_C("SELECT * from test limit {{Int(limit)}}", "SELECT * from test limit 0");
    CHECK_C("SELECT {{symbol(attr)}} from {{table(t)}}", "SELECT `placeholder` from placeholder");
    CHECK_C("SELECT {{Array(foo, 'Int32')}} {{Array(foo)}} {{Array(foo, 'Int32', '5')}}",
            "SELECT [0,0] [''] [5]");
    CHECK_C("SELECT {{String(foo)}} {{String(foo, 'test')}} {{String(n, 'test')}}",
            "SELECT '__no_value__' 'test' '42'");
    CHECK_C("{% if defined(x) %}x{% else %}nx{% end %}{{ error('nope') }}",
            "nx-- error launched \n");
    CHECK_C("{{ column(x, 'c') }} {{ columns(x, 'a,b') }}", "`c` `a`,`b`");
    CHECK_C("{{ column(x) }}",
            "ERR -8: pipes/x.pipe:3: param 'x' is required: column() has no default, use "
            "`column(x, 'default_column_name')`");
}

TEST(syntax_errors)
{
    CHECK_R("{{ Int32(n) ", "ERR -2: pipes/x.pipe:3: template line 1: unclosed '{{'");
    CHECK_R("x\n{% if 1 %}y", "ERR -2: pipes/x.pipe:3: template line 2: '{% if %}' without '{% end %}'");
    CHECK_R("{% end %}",
            "ERR -2: pipes/x.pipe:3: template line 1: '{% end %}' without its opening block");
    CHECK_R("{% for x in y %}", "ERR -2: pipes/x.pipe:3: template line 1: a loop without '{% end %}'");
    CHECK_R("{% extends 'x' %}",
            "ERR -19: pipes/x.pipe:3: template line 1: '{% extends %}' is not supported");
    CHECK_R("{{ nope(x) }}", "ERR -2: pipes/x.pipe:3: template line 1: 'nope' is not a valid function");
    CHECK_R("{{ Int32(n) Int32(n) }}",
            "ERR -2: pipes/x.pipe:3: template line 1: unexpected 'I' after the expression");
    CHECK_R("a\n\n{{ }}", "ERR -2: pipes/x.pipe:3: template line 3: empty expression ({{ }})");
    CHECK_R("{{ format }}",
            "ERR -2: pipes/x.pipe:3: template line 1: \"format\" can not be used as a variable name "
            "(Tinybird reserves it)");
    CHECK_R("{{ f'x' }}", "ERR -2: pipes/x.pipe:3: template line 1: f-strings are not supported");
    CHECK_R("{% if %}x{% end %}", "ERR -2: pipes/x.pipe:3: template line 1: '{% if %}' needs a condition");
    CHECK_R("{% if 1 %}{% break %}{% end %}",
            "ERR -2: pipes/x.pipe:3: template line 1: '{% break %}'/'{% continue %}' outside a loop");
}

TEST(declared_params)
{
    sp_tparam *v = NULL;
    size_t n = 0;
    sp_error err = SP_ERROR_INIT;
    CHECK_OK(sp_template_params(
                 "%\nSELECT * FROM t WHERE ts >= {{ DateTime(start, '2024-01-01 00:00:00', "
                 "description=\"from\") }}\n{% if defined(country) %} AND c = "
                 "{{ String(country, required=True) }}{% else %}{{ Int32(lim, 10) }}{% end %}"
                 "{{ Array(ids, 'Int64', default='1,2') }}{{ Int32(lim) }}"
                 "{% set loc = 1 %}{% for x in split_to_array(tags) %}{{ x }}{{ loc }}{% end %}"
                 "{{ column(sort, 'ts') }}",
                 &v, &n, &err),
             &err);
    CHECK_INT(n, 6);
    if (n == 6) {
        CHECK_STR(v[0].name, "start");
        CHECK_STR(v[0].type, "DateTime");
        CHECK_STR(v[0].default_val, "2024-01-01 00:00:00");
        CHECK_STR(v[0].description, "from");
        CHECK_INT(v[0].required, 0);
        CHECK_STR(v[1].name, "country");
        CHECK_STR(v[1].type, "String");
        CHECK_INT(v[1].required, 1);
        CHECK(v[1].default_val == NULL);
        CHECK_STR(v[2].name, "lim");
        CHECK_STR(v[2].type, "Int32");
        CHECK_STR(v[2].default_val, "10");
        CHECK_STR(v[3].name, "ids");
        CHECK_STR(v[3].type, "Array(Int64)");
        CHECK_STR(v[3].default_val, "1,2");
        CHECK_STR(v[4].name, "tags");
        CHECK_STR(v[4].type, "String");
        CHECK_STR(v[5].name, "sort");
    }
    sp_tparams_free(v, n);
    CHECK_INT(sp_template_params("{% if %}", &v, &n, &err), SP_EDEF);
}

int main(void)
{
    RUN(detects_templates);
    RUN(typed_values);
    RUN(defaults_and_missing);
    RUN(validation_errors);
    RUN(errors_and_status);
    RUN(identifiers);
    RUN(injection);
    RUN(expressions);
    RUN(dates);
    RUN(sql_and);
    RUN(statements);
    RUN(check_mode);
    RUN(syntax_errors);
    RUN(declared_params);
    return sp_test_done();
}
