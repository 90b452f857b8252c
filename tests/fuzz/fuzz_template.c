/* fuzz_template: Tinybird template rendering and parameter listing, then
 * the dialect rewrite of what a rendering produced.
 *
 * Input: the template text.  When the input holds a NUL byte, the part
 * before it lists the request parameters as `name=value` lines and the part
 * after it is the template; otherwise a fixed set of parameters is used. */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_sql.h"
#include "sp_template.h"

#define MAXP 16

static const sp_param fixed[] = {
    { "start", "2024-01-01 00:00:00" }, { "day", "2024-02-29" }, { "n", "42" },
    { "neg", "-7" },  { "f", "1.5e3" },   { "s", "it's \"q\" \\ {{x}}" },
    { "b", "true" },  { "arr", "1,2,3" },  { "col", "event_type" },
    { "empty", "" },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 18))
        return 0;
    char *parts[2];
    size_t np = fz_split(data, size, parts, 2);
    const char *tmpl = parts[np - 1];
    sp_param params[MAXP];
    const sp_param *pv = fixed;
    size_t npar = sizeof fixed / sizeof fixed[0];
    if (np == 2) {
        npar = 0;
        pv = params;
        for (char *line = parts[0]; line && *line && npar < MAXP;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            char *eq = strchr(line, '=');
            if (eq) {
                *eq = '\0';
                params[npar].name = line;
                params[npar].value = eq + 1;
                npar++;
            }
            line = nl ? nl + 1 : NULL;
        }
    }

    (void)sp_template_is_templated(tmpl);

    sp_buf out = SP_BUF_INIT(1 << 22);
    sp_error err = SP_ERROR_INIT;
    if (sp_template_render(tmpl, pv, npar, "pipes/fuzz.pipe:3", &out, &err) == 0) {
        sp_buf sql = SP_BUF_INIT(1 << 22);
        sp_error e2 = SP_ERROR_INIT;
        if (sp_sql_logical_time(out.data ? out.data : "", 1764000000, &sql, &e2) != 0)
            fz_check_msg(&e2);
        sp_buf_release(&sql);
    } else {
        fz_check_msg(&err);
    }
    sp_buf_release(&out);

    sp_tparam *tp = NULL;
    size_t ntp = 0;
    sp_error e3 = SP_ERROR_INIT;
    if (sp_template_params(tmpl, &tp, &ntp, &e3) == 0) {
        for (size_t i = 0; i < ntp; i++)
            fz_check(tp[i].name && tp[i].name[0], "declared parameter %zu without a name", i);
        sp_tparams_free(tp, ntp);
    } else {
        fz_check_msg(&e3);
    }
    fz_free_parts(parts, np);
    return 0;
}
