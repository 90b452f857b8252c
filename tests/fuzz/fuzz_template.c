/* fuzz_template: Tinybird template rendering (normal and check mode, with
 * the HTTP status a failure asks for) and parameter listing, then the
 * dialect rewrite of what a rendering produced.  Invariant: a parameter
 * value never leaves a render unescaped — rendering `{{ String(s) }}`,
 * `{{ symbol(s) }}` and a bare `{{ s }}` with the fuzzed parameters yields
 * one SQL token.
 *
 * Input: the template text.  When the input holds a NUL byte, the part
 * before it lists the request parameters as `name=value` lines and the part
 * after it is the template; otherwise a fixed set of parameters is used. */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_sql.h"
#include "sp_sql_lex.h"
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
    sp_template_status st;
    if (sp_template_render_ex(tmpl, pv, npar, "pipes/fuzz.pipe:3", SP_TEMPLATE_CHECK, &out, &st,
                              &err) != 0)
        fz_check_msg(&err);
    else
        fz_check(st.body == NULL, "a body without an error");
    free(st.body);
    sp_buf_reset(&out);
    err = (sp_error)SP_ERROR_INIT;
    if (sp_template_render_ex(tmpl, pv, npar, "pipes/fuzz.pipe:3", 0, &out, &st, &err) == 0) {
        sp_buf sql = SP_BUF_INIT(1 << 22);
        sp_error e2 = SP_ERROR_INIT;
        if (sp_sql_logical_time(out.data ? out.data : "", 1764000000, &sql, &e2) != 0)
            fz_check_msg(&e2);
        sp_buf_release(&sql);
    } else {
        fz_check_msg(&err);
        fz_check(st.http_status == 0 || (st.http_status >= 100 && st.http_status <= 599),
                 "http status %d", st.http_status);
    }
    free(st.body);
    sp_buf_release(&out);

    /* every parameter value, quoted or back-quoted, is one SQL token */
    static const char *const probes[][2] = { { "{{ String(", ") }}" }, { "{{ symbol(", ") }}" },
                                             { "{{ ", " }}" } };
    for (size_t i = 0; i < npar; i++) {
        if (!pv[i].name || !pv[i].name[0] || strspn(pv[i].name,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != strlen(pv[i].name) ||
            (pv[i].name[0] >= '0' && pv[i].name[0] <= '9') || strlen(pv[i].name) > 40 ||
            !strcmp(pv[i].name, "format") || !strcmp(pv[i].name, "q") ||
            !strncmp(pv[i].name, "__", 2))
            continue;
        for (size_t k = 0; k < sizeof probes / sizeof *probes; k++) {
            char t[128];
            snprintf(t, sizeof t, "%s%s%s", probes[k][0], pv[i].name, probes[k][1]);
            sp_buf o = SP_BUF_INIT(1 << 22);
            sp_error e = SP_ERROR_INIT;
            if (sp_template_render(t, pv, npar, NULL, &o, &e) == 0 && o.data) {
                sp_tok *tok = NULL;
                size_t ntok = 0;
                sp_error e2 = SP_ERROR_INIT;
                int lrc = sp_sql_lex(o.data, o.len, &tok, &ntok, &e2);
                /* a value may be a keyword-like name (symbol of a function
                 * name…): only the number of tokens is checked */
                fz_check(lrc == 0 && ntok == 1, "'%s' with %s='%s' gave %zu tokens: %s", t,
                         pv[i].name, pv[i].value, ntok, o.data);
                free(tok);
            }
            sp_buf_release(&o);
        }
    }

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
