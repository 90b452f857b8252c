/* sp_build: a whole project received at once, validated, compared and
 * swapped into the project folder (sp_build.h has the rules). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_build.h"
#include "sp_error.h"
#include "sp_model.h"
#include "sp_banned.h"

static const char *const SUBS[3] = { "connections", "datasources", "pipes" };
static const char *const EXTS[3] = { ".connection", ".datasource", ".pipe" };

typedef struct strv {
    char **v;
    size_t n;
} strv;

struct sp_build {
    char *dir;
    sp_project *p;        /* the build's definitions (folder: dir) */
    const sp_project *cur; /* the running project (not owned) */
    strv files, errors;   /* the issues, pairwise */
    strv names[3][3];     /* [kind][SP_BUILD_*] */
    strv drops;           /* datasources whose empty table is dropped */
};

static int strv_add(strv *s, const char *v, sp_error *err)
{
    char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (!nv)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    s->v = nv;
    if (!(s->v[s->n] = strdup(v ? v : "")))
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    s->n++;
    return 0;
}

static void strv_release(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int issue(sp_build *b, const char *file, const char *msg, sp_error *err)
{
    int rc = strv_add(&b->files, file, err);
    return rc ? rc : strv_add(&b->errors, msg, err);
}

/* the file a diagnostic is about: it starts with the path we gave
 * ("pipes/top.pipe:3: ...") or a definition's name ("top: ...") */
static void blame(const sp_project *p, const char *diag, char *out, size_t n)
{
    out[0] = '\0';
    for (int k = 0; k < 3; k++) {
        size_t sl = strlen(SUBS[k]);
        if (!strncmp(diag, SUBS[k], sl) && diag[sl] == '/') {
            const char *f = diag + sl + 1;
            const char *e = strstr(f, EXTS[k]);
            if (e) {
                snprintf(out, n, "%.*s%s", (int)(e - f), f, EXTS[k]);
                return;
            }
        }
    }
    /* the engine's "datasource 'events': table has no column ..." */
    const char *q = strstr(diag, "datasource '");
    if (q) {
        q += 12;
        const char *e = strchr(q, '\'');
        for (size_t i = 0; e && i < p->ndss; i++)
            if (strlen(p->dss[i]->name) == (size_t)(e - q) &&
                !strncmp(p->dss[i]->name, q, (size_t)(e - q))) {
                snprintf(out, n, "%s.datasource", p->dss[i]->name);
                return;
            }
    }
    const char *colon = strchr(diag, ':');
    if (!colon)
        return;
    size_t l = (size_t)(colon - diag);
    for (size_t i = 0; i < p->npipes; i++)
        if (strlen(p->pipes[i]->name) == l && !strncmp(p->pipes[i]->name, diag, l))
            snprintf(out, n, "%s.pipe", p->pipes[i]->name);
    for (size_t i = 0; i < p->ndss; i++)
        if (strlen(p->dss[i]->name) == l && !strncmp(p->dss[i]->name, diag, l))
            snprintf(out, n, "%s.datasource", p->dss[i]->name);
    for (size_t i = 0; i < p->nconns; i++)
        if (strlen(p->conns[i]->name) == l && !strncmp(p->conns[i]->name, diag, l))
            snprintf(out, n, "%s.connection", p->conns[i]->name);
}

/* a definition as written out (the comparison of two versions) */
static int def_text(const sp_project *p, int kind, size_t i, sp_buf *out, sp_error *err)
{
    sp_buf_reset(out);
    if (kind == 0)
        return sp_connection_write(p->conns[i], out, err);
    if (kind == 1)
        return sp_datasource_write(p->dss[i], out, err);
    return sp_pipe_write(p->pipes[i], out, err);
}

static size_t ndefs(const sp_project *p, int kind)
{
    return !p ? 0 : kind == 0 ? p->nconns : kind == 1 ? p->ndss : p->npipes;
}

static const char *def_name(const sp_project *p, int kind, size_t i)
{
    return kind == 0 ? p->conns[i]->name : kind == 1 ? p->dss[i]->name : p->pipes[i]->name;
}

static long find_def(const sp_project *p, int kind, const char *name)
{
    for (size_t i = 0; i < ndefs(p, kind); i++)
        if (!strcmp(def_name(p, kind, i), name))
            return (long)i;
    return -1;
}

static int diff(sp_build *b, sp_error *err)
{
    sp_buf x = SP_BUF_INIT(SP_BUF_DEFAULT_MAX), y = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++) {
        for (size_t i = 0; i < ndefs(b->p, k) && !rc; i++) {
            const char *name = def_name(b->p, k, i);
            long j = b->cur ? find_def(b->cur, k, name) : -1;
            if (j < 0) {
                rc = strv_add(&b->names[k][SP_BUILD_CREATED], name, err);
                continue;
            }
            rc = def_text(b->p, k, i, &x, err);
            if (!rc)
                rc = def_text(b->cur, k, (size_t)j, &y, err);
            if (!rc && (x.len != y.len || (x.len && memcmp(x.data, y.data, x.len))))
                rc = strv_add(&b->names[k][SP_BUILD_CHANGED], name, err);
        }
        for (size_t j = 0; j < ndefs(b->cur, k) && !rc; j++)
            if (find_def(b->p, k, def_name(b->cur, k, j)) < 0)
                rc = strv_add(&b->names[k][SP_BUILD_DELETED], def_name(b->cur, k, j), err);
    }
    sp_buf_release(&x);
    sp_buf_release(&y);
    return rc;
}

/* a file name the SDK sends: NAME.ext, NAME of letters, digits and '_' */
static int file_kind(const char *name)
{
    int k = sp_project_datafile_kind(name);
    if (k < 0)
        return -1;
    const char *dot = strrchr(name, '.');
    if (dot == name)
        return -1;
    for (const char *c = name; c < dot; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return -1;
    return k;
}

int sp_build_new(const char *dir, const sp_build_file *files, size_t n, const sp_project *cur,
                 sp_build **out, sp_error *err)
{
    *out = NULL;
    sp_build *b = calloc(1, sizeof *b);
    if (!b || !(b->dir = strdup(dir)) || !(b->p = sp_project_new(dir))) {
        sp_build_free(b);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    b->cur = cur;
    int rc = 0, bad = 0;
    /* connections, then datasources, then pipes: as a folder loads */
    for (int k = 0; k < 3 && !rc; k++) {
        for (size_t i = 0; i < n && !rc; i++) {
            const char *name = files[i].name ? files[i].name : "";
            int fk = file_kind(name);
            if (k == 0 && fk < 0) {
                char msg[600];
                snprintf(msg, sizeof msg,
                         "%.300s: not a datafile name (expected NAME.datasource, NAME.pipe or "
                         "NAME.connection; NAME of letters, digits and '_')",
                         name);
                rc = issue(b, name, msg, err);
                bad++;
                continue;
            }
            if (fk != k)
                continue;
            int dup = 0;
            for (size_t j = 0; j < i; j++)
                dup |= files[j].name && !strcmp(files[j].name, name);
            if (dup) {
                char msg[600];
                snprintf(msg, sizeof msg, "%.300s: sent twice", name);
                rc = issue(b, name, msg, err);
                bad++;
                continue;
            }
            char rel[600];
            snprintf(rel, sizeof rel, "%s/%.300s", SUBS[k], name);
            sp_error e = SP_ERROR_INIT;
            if (sp_project_add_text(b->p, rel, files[i].data ? files[i].data : "", files[i].len,
                                    &e) == SP_ENOMEM)
                rc = sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        }
    }
    if (!rc) {
        sp_error e = SP_ERROR_INIT;
        int lrc = sp_project_ndiag(b->p) ? SP_EDEF : 0;
        if (sp_project_check(b->p, &e) && !lrc)
            lrc = SP_EDEF;
        lrc = sp_project_check_all(b->p, lrc, &e);
        size_t nd = sp_project_ndiag(b->p);
        for (size_t i = 0; i < nd && !rc; i++) {
            char file[400];
            blame(b->p, sp_project_diag(b->p, i), file, sizeof file);
            rc = issue(b, file, sp_project_diag(b->p, i), err);
        }
        if (!rc && lrc && !nd && !bad) {
            char file[400];
            blame(b->p, e.msg, file, sizeof file);
            rc = issue(b, file, e.msg, err);
        }
    }
    if (!rc && !b->files.n)
        rc = diff(b, err);
    if (rc) {
        sp_build_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void sp_build_free(sp_build *b)
{
    if (!b)
        return;
    sp_project_free(b->p);
    strv_release(&b->files);
    strv_release(&b->errors);
    for (int k = 0; k < 3; k++)
        for (int w = 0; w < 3; w++)
            strv_release(&b->names[k][w]);
    strv_release(&b->drops);
    free(b->dir);
    free(b);
}

size_t sp_build_nissues(const sp_build *b)
{
    return b->files.n;
}

sp_build_issue sp_build_issue_at(const sp_build *b, size_t i)
{
    sp_build_issue is = { b->files.v[i], b->errors.v[i] };
    return is;
}

int sp_build_unchanged(const sp_build *b)
{
    for (int k = 0; k < 3; k++)
        for (int w = 0; w < 3; w++)
            if (b->names[k][w].n)
                return 0;
    return 1;
}

size_t sp_build_names(const sp_build *b, int kind, int what, const char *const **names)
{
    *names = (const char *const *)b->names[kind][what].v;
    return b->names[kind][what].n;
}

/* ------------------------------------------------------- schema rules */

static int same_engine(const sp_datasource *a, const sp_datasource *b)
{
    const sp_kvlist *l[2] = { &a->keys, &b->keys };
    for (int s = 0; s < 2; s++) /* every ENGINE* key of either, equal in the other */
        for (size_t i = 0; i < l[s]->n; i++) {
            const char *k = l[s]->v[i].key;
            if (strncmp(k, "ENGINE", 6) && strcmp(k, "INDEXES"))
                continue;
            const char *x = sp_kvlist_get(l[0], k), *y = sp_kvlist_get(l[1], k);
            if (!x || !y || strcmp(x, y))
                return 0;
        }
    return 1;
}

static int table_rows(sp_engine *e, const char *ds, uint64_t *rows, sp_error *err)
{
    char expr[700];
    snprintf(expr, sizeof expr, "(SELECT count() FROM `%s`)", ds);
    char *v = NULL;
    int rc = e->vt->eval_scalar(e, expr, 0, &v, err);
    *rows = v ? strtoull(v, NULL, 10) : 0;
    free(v);
    return rc;
}

int sp_build_plan(sp_build *b, sp_engine *e, sp_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < b->p->ndss && !rc; i++) {
        const sp_datasource *ds = b->p->dss[i];
        long j = b->cur ? find_def(b->cur, 1, ds->name) : -1;
        char why[1400] = "";
        if (j >= 0 && !same_engine(b->cur->dss[j], ds)) {
            snprintf(why, sizeof why, "its ENGINE settings change");
        } else {
            /* creates a missing table; compares an existing one's columns */
            sp_error ee = SP_ERROR_INIT;
            int erc = e->vt->ensure_datasource(e, ds, &ee);
            if (erc == SP_EDEF)
                snprintf(why, sizeof why, "%s", ee.msg);
            else if (erc)
                return sp_error_set(err, erc, ee.retriable, "%s", ee.msg);
        }
        if (!why[0])
            continue;
        uint64_t rows = 0;
        rc = table_rows(e, ds->name, &rows, err);
        if (rc)
            break;
        if (rows == 0) {
            rc = strv_add(&b->drops, ds->name, err);
            continue;
        }
        char where[1200], msg[3000];
        sp_model_where(where, sizeof where, ds->path, ds->name, ds->schema_line, "SCHEMA");
        snprintf(msg, sizeof msg,
                 "%s: the table of '%s' holds %llu rows and %s: sinkpipe never drops data "
                 "(no FORWARD_QUERY migrations): keep its columns and engine, give it a new "
                 "name, or empty it first (POST /v0/datasources/%s/truncate)",
                 where, ds->name, (unsigned long long)rows, why, ds->name);
        char file[400];
        snprintf(file, sizeof file, "%.300s.datasource", ds->name);
        rc = issue(b, file, msg, err);
    }
    if (!rc && b->files.n)
        rc = sp_error_set(err, SP_EDEF, 0, "%s", b->errors.v[0]);
    return rc;
}

/* ---------------------------------------------------------------- swap */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path) != 0 && errno != ENOENT;
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* mkdir -p of path's parent */
static int mkparents(const char *path)
{
    char tmp[17000];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *c = tmp + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *c = '/';
    }
    return 0;
}

/* every datafile of the folder, as the loader finds them (rel paths) */
static int scan(const char *root, const char *rel, int depth, strv *out, sp_error *err)
{
    char path[8192];
    snprintf(path, sizeof path, "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return depth ? 0 : sp_error_set(err, SP_EIO, 0, "%s: cannot open: %s", root,
                                        strerror(errno));
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (n[0] == '.' || !strcmp(n, "node_modules"))
            continue;
        char sub[4096], full[8192];
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", n);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < 8)
            rc = scan(root, sub, depth + 1, out, err);
        else if (S_ISREG(st.st_mode) && sp_project_datafile_kind(n) >= 0) {
            if (strpbrk(sub, "\t\n"))
                rc = sp_error_set(err, SP_EINVAL, 0, "%s: a datafile path with a tab or "
                                  "newline cannot be replaced", full);
            else
                rc = strv_add(out, sub, err);
        }
    }
    closedir(d);
    return rc;
}

/* the swap of `dir`'s manifest (rolls forward; idempotent) */
static int swap(const char *dir, sp_error *err)
{
    char nd[4200], od[4200], man[4300], ph2[4300];
    snprintf(nd, sizeof nd, "%s/.sinkpipe/build.new", dir);
    snprintf(od, sizeof od, "%s/.sinkpipe/build.old", dir);
    snprintf(man, sizeof man, "%s/MANIFEST", nd);
    snprintf(ph2, sizeof ph2, "%s/PHASE2", nd);
    FILE *f = fopen(man, "r");
    if (!f)
        return sp_error_set(err, SP_EIO, 0, "%s: cannot open: %s", man, strerror(errno));
    if (mkdir(od, 0755) != 0 && errno != EEXIST) {
        fclose(f);
        return sp_error_set(err, SP_EIO, 0, "%s: cannot create: %s", od, strerror(errno));
    }
    int phase2 = exists(ph2), rc = 0;
    char line[8400];
    for (int pass = 0; pass < 2 && !rc; pass++) {
        rewind(f);
        if (pass == 1 && !phase2) { /* every old file is out of the way */
            int fd = open(ph2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || fsync(fd) != 0)
                rc = sp_error_set(err, SP_EIO, 0, "%s: cannot create: %s", ph2,
                                  strerror(errno));
            if (fd >= 0)
                close(fd);
        }
        for (unsigned long i = 0; !rc && fgets(line, sizeof line, f); i++) {
            line[strcspn(line, "\n")] = '\0';
            char *tab = strchr(line, '\t');
            if (!tab)
                continue;
            *tab = '\0';
            const char *rel = tab + 1;
            char from[17000], to[17000];
            snprintf(to, sizeof to, "%s/%s", dir, rel);
            if (pass == 0 && !strcmp(line, "old") && !phase2) {
                snprintf(from, sizeof from, "%s/%lu", od, i);
                if (exists(to) && !exists(from) && rename(to, from) != 0)
                    rc = sp_error_set(err, SP_EIO, 0, "%s: cannot move aside: %s", to,
                                      strerror(errno));
            } else if (pass == 1 && !strcmp(line, "new")) {
                snprintf(from, sizeof from, "%s/%s", nd, rel);
                if (exists(from) && (mkparents(to) != 0 || rename(from, to) != 0))
                    rc = sp_error_set(err, SP_EIO, 0, "%s: cannot move into place: %s", to,
                                      strerror(errno));
            }
        }
    }
    fclose(f);
    return rc;
}

int sp_build_recover(const char *dir, sp_error *err)
{
    char nd[4200], od[4200], man[4300];
    snprintf(nd, sizeof nd, "%s/.sinkpipe/build.new", dir);
    snprintf(od, sizeof od, "%s/.sinkpipe/build.old", dir);
    snprintf(man, sizeof man, "%s/MANIFEST", nd);
    int rc = exists(man) ? swap(dir, err) : 0;
    if (rc)
        return rc;
    if (rm_tree(nd) || rm_tree(od))
        return sp_error_set(err, SP_EIO, 0, "%s/.sinkpipe: cannot remove build.new or build.old",
                            dir);
    return 0;
}

/* fsync of a file or folder: on disk before the manifest names it */
static int sync_path(const char *path, sp_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int bad = fd < 0 || fsync(fd) != 0;
    if (fd >= 0)
        close(fd);
    return bad ? sp_error_set(err, SP_EIO, 0, "%s: cannot sync: %s", path, strerror(errno)) : 0;
}

static int write_manifest(sp_build *b, const char *nd, sp_error *err)
{
    strv old = { NULL, 0 };
    sp_buf m = SP_BUF_INIT(SP_BUF_DEFAULT_MAX);
    int rc = scan(b->dir, "", 0, &old, err);
    for (size_t i = 0; !rc && i < old.n; i++)
        rc = sp_buf_addf(&m, err, "old\t%s\n", old.v[i]);
    for (int k = 0; !rc && k < 3; k++) {
        char sub[4400];
        for (size_t i = 0; !rc && i < ndefs(b->p, k); i++) {
            snprintf(sub, sizeof sub, "%s/%s/%s%s", nd, SUBS[k], def_name(b->p, k, i), EXTS[k]);
            rc = sync_path(sub, err);
            if (!rc)
                rc = sp_buf_addf(&m, err, "new\t%s/%s%s\n", SUBS[k], def_name(b->p, k, i),
                                 EXTS[k]);
        }
        snprintf(sub, sizeof sub, "%s/%s", nd, SUBS[k]);
        if (!rc)
            rc = sync_path(sub, err);
    }
    strv_release(&old);
    char tmp[4300], man[4300];
    snprintf(tmp, sizeof tmp, "%s/MANIFEST.tmp", nd);
    snprintf(man, sizeof man, "%s/MANIFEST", nd);
    int fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (!rc && fd < 0)
        rc = sp_error_set(err, SP_EIO, 0, "%s: cannot create: %s", tmp, strerror(errno));
    if (fd >= 0) {
        int bad = m.len && write(fd, m.data, m.len) != (ssize_t)m.len;
        bad |= fsync(fd) != 0;
        bad |= close(fd) != 0;
        if (bad)
            rc = sp_error_set(err, SP_EIO, 0, "%s: write error", tmp);
    }
    sp_buf_release(&m);
    if (!rc && rename(tmp, man) != 0) /* the commit point */
        rc = sp_error_set(err, SP_EIO, 0, "%s: cannot commit: %s", man, strerror(errno));
    return rc ? rc : sync_path(nd, err);
}

int sp_build_apply(sp_build *b, sp_engine *e, sp_error *err)
{
    int rc = sp_build_recover(b->dir, err);
    char nd[4200];
    snprintf(nd, sizeof nd, "%s/.sinkpipe/build.new", b->dir);
    if (!rc)
        rc = sp_project_write(b->p, nd, err);
    size_t dropped = 0;
    for (; !rc && dropped < b->drops.n; dropped++) {
        uint64_t rows = 0;
        sp_error de = SP_ERROR_INIT;
        int drc = e->vt->drop_empty ? e->vt->drop_empty(e, b->drops.v[dropped], &rows, &de)
                                    : sp_error_set(&de, SP_EUNSUPPORTED, 0,
                                                   "the engine cannot drop tables");
        if (drc) {
            char file[400], msg[1600];
            snprintf(file, sizeof file, "%.300s.datasource", b->drops.v[dropped]);
            snprintf(msg, sizeof msg, "datasources/%s: SCHEMA: cannot replace the table: %s",
                     file, de.msg);
            rc = issue(b, file, msg, err);
            rc = rc ? rc : sp_error_set(err, drc == SP_EDATA ? SP_EDEF : drc, 0, "%s", msg);
            break;
        }
    }
    if (!rc)
        rc = write_manifest(b, nd, err);
    if (rc) {
        /* not committed: what was dropped comes back as the running
         * project has it */
        for (size_t i = 0; b->cur && i < dropped; i++) {
            long j = find_def(b->cur, 1, b->drops.v[i]);
            if (j >= 0)
                (void)e->vt->ensure_datasource(e, b->cur->dss[j], NULL);
        }
        rm_tree(nd);
        return rc;
    }
    rc = sp_build_recover(b->dir, err);
    /* the new definitions' tables (a dropped one anew) */
    for (size_t i = 0; !rc && i < b->p->ndss; i++)
        rc = e->vt->ensure_datasource(e, b->p->dss[i], err);
    return rc;
}
