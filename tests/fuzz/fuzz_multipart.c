/* fuzz_multipart: multipart/form-data bodies (sp_multipart_each).
 *
 * Input: the body; the boundary is "XyZ".  Invariants: every part handed
 * out lies inside the body and ends right before a boundary; an error
 * leaves a one-line message. */
#include "fuzz.h"

#include "sp_error.h"
#include "sp_multipart.h"

typedef struct seen {
    const char *body;
    size_t len;
} seen;

static int on_part(void *ud, const sp_part *p, sp_error *err)
{
    (void)err;
    seen *s = ud;
    fz_check(p->data >= s->body && p->data + p->len <= s->body + s->len,
             "part outside the body");
    fz_check(p->data + p->len + 7 <= s->body + s->len &&
                 memcmp(p->data + p->len, "\r\n--XyZ", 7) == 0,
             "part does not end at a boundary");
    fz_check(strlen(p->name) < 256 && strlen(p->filename) < 256, "name too long");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen s = { (const char *)data, size };
    sp_error err = SP_ERROR_INIT;
    if (sp_multipart_each("XyZ", (const char *)data, size, on_part, &s, &err))
        fz_check_msg(&err);
    char b[80];
    char *ct = fz_strndup(data, size);
    (void)sp_multipart_boundary(ct, b, sizeof b);
    free(ct);
    return 0;
}
