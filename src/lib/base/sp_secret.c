/* sp_secret: the registry of secret values and the scrubber (sp_secret.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sp_secret.h"
#include "sp_banned.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char **g_v;  /* longest first */
static size_t g_n;

static int word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* add one value (len bytes at s), under g_mu */
static int add(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                   s[len - 1] == '\n'))
        len--;
    if (!len)
        return 0;
    size_t at = g_n;
    for (size_t i = 0; i < g_n; i++) {
        size_t l = strlen(g_v[i]);
        if (l == len && !memcmp(g_v[i], s, len))
            return 0;
        if (l < len && at == g_n)
            at = i;
    }
    char **nv = realloc(g_v, (g_n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    g_v = nv;
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    memmove(g_v + at + 1, g_v + at, (g_n - at) * sizeof *g_v);
    g_v[at] = c;
    g_n++;
    return 0;
}

/* the parts of one list item: address without scheme, user info and path,
 * and the host alone */
static int add_item(const char *s, size_t len)
{
    int rc = add(s, len);
    const char *e = s + len;
    for (const char *p = s; p + 3 <= e; p++)
        if (!memcmp(p, "://", 3)) {
            s = p + 3;
            break;
        }
    size_t n = (size_t)(e - s);
    size_t path = strcspn(s, "/?#");
    if (path < n)
        n = path;
    const char *at = memchr(s, '@', n);
    if (at) {
        rc |= add(s, (size_t)(at - s)); /* user info, and its password */
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (colon)
            rc |= add(colon + 1, (size_t)(at - colon - 1));
        n -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    rc |= add(s, n);
    /* host:port -> host ([v6]:port -> v6) */
    size_t h = n;
    while (h && s[h - 1] >= '0' && s[h - 1] <= '9')
        h--;
    if (h && h < n && s[h - 1] == ':') {
        h--;
        if (h >= 2 && s[0] == '[' && s[h - 1] == ']')
            rc |= add(s + 1, h - 2);
        else
            rc |= add(s, h);
    }
    return rc;
}

int sp_secret_register(const char *value)
{
    if (!value || !*value)
        return 0;
    pthread_mutex_lock(&g_mu);
    int rc = add(value, strlen(value));
    /* a list of addresses or a URL (not a JSON document nor a PEM block) */
    if (value[0] != '{' && !strchr(value, '\n') && strpbrk(value, ",;:")) {
        for (const char *p = value; *p;) {
            size_t l = strcspn(p, ",;");
            if (l)
                rc |= add_item(p, l);
            p += l;
            if (*p)
                p++;
        }
    }
    pthread_mutex_unlock(&g_mu);
    return rc ? -1 : 0;
}

/* scrub_one: every occurrence of v (per the rule) in msg */
static void scrub_one(char *msg, size_t cap, const char *v)
{
    size_t vn = strlen(v);
    if (!vn)
        return;
    int anywhere = vn >= SP_SECRET_ANYWHERE;
    int lead = word(v[0]), trail = word(v[vn - 1]);
    size_t from = 0;
    char *p;
    while ((p = strstr(msg + from, v)) != NULL) {
        size_t at = (size_t)(p - msg);
        if (!anywhere && ((lead && at > 0 && word(msg[at - 1])) || (trail && word(p[vn])))) {
            from = at + 1;
            continue;
        }
        size_t len = strlen(msg), tail = len - at - vn;
        if (at + 3 + tail + 1 > cap) { /* cannot grow: cut the rest */
            if (at + 3 + 1 <= cap) {
                memcpy(msg + at, "***", 4);
            } else {
                msg[at] = '\0';
            }
            return;
        }
        memmove(msg + at + 3, msg + at + vn, tail + 1);
        memcpy(msg + at, "***", 3);
        from = at + 3;
    }
}

void sp_secret_scrub(char *msg, size_t cap, const char *extra)
{
    if (!msg || !cap)
        return;
    size_t en = extra ? strlen(extra) : 0;
    int done = !en;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_n; i++) {
        if (!done && strlen(g_v[i]) < en) {
            scrub_one(msg, cap, extra);
            done = 1;
        }
        scrub_one(msg, cap, g_v[i]);
    }
    pthread_mutex_unlock(&g_mu);
    if (!done)
        scrub_one(msg, cap, extra);
}

void sp_secret_forget_all(void)
{
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_n; i++) {
        memset(g_v[i], 0, strlen(g_v[i]));
        free(g_v[i]);
    }
    free(g_v);
    g_v = NULL;
    g_n = 0;
    pthread_mutex_unlock(&g_mu);
}
