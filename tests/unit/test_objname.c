// sp-deps: sp_buf sp_error sp_objname sp_format sp_format_* sp_thrift sp_rle sp_dtoa sp_type sp_date sp_time sp_ch_escape
#include "sp_test.h"

#include "sp_objname.h"

/* 2026-11-24 03:04:05 UTC (a Tuesday) */
#define NOW 1795489445LL

static sp_type t_str = { .kind = SP_T_STRING };
static sp_type t_i64 = { .kind = SP_T_INT64 };
static sp_type t_dt = { .kind = SP_T_DATETIME };
static sp_type t_date = { .kind = SP_T_DATE };
static sp_type t_dt64 = { .kind = SP_T_DATETIME64, .scale = 3 };

static char *names[] = { "org", "n", "ts", "dd", "ts3" };
static sp_type *types[] = { &t_str, &t_i64, &t_dt, &t_date, &t_dt64 };
static sp_schema schema = { 5, names, types };

static const sp_str orgs[] = { { "acme", 4 }, { "../../etc", 9 }, { "a/b", 3 }, { "", 0 } };
static const uint8_t org_nulls[] = { 0, 0, 0, 1 };
static const int64_t ns[] = { 7, -1, 0, 42 };
static const int64_t tss[] = { NOW, 0, 951782400 /* 2000-02-29 */, NOW + 12 * 3600 };
static const int64_t days[] = { 20416, 0, -1, 11016 };
static const int64_t ts3s[] = { NOW * 1000 + 7, -1, 5, 0 };

static sp_batch make_batch(sp_column *cols, int with_nulls)
{
    memset(cols, 0, 5 * sizeof *cols);
    cols[0].type = &t_str;
    cols[0].v.str = orgs;
    cols[0].nulls = with_nulls ? org_nulls : NULL;
    cols[1].type = &t_i64;
    cols[1].v.i64 = ns;
    cols[2].type = &t_dt;
    cols[2].v.i64 = tss;
    cols[3].type = &t_date;
    cols[3].v.i64 = days;
    cols[4].type = &t_dt64;
    cols[4].v.i64 = ts3s;
    sp_batch b = { 4, 5, cols };
    return b;
}

/* render: compile tmpl with params, render row i (part), return the text */
static const char *render(const char *tmpl, const sp_param *params, size_t np, size_t i,
                          unsigned part, sp_error *err)
{
    static char out[1024];
    sp_column cols[5];
    sp_batch b = make_batch(cols, 1);
    sp_objname_ctx ctx = { params, np, NOW, "job-1", &schema };
    sp_objname *t = NULL;
    out[0] = '\0';
    if (sp_objname_compile(tmpl, "EXPORT_FILE_TEMPLATE", &ctx, &t, err))
        return "(error)";
    sp_buf buf = SP_BUF_INIT(4096);
    if (sp_objname_render(t, &b, i, part, &buf, err) == 0)
        snprintf(out, sizeof out, "%s", buf.data ? buf.data : "");
    else
        snprintf(out, sizeof out, "(render error)");
    sp_buf_release(&buf);
    sp_objname_free(t);
    return out;
}

TEST(builtins)
{
    sp_error e = SP_ERROR_INIT;
    CHECK_STR(render("ev_{date}_{time}", NULL, 0, 0, 0, &e), "ev_2026-11-24_030405");
    CHECK_STR(render("{year}/{month}/{day}/{hour}{minute}-{job_id}", NULL, 0, 0, 0, &e),
              "2026/11/24/0304-job-1");
    CHECK_STR(render("{ date }", NULL, 0, 0, 0, &e), "2026-11-24");
    /* a result column named like a built-in wins */
    names[3] = "day";
    CHECK_STR(render("{day}", NULL, 0, 0, 0, &e), "2025-11-24");
    names[3] = "dd";
    CHECK_STR(e.msg, "");
}

TEST(params_come_first)
{
    sp_error e = SP_ERROR_INIT;
    sp_param p[] = { { "date", "override" }, { "org", "param-org" }, { "region", "eu" } };
    CHECK_STR(render("{region}_{date}_{org}", p, 3, 0, 0, &e), "eu_override_param-org");
    CHECK_STR(e.msg, "");
}

TEST(hostile_values_are_encoded)
{
    sp_error e = SP_ERROR_INIT;
    sp_param p[] = { { "a", "../../etc" }, { "b", "a/b" }, { "c", "x\\y%z" },
                     { "d", "" }, { "e", "." }, { "f", "v1.2" }, { "g", "l\nf\x7f" },
                     { "h", "..." } };
    CHECK_STR(render("{a}", p, 8, 0, 0, &e), "%2E%2E%2F%2E%2E%2Fetc");
    CHECK_STR(render("{b}", p, 8, 0, 0, &e), "a%2Fb");
    CHECK_STR(render("{c}", p, 8, 0, 0, &e), "x%5Cy%25z");
    CHECK_STR(render("{d}", p, 8, 0, 0, &e), "_");
    CHECK_STR(render("{e}", p, 8, 0, 0, &e), "%2E");
    CHECK_STR(render("{f}", p, 8, 0, 0, &e), "v1.2");
    CHECK_STR(render("{g}", p, 8, 0, 0, &e), "l%0Af%7F");
    CHECK_STR(render("{h}", p, 8, 0, 0, &e), "%2E%2E%2E");
    /* column values too */
    CHECK_STR(render("o={org}", NULL, 0, 1, 0, &e), "o=%2E%2E%2F%2E%2E%2Fetc");
    CHECK_STR(render("o={org}", NULL, 0, 2, 0, &e), "o=a%2Fb");
    CHECK_STR(render("o={org}", NULL, 0, 3, 0, &e), "o=null");
    CHECK_STR(e.msg, "");
}

TEST(column_values)
{
    sp_error e = SP_ERROR_INIT;
    CHECK_STR(render("org={org}/n={n}", NULL, 0, 0, 0, &e), "org=acme/n=7");
    CHECK_STR(render("{n}", NULL, 0, 1, 0, &e), "-1");
    CHECK_STR(render("{ts}", NULL, 0, 0, 0, &e), "2026-11-24 03:04:05");
    /* Date and DateTime64 as ClickHouse prints them */
    CHECK_STR(render("{dd}", NULL, 0, 0, 0, &e), "2025-11-24");
    CHECK_STR(render("{dd}", NULL, 0, 2, 0, &e), "1969-12-31");
    CHECK_STR(render("{ts3}", NULL, 0, 0, 0, &e), "2026-11-24 03:04:05.007");
    CHECK_STR(render("{ts3}", NULL, 0, 1, 0, &e), "1969-12-31 23:59:59.999");
    CHECK_STR(e.msg, "");
}

TEST(date_formats)
{
    sp_error e = SP_ERROR_INIT;
    CHECK_STR(render("{ts, '%Y-%m-%d'}", NULL, 0, 0, 0, &e), "2026-11-24");
    CHECK_STR(render("{ts,'%Y/%m'}", NULL, 0, 0, 0, &e), "2026%2F11");
    CHECK_STR(render("{ts, '%H:%i:%S|%F %T|%y|%j|%e|%p|%M|%b|%a|%W|%u|%w|%Q|%%'}", NULL, 0,
                     0, 0, &e),
              "03:04:05|2026-11-24 03:04:05|26|328|24|AM|November|Nov|Tue|Tuesday|2|2|4|%25");
    CHECK_STR(render("{ts, '%h %I %l %k %p %R %r %C %c %s %z'}", NULL, 0, 3, 0, &e),
              "03 03 03 15 PM 15:04 03:04 PM 20 11 05 +0000");
    CHECK_STR(render("{ts, '%D'}", NULL, 0, 2, 0, &e), "02%2F29%2F00");
    CHECK_STR(render("{ts, '%j'}", NULL, 0, 2, 0, &e), "060");
    CHECK_STR(render("{dd, '%Y%m%d'}", NULL, 0, 0, 0, &e), "20251124");
    CHECK_STR(render("{dd, '%F %T'}", NULL, 0, 2, 0, &e), "1969-12-31 00:00:00");
    CHECK_STR(render("{ts3, '%T.%f'}", NULL, 0, 0, 0, &e), "03:04:05.007");
    CHECK_STR(render("{ts3, '%F %T.%f'}", NULL, 0, 1, 0, &e), "1969-12-31 23:59:59.999");
    CHECK_STR(render("{ts, '%f'}", NULL, 0, 0, 0, &e), "000000");
    CHECK_STR(e.msg, "");
}

TEST(split)
{
    sp_error e = SP_ERROR_INIT;
    sp_objname_ctx ctx = { NULL, 0, NOW, "j", &schema };
    sp_objname *t = NULL;
    CHECK_OK(sp_objname_compile("part_{4}_{date}", "T", &ctx, &t, &e), &e);
    if (!t)
        return;
    CHECK_INT(sp_objname_split(t), 4);
    CHECK_INT(sp_objname_is_static(t), 1);
    sp_buf b = SP_BUF_INIT(256);
    CHECK_OK(sp_objname_render(t, NULL, 0, 3, &b, &e), &e);
    CHECK_STR(b.data, "part_3_2026-11-24");
    sp_buf_release(&b);
    sp_objname_free(t);
    CHECK_OK(sp_objname_compile("x_{org}", "T", &ctx, &t, &e), &e);
    CHECK_INT(sp_objname_is_static(t), 0);
    CHECK_INT(sp_objname_split(t), 0);
    sp_objname_free(t);
}

static void check_err(const char *tmpl, int code, const char *want)
{
    sp_error e = SP_ERROR_INIT;
    sp_objname_ctx ctx = { NULL, 0, NOW, "j", &schema };
    sp_objname *t = NULL;
    int rc = sp_objname_compile(tmpl, "EXPORT_FILE_TEMPLATE", &ctx, &t, &e);
    CHECK_INT(rc, code);
    CHECK(t == NULL);
    if (!strstr(e.msg, want))
        SP_T_FAIL("template '%s': message '%s' lacks '%s'", tmpl, e.msg, want);
    sp_objname_free(t);
}

TEST(errors)
{
    sp_error e = SP_ERROR_INIT;
    sp_objname_ctx ctx = { NULL, 0, NOW, "j", &schema };
    sp_objname *t = NULL;
    CHECK_INT(sp_objname_compile("a_{nope}", "EXPORT_FILE_TEMPLATE", &ctx, &t, &e), SP_EDEF);
    CHECK_STR(e.msg, "EXPORT_FILE_TEMPLATE: unknown placeholder '{nope}' (expected a "
                     "parameter, a result column, or date, time, year, month, day, hour, "
                     "minute, job_id, N)");
    check_err("a_{date", SP_EDEF, "unclosed placeholder");
    check_err("a_{}", SP_EDEF, "empty placeholder");
    check_err("{0}", SP_EDEF, "at least 1");
    check_err("{2}_{3}", SP_EDEF, "disagree");
    check_err("{org, '%Y'}", SP_EDEF, "applies only to Date and DateTime columns");
    check_err("{date, '%Y'}", SP_EDEF, "not a result column");
    check_err("{ts, '%V'}", SP_EDEF, "unsupported format specifier '%V'");
    check_err("{ts, %Y}", SP_EDEF, "expected a quoted format");
    check_err("", SP_EDEF, "empty file template");
}

int main(void)
{
    RUN(builtins);
    RUN(params_come_first);
    RUN(hostile_values_are_encoded);
    RUN(column_values);
    RUN(date_formats);
    RUN(split);
    RUN(errors);
    return sp_test_done();
}
