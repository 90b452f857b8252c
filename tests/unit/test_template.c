// sp-deps: sp_buf sp_error sp_template sp_template_expr
/* sp_template: rendering, typed parameters, conditions, errors, injection
 * attempts and the declared-parameter listing. */
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_template.h"
#include "sp_test.h"

static sp_param P[] = {
    { "s", "it's \\ x" },   { "n", "42" },         { "bad", "abc" },    { "big", "300" },
    { "f", "1.5" },         { "d", "2024-02-29" }, { "dt", "2024-01-02 03:04:05" },
    { "dtd", "2024-01-02" }, { "b", "true" },       { "arr", "1, 2,3" }, { "sarr", "a,b'c" },
    { "col", "user_id" },   { "cols", "a, t.b" },  { "evil", "x; DROP TABLE t" },
    { "pct", "50\\%" },     { "empty", "" },       { "neg", "-5" },
};
#define NP (sizeof P / sizeof *P)

static char *render(const char *src)
{
    sp_buf b = SP_BUF_INIT(1 << 20);
    sp_error err = SP_ERROR_INIT;
    int rc = sp_template_render(src, P, NP, "pipes/x.pipe:3", &b, &err);
    if (rc) {
        sp_buf_release(&b);
        size_t n = strlen(err.msg) + 16;
        char *m = malloc(n);
        snprintf(m, n, "ERR %d: %s", rc, err.msg);
        return m;
    }
    return sp_buf_detach(&b);
}

#define CHECK_R(src, want)          \
    do {                            \
        char *res_ = render(src);   \
        CHECK_STR(res_, (want));    \
        free(res_);                 \
    } while (0)

TEST(detects_templates)
{
    CHECK_INT(sp_template_is_templated("SELECT 1"), 0);
    CHECK_INT(sp_template_is_templated("SELECT {{ x }}"), 1);
    CHECK_INT(sp_template_is_templated("{% if 1 %}{% end %}"), 1);
    CHECK_R("SELECT 1 -- {not a tag}", "SELECT 1 -- {not a tag}");
    CHECK_R("%\nSELECT {{ Int32(n) }}", "\nSELECT 42");
}

TEST(typed_values)
{
    CHECK_R("{{ String(s) }}", "'it\\'s \\\\ x'");
    CHECK_R("{{ Int32(n) }} {{ UInt8(n) }} {{ Int64(neg) }} {{ Int256(n) }}", "42 42 -5 42");
    CHECK_R("{{ Float64(f) }} {{ Float32(n) }}", "1.5 42");
    CHECK_R("{{ Boolean(b) }}", "1");
    CHECK_R("{{ Date(d) }} {{ DateTime(dt) }} {{ DateTime(dtd) }}",
            "'2024-02-29' '2024-01-02 03:04:05' '2024-01-02 00:00:00'");
    CHECK_R("{{ DateTime64(dt) }}", "'2024-01-02 03:04:05'");
    CHECK_R("{{ Array(arr, 'Int32') }} {{ Array(sarr, 'String') }}", "[1,2,3] ['a','b\\'c']");
    CHECK_R("{{ Array(none, 'Int32', default='4,5') }}", "[4,5]");
    CHECK_R("{{ s }}", "'it\\'s \\\\ x'");
    CHECK_R("{{ 'lit' }} {{ 7 }} {{ True }} {{ None }}", "'lit' 7 1 NULL");
}

TEST(defaults_and_missing)
{
    CHECK_R("LIMIT {{ Int32(lim, 10, description=\"max rows\", required=False) }}", "LIMIT 10");
    CHECK_R("{{ String(country, 'US') }}", "'US'");
    CHECK_R("{{ DateTime(start, '2024-01-01 00:00:00') }}", "'2024-01-01 00:00:00'");
    CHECK_R("{{ String(missing) }}", "NULL");
    CHECK_R("{{ String(missing, required=True) }}",
            "ERR -8: pipes/x.pipe:3: param 'missing' is required");
    CHECK_R("{{ String(empty, 'x') }}", "''");
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
    CHECK_R("{{ Boolean(n) }}", "ERR -8: pipes/x.pipe:3: param 'n': '42' is not a valid Boolean");
    CHECK_R("{{ Array(sarr, 'Int32') }}",
            "ERR -8: pipes/x.pipe:3: param 'sarr': 'a' is not a valid Int32");
    CHECK_R("{{ error('bad request') }}", "ERR -8: pipes/x.pipe:3: bad request");
}

TEST(identifiers)
{
    CHECK_R("SELECT {{ column(col) }}", "SELECT `user_id`");
    CHECK_R("SELECT {{ column(nocol, 'timestamp') }}", "SELECT `timestamp`");
    CHECK_R("SELECT {{ columns(cols) }}", "SELECT `a`, `t`.`b`");
    CHECK_R("SELECT {{ columns(nocols, 'x,y') }}", "SELECT `x`, `y`");
    CHECK_R("SELECT {{ symbol(col) }}", "SELECT `user_id`");
    CHECK_R("SELECT {{ column(evil) }}",
            "ERR -8: pipes/x.pipe:3: param 'evil': 'x; DROP TABLE t' is not a valid column name");
    CHECK_R("{{ sql_unescape(String(pct), '%') }}", "'50%'");
    CHECK_R("{{ split_to_array(String(sarr)) }} {{ split_to_array(String(zz, 'x,y')) }}",
            "['a','b\\'c'] ['x','y']");
    CHECK_R("{{ split_to_array(zz, '') }}", "[]");
}

TEST(conditions)
{
    CHECK_R("a{% if defined(n) %}b{% end %}c", "abc");
    CHECK_R("a{% if defined(zz) %}b{% else %}B{% end %}c", "aBc");
    CHECK_R("{% if Int32(n) > 40 and not defined(zz) %}x{% elif 1 %}y{% end %}", "x");
    CHECK_R("{% if Int32(n) < 40 %}x{% elif n == '42' %}y{% else %}z{% end %}", "y");
    CHECK_R("{% if zz or empty %}x{% else %}{% if s != 'a' %}n{% end %}{% end %}", "n");
    CHECK_R("{% if (1 == 2) or (f >= 1.5) %}t{% end %}", "t");
    CHECK_R("{% if defined(zz) %}{{ Int32(bad) }}{% end %}ok", "ok");
    CHECK_R("{# comment #}x", "x");
}

TEST(syntax_errors)
{
    CHECK_R("{{ Int32(n) ", "ERR -2: pipes/x.pipe:3: template line 1: unclosed '{{'");
    CHECK_R("x\n{% if 1 %}y", "ERR -2: pipes/x.pipe:3: template line 2: '{% if %}' without '{% end %}'");
    CHECK_R("{% end %}", "ERR -2: pipes/x.pipe:3: template line 1: '{% end %}' without '{% if %}'");
    CHECK_R("{% for x in y %}{% end %}",
            "ERR -19: pipes/x.pipe:3: template line 1: '{% for %}' is not supported");
    CHECK_R("{{ nope(x) }}", "ERR -2: pipes/x.pipe:3: template: unknown function 'nope'");
    CHECK_R("{{ Int32(n) Int32(n) }}",
            "ERR -2: pipes/x.pipe:3: template: unexpected 'I' after the expression");
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
                 "{{ Array(ids, 'Int64', default='1,2') }}{{ Int32(lim) }}",
                 &v, &n, &err),
             &err);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_STR(v[0].name, "start");
        CHECK_STR(v[0].type, "DateTime");
        CHECK_STR(v[0].default_val, "2024-01-01 00:00:00");
        CHECK_STR(v[0].description, "from");
        CHECK_INT(v[0].required, 0);
        CHECK_STR(v[1].name, "country");
        CHECK_INT(v[1].required, 1);
        CHECK(v[1].default_val == NULL);
        CHECK_STR(v[2].name, "lim");
        CHECK_STR(v[2].default_val, "10");
        CHECK_STR(v[3].name, "ids");
        CHECK_STR(v[3].type, "Array");
        CHECK_STR(v[3].default_val, "1,2");
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
    RUN(identifiers);
    RUN(conditions);
    RUN(syntax_errors);
    RUN(declared_params);
    return sp_test_done();
}
