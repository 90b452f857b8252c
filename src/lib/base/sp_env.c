/* sp_env: the environment snapshot (process environment, .env.local, .env),
 * tb_secret() resolution and connection overrides.  The only file of the
 * library that reads the process environment. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_buf.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_secret.h"
#include "sp_banned.h"

extern char **environ;

#define OVR_PREFIX "SINKPIPE_CONNECTION__"
#define ENV_FILE_MAX ((size_t)4 << 20)

typedef struct env_var {
    char *name;
    char *value;
} env_var;

struct sp_env {
    env_var *v;
    size_t n, cap;
};

sp_env *sp_env_new_empty(void)
{
    return calloc(1, sizeof(sp_env));
}

void sp_env_free(sp_env *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        if (e->v[i].value) {
            memset(e->v[i].value, 0, strlen(e->v[i].value));
            free(e->v[i].value);
        }
    }
    free(e->v);
    free(e);
}

static env_var *find(const sp_env *e, const char *name, size_t len)
{
    for (size_t i = 0; i < e->n; i++)
        if (strlen(e->v[i].name) == len && memcmp(e->v[i].name, name, len) == 0)
            return &e->v[i];
    return NULL;
}

/* put: replace (when replace) or add a variable; name/value of given lengths */
static int put(sp_env *e, const char *name, size_t nlen, const char *value, size_t vlen,
               int replace)
{
    env_var *v = find(e, name, nlen);
    if (v && !replace)
        return 0;
    char *val = strndup(value, vlen);
    if (!val)
        return SP_ENOMEM;
    if (v) {
        free(v->value);
        v->value = val;
        return 0;
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        env_var *nv = realloc(e->v, cap * sizeof *nv);
        if (!nv) {
            free(val);
            return SP_ENOMEM;
        }
        e->v = nv;
        e->cap = cap;
    }
    char *nm = strndup(name, nlen);
    if (!nm) {
        free(val);
        return SP_ENOMEM;
    }
    e->v[e->n++] = (env_var){ nm, val };
    return 0;
}

int sp_env_set(sp_env *e, const char *name, const char *value)
{
    if (!e || !name || !value)
        return SP_EINVAL;
    return put(e, name, strlen(name), value, strlen(value), 1);
}

const char *sp_env_get(const sp_env *e, const char *name)
{
    if (!e || !name)
        return NULL;
    env_var *v = find(e, name, strlen(name));
    return v ? v->value : NULL;
}

static int is_name_char(int c, int first)
{
    return c == '_' || isalpha(c) || (!first && isdigit(c));
}

/* read_dotenv: NAME=value lines; existing variables win (first hit wins). */
static int read_dotenv(sp_env *e, const char *path, sp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return sp_error_set(err, SP_EIO, 0, "%s: cannot open: %s", path, strerror(errno));
    }
    sp_buf b = SP_BUF_INIT(ENV_FILE_MAX);
    char chunk[4096];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + got > b.max) { /* every definition error names its line */
            int at = 1;
            for (size_t i = 0; i < b.len; i++)
                at += b.data[i] == '\n';
            rc = sp_error_set(err, SP_EDEF, 0, "%s:%d: file larger than %zu MiB", path, at,
                              b.max >> 20);
            break;
        }
        rc = sp_buf_add(&b, chunk, got, err);
    }
    if (!rc && ferror(f))
        rc = sp_error_set(err, SP_EIO, 0, "%s: read error", path);
    fclose(f);
    const char *s = b.data ? b.data : "";
    const char *nul = rc ? NULL : memchr(s, '\0', b.len);
    if (nul) { /* values are C strings: a NUL would cut the file short */
        int at = 1;
        for (const char *q = s; q < nul; q++)
            at += *q == '\n';
        rc = sp_error_set(err, SP_EDEF, 0, "%s:%d: NUL byte in the file", path, at);
    }
    if (b.len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) /* a UTF-8 BOM */
        s += 3;
    int lineno = 0;
    while (!rc && *s) {
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        const char *end = s + len;
        lineno++;
        const char *p = s;
        s = eol ? eol + 1 : end;
        while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end || *p == '#')
            continue;
        if ((size_t)(end - p) > 7 && memcmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
            p += 7;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        }
        const char *name = p;
        while (p < end && is_name_char((unsigned char)*p, p == name))
            p++;
        size_t nlen = (size_t)(p - name);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (nlen == 0 || p == end || *p != '=') {
            rc = sp_error_set(err, SP_EDEF, 0, "%s:%d: expected NAME=value", path, lineno);
            break;
        }
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *v = p, *vend = end;
        if (vend - v >= 2 && (*v == '"' || *v == '\'') && vend[-1] == *v) {
            v++;
            vend--;
        } else {
            /* unquoted: an inline " #" comment ends the value */
            for (const char *q = v; q < vend; q++)
                if (*q == '#' && q > v && (q[-1] == ' ' || q[-1] == '\t')) {
                    vend = q;
                    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
                        vend--;
                    break;
                }
        }
        if (put(e, name, nlen, v, (size_t)(vend - v), 0))
            rc = sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", path);
    }
    if (b.data)
        memset(b.data, 0, b.len);
    sp_buf_release(&b);
    return rc;
}

int sp_env_open(const char *project_dir, sp_env **out, sp_error *err)
{
    *out = NULL;
    sp_env *e = sp_env_new_empty();
    if (!e)
        return sp_error_set(err, SP_ENOMEM, 0, "environment: out of memory");
    for (char **p = environ; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (!eq || eq == *p)
            continue;
        if (put(e, *p, (size_t)(eq - *p), eq + 1, strlen(eq + 1), 0)) {
            sp_env_free(e);
            return sp_error_set(err, SP_ENOMEM, 0, "environment: out of memory");
        }
    }
    const char *dir = project_dir ? project_dir : ".";
    const char *files[2] = { ".env.local", ".env" };
    for (int i = 0; i < 2; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        int rc = read_dotenv(e, path, err);
        if (rc) {
            sp_env_free(e);
            return rc;
        }
    }
    *out = e;
    return 0;
}

/* --------------------------------------------------------- tb_secret */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* quoted: parse '...' or "..." at s; start and len receive the content; returns the
 * position after the closing quote or NULL */
static const char *quoted(const char *s, const char **start, size_t *len)
{
    char q = *s;
    if (q != '"' && q != '\'')
        return NULL;
    const char *e = strchr(s + 1, q);
    if (!e)
        return NULL;
    *start = s + 1;
    *len = (size_t)(e - s - 1);
    return e + 1;
}

/* parse_secret: at "{{", a tb_secret call; returns the end (after "}}") or
 * NULL when this is not a tb_secret expression */
static const char *parse_secret(const char *s, const char **name, size_t *nlen,
                                const char **dflt, size_t *dlen)
{
    const char *p = skip_ws(s + 2);
    if (strncmp(p, "tb_secret", 9) != 0)
        return NULL;
    p = skip_ws(p + 9);
    if (*p++ != '(')
        return NULL;
    p = quoted(skip_ws(p), name, nlen);
    if (!p)
        return NULL;
    p = skip_ws(p);
    *dflt = NULL;
    *dlen = 0;
    if (*p == ',') {
        p = quoted(skip_ws(p + 1), dflt, dlen);
        if (!p)
            return NULL;
        p = skip_ws(p);
    }
    if (*p++ != ')')
        return NULL;
    p = skip_ws(p);
    if (p[0] != '}' || p[1] != '}')
        return NULL;
    return p + 2;
}

int sp_env_resolve(const sp_env *e, const char *raw, const char *where, char **out,
                   int *is_secret, sp_error *err)
{
    *out = NULL;
    if (is_secret)
        *is_secret = 0;
    if (!raw)
        raw = "";
    sp_buf b = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    const char *s = raw;
    int rc = 0, used = 0;
    while (!rc && *s) {
        const char *o = strstr(s, "{{");
        if (!o) {
            rc = sp_buf_adds(&b, s, err);
            break;
        }
        const char *name, *dflt;
        size_t nlen, dlen;
        const char *end = parse_secret(o, &name, &nlen, &dflt, &dlen);
        if (!end) {
            rc = sp_buf_add(&b, s, (size_t)(o - s) + 2, err);
            s = o + 2;
            continue;
        }
        rc = sp_buf_add(&b, s, (size_t)(o - s), err);
        if (rc)
            break;
        env_var *v = e ? find(e, name, nlen) : NULL;
        /* whatever key it feeds, the value is never shown (sp_secret.h) */
        if (v) {
            rc = sp_buf_adds(&b, v->value, err);
            if (!rc && sp_secret_register(v->value))
                rc = sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", where ? where : "?");
        } else if (dflt) {
            rc = sp_buf_add(&b, dflt, dlen, err);
            char *d = rc ? NULL : strndup(dflt, dlen);
            if (!rc && (!d || sp_secret_register(d)))
                rc = sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", where ? where : "?");
            free(d);
        }
        else
            rc = sp_error_set(err, SP_ESECRET, 0,
                              "%s: secret '%.*s' is not set (environment, .env.local, .env)",
                              where ? where : "?", (int)nlen, name);
        if (is_secret)
            *is_secret = 1;
        used = 1;
        s = end;
    }
    /* and the value as a whole (a secret inside a longer value) */
    if (!rc && b.data && used && sp_secret_register(b.data))
        rc = sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", where ? where : "?");
    if (rc) {
        if (b.data)
            memset(b.data, 0, b.len);
        sp_buf_release(&b);
        return rc;
    }
    *out = sp_buf_detach(&b);
    if (!*out)
        return sp_error_set(err, SP_ENOMEM, 0, "%s: out of memory", where ? where : "?");
    return 0;
}

/* ----------------------------------------------------------- overrides */

/* match: name is OVR_PREFIX<conn>__<KEY>; returns KEY or NULL */
static const char *override_key(const char *name, const char *conn)
{
    size_t pl = sizeof(OVR_PREFIX) - 1, cl = strlen(conn);
    if (strncmp(name, OVR_PREFIX, pl) != 0 || strncmp(name + pl, conn, cl) != 0 ||
        strncmp(name + pl + cl, "__", 2) != 0 || !name[pl + cl + 2])
        return NULL;
    return name + pl + cl + 2;
}

int sp_env_conn_override(const sp_env *e, const char *conn, const char *key,
                         const char **value)
{
    if (!e || !conn || !key)
        return 0;
    for (size_t i = 0; i < e->n; i++) {
        const char *k = override_key(e->v[i].name, conn);
        if (k && strcmp(k, key) == 0) {
            *value = e->v[i].value;
            return 1;
        }
    }
    return 0;
}

void sp_env_each_override(const sp_env *e, const char *conn,
                          void (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    if (!e || !conn)
        return;
    for (size_t i = 0; i < e->n; i++) {
        const char *k = override_key(e->v[i].name, conn);
        if (k)
            fn(ud, k, e->v[i].value);
    }
}
