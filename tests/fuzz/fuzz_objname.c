/* fuzz_objname: object-name templates (sp_objname_compile / _render).
 *
 * Input: the template (EXPORT_FILE_TEMPLATE or a bucket URI's path).  It is
 * compiled against fixed parameters and a fixed result schema and rendered
 * for every row of a fixed batch holding hostile values ("../..", "a/b",
 * control characters, NULL).  Invariant: a template without '/' or '\\'
 * never renders one, whatever the values (no escape from the prefix). */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_objname.h"

#define NOW 1795489445LL /* 2026-11-24 03:04:05 UTC */
#define NROWS 5

static sp_type t_str = { .kind = SP_T_STRING };
static sp_type t_i64 = { .kind = SP_T_INT64 };
static sp_type t_u64 = { .kind = SP_T_UINT64 };
static sp_type t_dt = { .kind = SP_T_DATETIME };
static sp_type t_date = { .kind = SP_T_DATE };
static sp_type t_dt64 = { .kind = SP_T_DATETIME64, .scale = 3 };
static sp_type t_f64 = { .kind = SP_T_FLOAT64 };

static char *names[] = { "org", "n", "ts", "dd", "ts3", "u", "f" };
static sp_type *types[] = { &t_str, &t_i64, &t_dt, &t_date, &t_dt64, &t_u64, &t_f64 };
static sp_schema schema = { 7, names, types };

static const sp_str orgs[NROWS] = {
    { "acme", 4 }, { "../../etc", 9 }, { "a/b\\c", 5 }, { "", 0 }, { "x\n\x01%2F..\xff", 10 },
};
static const uint8_t org_nulls[NROWS] = { 0, 0, 0, 1, 0 };
static const int64_t ns[NROWS] = { 7, -1, 0, INT64_MIN, INT64_MAX };
static const int64_t tss[NROWS] = { NOW, 0, 951782400, -1, 253402300799LL };
static const int64_t days[NROWS] = { 20416, 0, -1, 11016, 2932896 };
static const int64_t ts3s[NROWS] = { NOW * 1000 + 7, -1, 5, 0, -62135596800000LL };
static const uint64_t us[NROWS] = { 0, 1, UINT64_MAX, 42, 1000 };
static const double fs[NROWS] = { 0.5, -0.0, 1e300, 3.0, -2.25 };

static const sp_param params[] = {
    { "region", "eu-west-1" }, { "evil", "../../x/y" }, { "date", "1999-12-31" },
    { "empty", "" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *tmpl = fz_strndup(data, size);
    sp_column cols[7];
    memset(cols, 0, sizeof cols);
    for (size_t i = 0; i < 7; i++)
        cols[i].type = types[i];
    cols[0].v.str = orgs;
    cols[0].nulls = org_nulls;
    cols[1].v.i64 = ns;
    cols[2].v.i64 = tss;
    cols[3].v.i64 = days;
    cols[4].v.i64 = ts3s;
    cols[5].v.u64 = us;
    cols[6].v.f64 = fs;
    sp_batch b = { NROWS, 7, cols };
    sp_objname_ctx ctx = { params, sizeof params / sizeof params[0], NOW, "job-1", &schema };

    sp_objname *t = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_objname_compile(tmpl, "EXPORT_FILE_TEMPLATE", &ctx, &t, &err) == 0) {
        int st = sp_objname_is_static(t);
        unsigned split = sp_objname_split(t);
        int slashless = !strchr(tmpl, '/') && !strchr(tmpl, '\\');
        sp_buf out = SP_BUF_INIT(1 << 20);
        for (size_t r = 0; r < NROWS; r++) {
            unsigned parts[2] = { 0, split ? split - 1 : 0 };
            for (int k = 0; k < 2; k++) {
                sp_error e = SP_ERROR_INIT;
                sp_buf_reset(&out);
                if (sp_objname_render(t, st ? NULL : &b, r, parts[k], &out, &e) != 0) {
                    fz_check_msg(&e);
                    continue;
                }
                const char *s = out.data ? out.data : "";
                fz_check(strlen(s) == out.len, "rendered name holds a NUL byte");
                if (slashless)
                    fz_check(!memchr(s, '/', out.len) && !memchr(s, '\\', out.len),
                             "template '%s' rendered '%s' for row %zu", tmpl, s, r);
            }
        }
        sp_buf_release(&out);
    } else {
        fz_check_msg(&err);
    }
    sp_objname_free(t);
    free(tmpl);
    return 0;
}
