/* sp_token: admin and datafile tokens, stored hashed, compared in constant
 * time. */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys_env.h"
#include "sp_model.h"
#include "sp_token.h"
#include "sp_banned.h"

#define ADMIN "admin"

typedef struct tok {
    char *name;
    unsigned char hash[SHA256_DIGEST_LENGTH];
} tok;

typedef struct grant {
    char *token;
    char *scope;    /* READ, OVERRIDE (pipes), APPEND, CREATE (datasources) */
    char *resource; /* pipe or datasource */
} grant;

struct sp_tokens {
    tok *t;
    size_t n;
    grant *g;
    size_t ng;
};

static void sha256(const char *s, unsigned char out[SHA256_DIGEST_LENGTH])
{
    SHA256((const unsigned char *)s, strlen(s), out);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < 2 * n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (unsigned char)(v << 4);
        else
            out[i / 2] |= (unsigned char)v;
    }
    return 0;
}

static int add_tok(sp_tokens *t, const char *name, const unsigned char *h)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->t[i].name, name))
            return 0;
    tok *nv = realloc(t->t, (t->n + 1) * sizeof *nv);
    if (!nv)
        return -1;
    t->t = nv;
    nv[t->n].name = strdup(name);
    if (!nv[t->n].name)
        return -1;
    memcpy(nv[t->n].hash, h, SHA256_DIGEST_LENGTH);
    t->n++;
    return 0;
}

static int add_grant(sp_tokens *t, const char *token, const char *scope, const char *res)
{
    grant *nv = realloc(t->g, (t->ng + 1) * sizeof *nv);
    if (!nv)
        return -1;
    t->g = nv;
    grant *g = &nv[t->ng];
    g->token = strdup(token);
    g->scope = strdup(scope);
    g->resource = strdup(res);
    t->ng++;
    return g->token && g->scope && g->resource ? 0 : -1;
}

/* one token: from the environment, the store, or created now */
static int resolve(sp_tokens *t, const sp_env *env, json_t *store, int *dirty, sp_buf *created,
                   const char *name, sp_error *err)
{
    char var[300];
    if (!strcmp(name, ADMIN))
        snprintf(var, sizeof var, "SINKPIPE_ADMIN_TOKEN");
    else
        snprintf(var, sizeof var, "SINKPIPE_TOKEN_%s", name);
    unsigned char h[SHA256_DIGEST_LENGTH];
    const char *v = sp_keys_env_get(env, var);
    if (v && *v) {
        sha256(v, h);
    } else if (unhex(json_string_value(json_object_get(store, name)), h, sizeof h) != 0) {
        unsigned char r[24];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
            return sp_error_set(err, SP_EINTERNAL, 0, "no randomness to create token '%s'",
                                name);
        char value[64] = "sp_";
        hex(r, sizeof r, value + 3);
        sha256(value, h);
        char hx[2 * SHA256_DIGEST_LENGTH + 1];
        hex(h, sizeof h, hx);
        json_object_set_new(store, name, json_string(hx));
        *dirty = 1;
        int rc = sp_buf_addf(created, err, "%s %s\n", name, value);
        OPENSSL_cleanse(value, sizeof value);
        if (rc)
            return rc;
    }
    if (add_tok(t, name, h))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    return 0;
}

int sp_tokens_load(sp_project *p, sp_tokens **out, char **created, sp_error *err)
{
    *out = NULL;
    if (created)
        *created = NULL;
    sp_tokens *t = calloc(1, sizeof *t);
    if (!t)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    const sp_env *env = NULL;
    int rc = sp_project_env(p, &env, err);
    char path[4096];
    snprintf(path, sizeof path, "%s/.sinkpipe", p->dir ? p->dir : ".");
    if (!rc && mkdir(path, 0755) != 0 && errno != EEXIST)
        rc = sp_error_set(err, SP_EIO, 0, "cannot create folder '%s': %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/.sinkpipe/tokens.json", p->dir ? p->dir : ".");
    json_t *store = rc ? NULL : json_load_file(path, 0, NULL);
    if (!store || !json_is_object(store)) {
        json_decref(store);
        store = json_object();
    }
    int dirty = 0;
    sp_buf made = SP_BUF_INIT(1u << 20);
    if (!rc)
        rc = resolve(t, env, store, &dirty, &made, ADMIN, err);
    for (size_t i = 0; !rc && i < p->npipes; i++)
        for (size_t k = 0; !rc && k < p->pipes[i]->ntokens; k++) {
            const sp_token *tk = &p->pipes[i]->tokens[k];
            rc = resolve(t, env, store, &dirty, &made, tk->name, err);
            if (!rc && add_grant(t, tk->name, tk->scope ? tk->scope : "READ", p->pipes[i]->name))
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
    for (size_t i = 0; !rc && i < p->ndss; i++)
        for (size_t k = 0; !rc && k < p->dss[i]->ntokens; k++) {
            const sp_token *tk = &p->dss[i]->tokens[k];
            rc = resolve(t, env, store, &dirty, &made, tk->name, err);
            if (!rc && add_grant(t, tk->name, tk->scope ? tk->scope : "APPEND", p->dss[i]->name))
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
    if (!rc && dirty) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        if (json_dump_file(store, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
            chmod(tmp, 0600) != 0 || rename(tmp, path) != 0)
            rc = sp_error_set(err, SP_EIO, 0, "cannot write '%s': %s", path, strerror(errno));
    }
    json_decref(store);
    if (rc) {
        if (made.data)
            OPENSSL_cleanse(made.data, made.len);
        sp_buf_release(&made);
        sp_tokens_free(t);
        return rc;
    }
    if (created && made.len)
        *created = sp_buf_detach(&made);
    else if (made.data)
        OPENSSL_cleanse(made.data, made.len);
    sp_buf_release(&made);
    *out = t;
    return 0;
}

void sp_tokens_free(sp_tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->t[i].name);
    free(t->t);
    for (size_t i = 0; i < t->ng; i++) {
        free(t->g[i].token);
        free(t->g[i].scope);
        free(t->g[i].resource);
    }
    free(t->g);
    free(t);
}

const char *sp_tokens_check(const sp_tokens *t, const char *value)
{
    if (!t || !value || !*value)
        return NULL;
    unsigned char h[SHA256_DIGEST_LENGTH];
    sha256(value, h);
    const char *found = NULL;
    /* every entry is compared, in constant time each */
    for (size_t i = 0; i < t->n; i++)
        if (CRYPTO_memcmp(h, t->t[i].hash, sizeof h) == 0 && !found)
            found = t->t[i].name;
    return found;
}

int sp_tokens_is_admin(const sp_tokens *t, const char *name)
{
    (void)t;
    return name && !strcmp(name, ADMIN);
}

int sp_tokens_allows(const sp_tokens *t, const char *name, const char *scope,
                     const char *resource)
{
    if (!name)
        return 0;
    if (sp_tokens_is_admin(t, name))
        return 1;
    if (!resource)
        return 0;
    /* OVERRIDE on a pipe includes READ on it; CREATE on a datasource
     * (Tinybird's DATASOURCES:CREATE: append, replace, truncate, delete)
     * includes APPEND and READ on it */
    int read = !strcasecmp(scope, "READ"), append = !strcasecmp(scope, "APPEND");
    for (size_t i = 0; i < t->ng; i++)
        if (!strcmp(t->g[i].token, name) && !strcmp(t->g[i].resource, resource) &&
            (!strcasecmp(t->g[i].scope, scope) ||
             (read && !strcasecmp(t->g[i].scope, "OVERRIDE")) ||
             ((read || append) && !strcasecmp(t->g[i].scope, "CREATE"))))
            return 1;
    return 0;
}
