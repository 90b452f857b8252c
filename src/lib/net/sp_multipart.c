/* sp_multipart: multipart/form-data bodies (see sp_multipart.h). */
#include "sp_multipart.h"

#include <string.h>
#include <strings.h>

#include "sp_error.h"
#include "sp_banned.h"

#define BOUNDARY_MAX 70

int sp_multipart_boundary(const char *ct, char *out, size_t outsz)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return 0;
    for (const char *p = ct + 19; *p; p++) {
        if (strncasecmp(p, "boundary=", 9) != 0 || (p[-1] != ';' && p[-1] != ' ' && p[-1] != '\t'))
            continue;
        p += 9;
        int quoted = *p == '"';
        p += quoted;
        size_t n = 0;
        while (p[n] && (quoted ? p[n] != '"' : (p[n] != ';' && p[n] != ' ' && p[n] != '\t')))
            n++;
        if (n == 0 || n > BOUNDARY_MAX || n >= outsz)
            return 0;
        memcpy(out, p, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* the value of attribute `attr` (name=, filename=) in a Content-Disposition
 * header line [p, end), into out ("" when absent) */
static void disp_attr(const char *p, const char *end, const char *attr, char *out, size_t outsz)
{
    size_t al = strlen(attr);
    out[0] = '\0';
    for (const char *q = p; q + al < end; q++) {
        if (strncasecmp(q, attr, al) != 0 || q[al] != '=' ||
            (q != p && q[-1] != ' ' && q[-1] != ';' && q[-1] != '\t'))
            continue;
        const char *v = q + al + 1;
        size_t n = 0;
        if (v < end && *v == '"') {
            v++;
            while (v + n < end && v[n] != '"')
                n++;
        } else {
            while (v + n < end && v[n] != ';' && v[n] != ' ')
                n++;
        }
        if (n >= outsz)
            n = outsz - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return;
    }
}

static const char *find(const char *h, size_t hl, const char *n, size_t nl)
{
    return nl && hl >= nl ? memmem(h, hl, n, nl) : NULL;
}

int sp_multipart_each(const char *boundary, const char *body, size_t len, sp_part_fn fn,
                      void *ud, sp_error *err)
{
    char delim[BOUNDARY_MAX + 8];
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > BOUNDARY_MAX)
        return sp_error_set(err, SP_EINVAL, 0, "multipart: bad boundary");
    /* "--boundary" opens the body; "\r\n--boundary" ends every part */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = '-';
    delim[3] = '-';
    memcpy(delim + 4, boundary, bl);
    size_t dl = bl + 4;
    const char *end = body + len;
    if (len < dl - 2 || memcmp(body, delim + 2, dl - 2) != 0)
        return sp_error_set(err, SP_EINVAL, 0, "multipart: the body does not start with its boundary");
    const char *p = body + dl - 2;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0; /* the closing boundary */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return sp_error_set(err, SP_EINVAL, 0, "multipart: a boundary is not followed by a line end");
        p += 2;
        const char *hend = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend)
            return sp_error_set(err, SP_EINVAL, 0, "multipart: a part's headers do not end");
        char name[256] = "", filename[256] = "";
        for (const char *l = p; l < hend;) {
            const char *le = find(l, (size_t)(hend - l), "\r\n", 2);
            if (!le)
                le = hend;
            if ((size_t)(le - l) > 20 && !strncasecmp(l, "Content-Disposition:", 20)) {
                disp_attr(l + 20, le, "name", name, sizeof name);
                disp_attr(l + 20, le, "filename", filename, sizeof filename);
            }
            l = le + 2;
        }
        const char *data = hend + 4;
        const char *next = find(data, (size_t)(end - data), delim, dl);
        if (!next)
            return sp_error_set(err, SP_EINVAL, 0, "multipart: a part does not end with the boundary");
        sp_part part = { name, filename, data, (size_t)(next - data) };
        int rc = fn(ud, &part, err);
        if (rc)
            return rc;
        p = next + dl;
    }
}
