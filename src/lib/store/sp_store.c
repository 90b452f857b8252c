/* sp_store: the store registry (SP_STORES in sp_store_for.h) and the
 * factory that opens the store of a bucket URI through it.  Nothing here
 * names a store: adding one touches this file not at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_env.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_store_for.h"
#include "sp_banned.h"

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* join: malloc'd a + b, NULL on ENOMEM */
static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* prefix_of: the key prefix text s[0..n): "" or ending in '/' */
static char *prefix_of(const char *s, size_t n)
{
    while (n && s[0] == '/') { /* no leading '/' in keys */
        s++;
        n--;
    }
    if (n == 0)
        return sp_memdup0("", 0);
    char *p = malloc(n + 2);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    if (s[n - 1] != '/')
        p[n++] = '/';
    p[n] = '\0';
    return p;
}

void sp_bucket_uri_release(sp_bucket_uri *u)
{
    if (!u)
        return;
    free(u->root);
    free(u->key_prefix);
    u->root = u->key_prefix = NULL;
}

#define SP_STORE_PTR_(w) &sp_store_backend_##w,
static const sp_store_backend *const stores[] = { SP_STORES(SP_STORE_PTR_) };
#define NSTORES (sizeof stores / sizeof stores[0])

const sp_store_backend *sp_store_backend_find(const char *name)
{
    for (size_t i = 0; name && i < NSTORES; i++)
        if (!strcmp(stores[i]->name, name))
            return stores[i];
    return NULL;
}

const sp_store_backend *sp_store_backend_of_uri(const char *uri)
{
    for (size_t i = 0; uri && i < NSTORES; i++) {
        size_t n = strlen(stores[i]->scheme);
        if (!strncmp(uri, stores[i]->scheme, n) && !strncmp(uri + n, "://", 3))
            return stores[i];
    }
    return NULL;
}

/* expected: "s3://bucket/prefix/, gs://bucket/prefix/ or file:///abs/path/"
 * (bucket schemes first, in registry order) into buf */
static const char *expected(char *buf, size_t bufsz)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int folder = 0; folder <= 1; folder++)
        for (size_t i = 0; i < NSTORES && n < bufsz; i++) {
            if (stores[i]->folder != folder)
                continue;
            int last = folder == 1; /* the folder scheme ends the list */
            int k = snprintf(buf + n, bufsz - n, "%s%s://%s", n ? (last ? " or " : ", ") : "",
                             stores[i]->scheme, folder ? "/abs/path/" : "bucket/prefix/");
            if (k > 0)
                n += (size_t)k;
        }
    return buf;
}

int sp_bucket_uri_parse(const char *uri, sp_bucket_uri *out, sp_error *err)
{
    char exp[256];
    memset(out, 0, sizeof *out);
    if (!uri || !*uri)
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI is empty (expected %s)",
                            expected(exp, sizeof exp));
    const char *why = sp_bucket_uri_problem(uri);
    if (why)
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI '%s': %s", uri, why);
    const sp_store_backend *b = sp_store_backend_of_uri(uri);
    if (b && !b->folder) {
        const char *bk = uri + strlen(b->scheme) + 3;
        size_t bl = strcspn(bk, "/");
        if (bl == 0)
            return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI '%s': no bucket name",
                                uri);
        if (memchr(bk, '{', bl) || memchr(bk, '}', bl))
            return sp_error_set(err, SP_EDEF, 0,
                                "EXPORT_BUCKET_URI '%s': the bucket name cannot hold a "
                                "placeholder (only the prefix can)", uri);
        out->backend = b;
        out->root = dupn(bk, bl);
        out->key_prefix = prefix_of(bk + bl, strlen(bk + bl));
    } else if (b) {
        const char *path = uri + strlen(b->scheme) + 3;
        if (path[0] != '/')
            return sp_error_set(err, SP_EDEF, 0,
                                "EXPORT_BUCKET_URI '%s': relative %s:// paths are not "
                                "supported (expected %s:///abs/path/)", uri, b->scheme,
                                b->scheme);
        /* root: up to the last '/' before the first placeholder */
        const char *brace = strchr(path, '{');
        size_t rl;
        if (brace) {
            rl = 0;
            for (const char *q = path; q < brace; q++)
                if (*q == '/')
                    rl = (size_t)(q - path);
        } else {
            rl = strlen(path);
        }
        size_t rest = rl;
        while (rl > 1 && path[rl - 1] == '/')
            rl--;
        out->backend = b;
        out->root = rl ? dupn(path, rl) : dupn("/", 1);
        out->key_prefix = prefix_of(path + rest, strlen(path + rest));
    } else {
        return sp_error_set(err, SP_EDEF, 0, "EXPORT_BUCKET_URI '%s': expected %s", uri,
                            expected(exp, sizeof exp));
    }
    if (!out->root || !out->key_prefix) {
        sp_bucket_uri_release(out);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (bucket uri)");
    }
    return 0;
}

void sp_store_dest_release(sp_store_dest *d)
{
    if (!d)
        return;
    if (d->store)
        d->store->vt->free(d->store);
    free(d->uri_prefix);
    free(d->key_prefix);
    memset(d, 0, sizeof *d);
}

/* local_dir: "<dir>/<bucket>" for an endpoint "file:///dir" (*out NULL
 * when ep is not a file:// URL) */
static int local_dir(const sp_store_conf *c, const char *key, const char *ep,
                     const char *bucket, char **out, sp_error *err)
{
    *out = NULL;
    if (!ep || strncmp(ep, "file://", 7))
        return 0;
    const char *dir = ep + 7;
    if (dir[0] != '/')
        return sp_error_set(err, SP_EDEF, 0,
                            "connection '%s': %s '%s': relative file:// paths are not "
                            "supported (expected file:///abs/dir)",
                            c->connection_name ? c->connection_name : "", key, ep);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    char *d = dupn(dir, dl), *root = d ? join(d, dl == 1 ? "" : "/") : NULL;
    *out = root ? join(root, bucket) : NULL;
    free(d);
    free(root);
    return *out ? 0 : sp_error_set(err, SP_ENOMEM, 0, "out of memory (store)");
}

int sp_store_open_for(const sp_store_conf *c, int dry_run, sp_store_dest *out,
                      sp_error *err)
{
    memset(out, 0, sizeof *out);
    sp_bucket_uri u;
    int rc = sp_bucket_uri_parse(c->bucket_uri, &u, err);
    if (rc)
        return rc;
    const sp_store_backend *b = u.backend;
    char *local = NULL;
    if (b->needs_conn && c->conn_type != b->conn_type) {
        rc = sp_error_set(err, SP_EDEF, 0,
                          "EXPORT_BUCKET_URI '%s': a %s:// URI needs a %s connection "
                          "(connection '%s' is not)", c->bucket_uri, b->scheme, b->name,
                          c->connection_name ? c->connection_name : "");
        goto out;
    }
    /* "<scheme>://<root>/": the root is a bucket name or an absolute path */
    char *pre = join(b->scheme, "://");
    out->uri_prefix = pre ? join(pre, u.root) : NULL;
    free(pre);
    if (out->uri_prefix && strcmp(u.root, "/")) {
        char *p = join(out->uri_prefix, "/");
        free(out->uri_prefix);
        out->uri_prefix = p;
    }
    if (!out->uri_prefix) {
        rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory (store)");
        goto out;
    }
    if (b->endpoint_key && c->conn)
        rc = local_dir(c, b->endpoint_key, sp_settings_get(c->conn, b->endpoint_key), u.root,
                       &local, err);
    if (rc)
        goto out;
    if (local) /* a bucket in a local folder: the folder store under it */
        rc = sp_store_backend_file.open(c, local, out->uri_prefix, dry_run, &out->store, err);
    else if (b->folder || !dry_run) /* a dry run needs no network nor credentials */
        rc = b->open(c, u.root, out->uri_prefix, dry_run, &out->store, err);
out:
    if (!rc) {
        out->key_prefix = u.key_prefix;
        u.key_prefix = NULL;
    }
    free(local);
    sp_bucket_uri_release(&u);
    if (rc)
        sp_store_dest_release(out);
    return rc;
}
