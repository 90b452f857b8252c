/* fuzz_type: ClickHouse type names (sp_type_parse / sp_type_format /
 * sp_type_clone).
 *
 * Input: a type name.  Invariants: the canonical form of a parsed type
 * parses again to the same canonical form, and a clone prints the same. */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_type.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = fz_strndup(data, size);
    sp_type *t = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_type_parse(text, &t, &err) == 0) {
        fz_check(t != NULL, "parse succeeded without a type");
        sp_buf a = SP_BUF_INIT(1 << 20), b = SP_BUF_INIT(1 << 20), c = SP_BUF_INIT(1 << 20);
        sp_error e = SP_ERROR_INIT;
        fz_check(sp_type_format(t, &a, &e) == 0, "format of a parsed type failed: %s", e.msg);
        sp_type *u = NULL;
        int rc = sp_type_parse(a.data, &u, &e);
        fz_check(rc == 0, "canonical form '%s' of '%s' does not parse: %s", a.data, text, e.msg);
        fz_check(sp_type_format(u, &b, &e) == 0, "format failed: %s", e.msg);
        fz_check(!strcmp(a.data, b.data), "canonical form not stable: '%s' -> '%s'", a.data,
                 b.data);
        sp_type *k = sp_type_clone(t);
        if (k) {
            fz_check(sp_type_format(k, &c, &e) == 0, "format of a clone failed: %s", e.msg);
            fz_check(!strcmp(a.data, c.data), "clone prints '%s', original '%s'", c.data,
                     a.data);
        }
        (void)sp_kind_is_signed(t->kind);
        (void)sp_kind_json_number(t->kind);
        sp_type_free(k);
        sp_type_free(u);
        sp_buf_release(&a);
        sp_buf_release(&b);
        sp_buf_release(&c);
    } else {
        fz_check(t == NULL, "failed parse left a type");
        fz_check_msg(&err);
    }
    sp_type_free(t);
    free(text);
    return 0;
}
