/* sinkpipe — the command-line front end of libsinkpipe.
 *
 * A thin caller of include/sinkpipe.h: parse arguments, call the library,
 * print.  Data goes to stdout; progress and messages to stderr. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sinkpipe.h"
#include "sp_banned.h"

static atomic_int g_cancel;

static void on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

static const char usage_text[] =
    "usage: sinkpipe [-p DIR] [--json] COMMAND [ARGS]\n"
    "\n"
    "Run Tinybird-style sink pipes on your own machine.\n"
    "\n"
    "commands:\n"
    "  check                      validate every datafile (and secrets, schedules)\n"
    "  pipes                      list the pipes with their sink and schedule\n"
    "  schedule [--from TIME] [-n N]  next fire times of every scheduled pipe\n"
    "  append DS FILE...          load NDJSON/CSV files (.gz too) into datasource DS\n"
    "  sql [--format csv|ndjson|parquet] [--now TIME] SQL\n"
    "                             run a query; print what a sink would write\n"
    "  run PIPE [options]         run a sink pipe now\n"
    "      --now TIME             logical time (ISO 8601, UTC): now(), {date}, ...\n"
    "      --param NAME=VALUE     a pipe parameter (repeatable)\n"
    "      --dry-run              resolve object keys and show the first rows;\n"
    "                             write nothing\n"
    "      --preview-rows N       rows shown by --dry-run (default 10)\n"
    "      --format F, --compression C, --strategy S, --file-template T\n"
    "      --max-file-size SIZE, --max-file-rows N\n"
    "                             override the sink for this run (0: no bound)\n"
    "      --job-id ID            use this job id instead of a new UUID\n"
    "  write OUTDIR               write the project's datafiles as `tinybird\n"
    "                             generate` does\n"
    "  serve [--listen HOST:PORT] [--log-format text|json]\n"
    "                             run the pipes on their schedules and serve the\n"
    "                             HTTP API (default 127.0.0.1:7181; port 0: any);\n"
    "                             SIGTERM/SIGINT stop gracefully, SIGHUP reloads\n"
    "  jobs [-n N]                the last N jobs (default 20) from the ops log\n"
    "\n"
    "options:\n"
    "  -p, --project DIR          the project folder (default: .)\n"
    "      --json                 print results as one JSON object\n"
    "  -h, --help                 this help\n"
    "      --version              the version\n";

static int usage(int rc)
{
    fputs(usage_text, rc ? stderr : stdout);
    return rc;
}

static int fail(const sp_error *err)
{
    fprintf(stderr, "sinkpipe: %s\n", err->msg[0] ? err->msg : sp_strerror(err->code));
    return 1;
}

static void print_diags(const sp_project *p)
{
    for (size_t i = 0; i < sp_project_ndiag(p); i++)
        fprintf(stderr, "%s\n", sp_project_diag(p, i));
}

/* load the project; on definition errors print them all */
static int load(const char *dir, sp_project **out)
{
    sp_error err = SP_ERROR_INIT;
    int rc = sp_project_load(dir, out, &err);
    if (rc) {
        if (*out && sp_project_ndiag(*out))
            print_diags(*out);
        else
            fail(&err);
        sp_project_free(*out);
        *out = NULL;
        return 1;
    }
    return 0;
}

static void json_print(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(j);
}

/* ------------------------------------------------------------- commands */

/* print_cleanup: crash leftovers on stderr (sp_cleanup_json's object) */
static void print_cleanup(json_t *c)
{
    size_t i;
    json_t *it;
    json_t *pend = json_object_get(c, "pending"), *done = json_object_get(c, "cleaned");
    if (json_array_size(pend))
        fprintf(stderr, "left by killed runs, undone at the next run or serve:\n");
    json_array_foreach(pend, i, it)
        fprintf(stderr, "  job %s (pipe %s): %s\n",
                json_string_value(json_object_get(it, "job_id")),
                json_string_value(json_object_get(it, "pipe")),
                json_string_value(json_object_get(it, "object")));
    if (json_array_size(done))
        fprintf(stderr, "cleaned after killed runs (latest %zu):\n", json_array_size(done));
    json_array_foreach(done, i, it)
        fprintf(stderr, "  %s job %s (pipe %s): %s\n",
                json_string_value(json_object_get(it, "at")),
                json_string_value(json_object_get(it, "job_id")),
                json_string_value(json_object_get(it, "pipe")),
                json_string_value(json_object_get(it, "cleaned")));
}

static int cmd_check(const char *dir, int json, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    sp_project *p = NULL;
    sp_error err = SP_ERROR_INIT;
    int rc = sp_project_load(dir, &p, &err);
    if (p)
        rc = sp_project_check_all(p, rc, &err);
    size_t nd = p ? sp_project_ndiag(p) : 0;
    /* crash leftovers: informational, never an error of the definitions */
    char *ctxt = sp_cleanup_json(dir, 10, NULL);
    json_t *cleanup = ctxt ? json_loads(ctxt, 0, NULL) : NULL;
    free(ctxt);
    if (json) {
        json_t *j = json_object();
        json_object_set_new(j, "ok", json_boolean(rc == 0));
        if (cleanup)
            json_object_set(j, "leftovers", cleanup);
        json_t *errs = json_array();
        for (size_t i = 0; i < nd; i++)
            json_array_append_new(errs, json_string(sp_project_diag(p, i)));
        if (!nd && rc)
            json_array_append_new(errs, json_string(err.msg));
        json_object_set_new(j, "errors", errs);
        json_t *warns = json_array();
        for (size_t i = 0; p && i < sp_project_nwarning(p); i++)
            json_array_append_new(warns, json_string(sp_project_warning(p, i)));
        json_object_set_new(j, "warnings", warns);
        if (p) {
            json_object_set_new(j, "connections", json_integer((json_int_t)sp_project_nconnections(p)));
            json_object_set_new(j, "datasources", json_integer((json_int_t)sp_project_ndatasources(p)));
            json_object_set_new(j, "pipes", json_integer((json_int_t)sp_project_npipes(p)));
        }
        json_print(j);
    } else if (rc) {
        if (nd)
            print_diags(p);
        else
            fail(&err);
        fprintf(stderr, "%zu error%s\n", nd ? nd : 1, nd == 1 || !nd ? "" : "s");
    } else {
        for (size_t i = 0; i < sp_project_nwarning(p); i++)
            fprintf(stderr, "warning: %s\n", sp_project_warning(p, i));
        fprintf(stderr, "ok: %zu connection%s, %zu datasource%s, %zu pipe%s\n",
                sp_project_nconnections(p), sp_project_nconnections(p) == 1 ? "" : "s",
                sp_project_ndatasources(p), sp_project_ndatasources(p) == 1 ? "" : "s",
                sp_project_npipes(p), sp_project_npipes(p) == 1 ? "" : "s");
    }
    if (!json && cleanup)
        print_cleanup(cleanup);
    json_decref(cleanup);
    sp_project_free(p);
    return rc ? 1 : 0;
}

static int cmd_pipes(const char *dir, int json)
{
    sp_project *p = NULL;
    if (load(dir, &p))
        return 1;
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < sp_project_npipes(p); i++) {
        const sp_pipe *pi = sp_project_pipe(p, i);
        const char *svc = sp_pipe_service(pi);
        const char *sch = sp_pipe_schedule(pi);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(sp_pipe_name(pi)));
            json_object_set_new(o, "service", svc ? json_string(svc) : json_null());
            json_object_set_new(o, "schedule", sch ? json_string(sch) : json_null());
            json_array_append_new(arr, o);
        } else {
            printf("%s\t%s\t%s\n", sp_pipe_name(pi), svc ? svc : "-", sch ? sch : "-");
        }
    }
    if (json)
        json_print(arr);
    sp_project_free(p);
    return 0;
}

/* "2026-11-25T01:00:00Z" for UTC seconds, into buf */
static const char *iso_utc(int64_t secs, char *buf, size_t n)
{
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static int cmd_schedule(const char *dir, int json, int argc, char **argv)
{
    int64_t from = (int64_t)time(NULL);
    long n = 3;
    for (int i = 0; i < argc; i++) {
        sp_error err = SP_ERROR_INIT;
        if (!strcmp(argv[i], "--from") && i + 1 < argc) {
            if (sp_parse_time(argv[++i], &from, &err))
                return fail(&err);
        } else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1000) {
                fprintf(stderr, "sinkpipe: -n: '%s' is not a count from 1 to 1000\n", argv[i]);
                return 2;
            }
        } else {
            return usage(2);
        }
    }
    sp_project *p = NULL;
    if (load(dir, &p))
        return 1;
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < sp_project_npipes(p); i++) {
        const sp_pipe *pi = sp_project_pipe(p, i);
        const char *sch = sp_pipe_schedule(pi);
        if (!sch)
            continue;
        int64_t next[1000];
        long k = sp_schedule_next_times(sch, from, next, (size_t)n);
        if (json) {
            json_t *o = json_object(), *times = json_array();
            json_object_set_new(o, "pipe", json_string(sp_pipe_name(pi)));
            json_object_set_new(o, "schedule", json_string(sch));
            for (long j = 0; j < k; j++) {
                char t[32];
                json_array_append_new(times, json_string(iso_utc(next[j], t, sizeof t)));
            }
            json_object_set_new(o, "next", times);
            json_array_append_new(arr, o);
        } else {
            printf("%s\t%s", sp_pipe_name(pi), sch);
            for (long j = 0; j < k; j++) {
                char t[32];
                printf("\t%s", iso_utc(next[j], t, sizeof t));
            }
            printf("\n");
        }
    }
    if (json)
        json_print(arr);
    sp_project_free(p);
    return 0;
}

static int cmd_append(const char *dir, int json, int argc, char **argv)
{
    const char *format = NULL;
    int i = 0;
    if (argc >= 2 && !strcmp(argv[0], "--format")) {
        format = argv[1];
        i = 2;
    }
    if (argc - i < 2)
        return usage(2);
    const char *ds = argv[i++];
    sp_project *p = NULL;
    if (load(dir, &p))
        return 1;
    sp_error err = SP_ERROR_INIT;
    sp_append_result total = { 0, 0, 0 };
    int rc = 0;
    for (; i < argc && !rc; i++) {
        sp_append_result r = { 0, 0, 0 };
        rc = sp_append_file(p, ds, argv[i], format, &r, &err);
        total.rows_in += r.rows_in;
        total.rows_loaded += r.rows_loaded;
        total.rows_quarantined += r.rows_quarantined;
        if (!rc && !json)
            fprintf(stderr, "%s: %llu rows loaded, %llu quarantined\n", argv[i],
                    (unsigned long long)r.rows_loaded, (unsigned long long)r.rows_quarantined);
    }
    if (json) {
        json_t *j = json_object();
        json_object_set_new(j, "datasource", json_string(ds));
        json_object_set_new(j, "successful_rows", json_integer((json_int_t)total.rows_loaded));
        json_object_set_new(j, "quarantined_rows", json_integer((json_int_t)total.rows_quarantined));
        if (rc)
            json_object_set_new(j, "error", json_string(err.msg));
        json_print(j);
    } else if (!rc) {
        fprintf(stderr, "%s: %llu rows loaded, %llu quarantined (in %s_quarantine)\n", ds,
                (unsigned long long)total.rows_loaded,
                (unsigned long long)total.rows_quarantined, ds);
    }
    if (rc && !json)
        fail(&err);
    sp_project_free(p);
    return rc ? 1 : 0;
}

static int write_stdout(void *ud, const void *data, size_t len)
{
    (void)ud;
    if (fwrite(data, 1, len, stdout) != len)
        return SP_EIO;
    return 0;
}

static int cmd_sql(const char *dir, int argc, char **argv)
{
    const char *format = "csv";
    const char *sql = NULL;
    int64_t now = 0;
    for (int i = 0; i < argc; i++) {
        sp_error err = SP_ERROR_INIT;
        if (!strcmp(argv[i], "--format") && i + 1 < argc)
            format = argv[++i];
        else if (!strcmp(argv[i], "--now") && i + 1 < argc) {
            if (sp_parse_time(argv[++i], &now, &err))
                return fail(&err);
        } else if (!sql)
            sql = argv[i];
        else
            return usage(2);
    }
    if (!sql)
        return usage(2);
    sp_project *p = NULL;
    if (load(dir, &p))
        return 1;
    sp_error err = SP_ERROR_INIT;
    int rc = sp_query(p, sql, format, now, write_stdout, NULL, NULL, &err);
    if (fflush(stdout) != 0 && !rc)
        rc = SP_EIO;
    if (rc)
        fail(&err);
    sp_project_free(p);
    return rc ? 1 : 0;
}

static json_t *result_json(const sp_run_result *r, int rc, const sp_error *err, int dry)
{
    json_t *j = json_object();
    json_object_set_new(j, "job_id", json_string(r->job_id));
    json_object_set_new(j, "pipe", json_string(r->pipe ? r->pipe : ""));
    json_object_set_new(j, "service", r->service ? json_string(r->service) : json_null());
    json_object_set_new(j, "status", json_string(rc == 0 ? "done"
                                                 : rc == SP_ECANCELLED ? "cancelled"
                                                                       : "error"));
    json_object_set_new(j, "dry_run", json_boolean(dry));
    json_object_set_new(j, "error", rc ? json_string(err->msg) : json_null());
    json_object_set_new(j, "read_rows", json_integer((json_int_t)r->read_rows));
    json_object_set_new(j, "read_bytes", json_integer((json_int_t)r->read_bytes));
    json_object_set_new(j, "written_rows", json_integer((json_int_t)r->written_rows));
    json_object_set_new(j, "written_bytes", json_integer((json_int_t)r->written_bytes));
    json_object_set_new(j, "elapsed_time", json_real(r->elapsed_s));
    json_t *out = json_array();
    for (size_t i = 0; i < r->nobjects; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(r->objects[i].uri));
        json_object_set_new(o, "size", json_integer((json_int_t)r->objects[i].size));
        json_object_set_new(o, "rows", json_integer((json_int_t)r->objects[i].rows));
        json_array_append_new(out, o);
    }
    json_object_set_new(j, "output", out);
    json_object_set_new(j, "query_sql", r->sql ? json_string(r->sql) : json_null());
    if (dry)
        json_object_set_new(j, "preview", r->preview ? json_string(r->preview) : json_null());
    if (r->warning)
        json_object_set_new(j, "warning", json_string(r->warning));
    return j;
}

static int cmd_run(const char *dir, int json, int argc, char **argv)
{
    struct sp_run_opts o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    const char *pipe = NULL;
    sp_param *params = calloc((size_t)argc + 1, sizeof *params);
    if (!params)
        return 1;
    int rc = 0;
    for (int i = 0; i < argc && !rc; i++) {
        sp_error err = SP_ERROR_INIT;
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && ++i)
        if (OPT("--now")) {
            if (sp_parse_time(v, &o.now_unix, &err))
                rc = fail(&err);
        } else if (OPT("--param")) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v) {
                fprintf(stderr, "sinkpipe: --param: '%s' is not NAME=VALUE\n", v);
                rc = 2;
            } else {
                char *name = strndup(v, (size_t)(eq - v));
                params[o.nparams].name = name;
                params[o.nparams++].value = eq + 1;
            }
        } else if (!strcmp(a, "--dry-run")) {
            o.dry_run = 1;
        } else if (OPT("--preview-rows")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 0 || n > 1000000) {
                fprintf(stderr, "sinkpipe: --preview-rows: '%s' is not a count\n", v);
                rc = 2;
            }
            o.preview_rows = (size_t)n;
        } else if (OPT("--format")) {
            o.format = v;
        } else if (OPT("--compression")) {
            o.compression = v;
        } else if (OPT("--strategy")) {
            o.strategy = v;
        } else if (OPT("--file-template")) {
            o.file_template = v;
        } else if (OPT("--max-file-size")) {
            o.max_file_size = v;
        } else if (OPT("--max-file-rows")) {
            o.max_file_rows = v;
        } else if (OPT("--job-id")) {
            o.job_id = v;
        } else if (a[0] == '-' || pipe) {
            rc = usage(2);
        } else {
            pipe = a;
        }
#undef OPT
    }
    if (!rc && !pipe)
        rc = usage(2);
    sp_project *p = NULL;
    if (!rc && load(dir, &p))
        rc = 1;
    if (!rc) {
        o.params = params;
        o.cancel = &g_cancel;
        sp_run_result r;
        sp_error err = SP_ERROR_INIT;
        int run_rc = sp_run_job(p, pipe, &o, &r, &err);
        if (json) {
            json_print(result_json(&r, run_rc, &err, o.dry_run));
        } else {
            for (size_t i = 0; i < r.nobjects; i++)
                printf("%s\t%llu\t%llu\n", r.objects[i].uri,
                       (unsigned long long)r.objects[i].size,
                       (unsigned long long)r.objects[i].rows);
            if (o.dry_run && r.preview && *r.preview) {
                fflush(stdout);
                fprintf(stderr, "first rows:\n");
                fputs(r.preview, stdout);
            }
            /* a dry run delivers nothing: its numbers are what it would write */
            unsigned long long rows = r.written_rows, bytes = r.written_bytes;
            if (o.dry_run) {
                rows = bytes = 0;
                for (size_t i = 0; i < r.nobjects; i++) {
                    rows += r.objects[i].rows;
                    bytes += r.objects[i].size;
                }
            }
            if (r.warning)
                fprintf(stderr, "sinkpipe: warning: %s\n", r.warning);
            if (run_rc == 0)
                fprintf(stderr, "%s: %s%llu rows, %zu %s, %llu bytes in %.2f s (job %s)\n",
                        pipe, o.dry_run ? "dry run, would write " : "", rows, r.nobjects,
                        r.nobjects == 1 ? "object" : "objects", bytes, r.elapsed_s,
                        r.job_id);
        }
        if (run_rc) {
            if (!json)
                fail(&err);
            if (!json && r.nobjects == 0 && !r.job_id[0]) /* refused before a job */
                fprintf(stderr, "sinkpipe: nothing was delivered\n");
            else if (!json && r.nobjects == 0)
                fprintf(stderr, "sinkpipe: nothing was delivered (job %s)\n", r.job_id);
            else if (!json)
                fprintf(stderr, "sinkpipe: delivered before the failure: the %zu object%s "
                        "listed above (job %s)\n", r.nobjects, r.nobjects == 1 ? "" : "s",
                        r.job_id);
            rc = 1;
        }
        sp_run_result_release(&r);
    }
    for (size_t i = 0; i < o.nparams; i++)
        free((char *)params[i].name);
    free(params);
    sp_project_free(p);
    return rc;
}

static int cmd_write(const char *dir, int argc, char **argv)
{
    if (argc != 1)
        return usage(2);
    sp_project *p = NULL;
    if (load(dir, &p))
        return 1;
    sp_error err = SP_ERROR_INIT;
    int rc = sp_project_write(p, argv[0], &err);
    if (rc)
        fail(&err);
    sp_project_free(p);
    return rc ? 1 : 0;
}

static void log_stderr(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "%s\n", line);
}

/* the daemon's reload thread: one reload per request, until told to quit */
typedef struct reloader {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sp_server *s;
    int pending, quit;
} reloader;

static void *reload_thread(void *arg)
{
    reloader *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->pending && !r->quit)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->quit)
            break;
        r->pending = 0;
        pthread_mutex_unlock(&r->mu);
        sp_error rerr = SP_ERROR_INIT;
        char *made = NULL;
        sp_server_reload(r->s, &made, &rerr); /* logged by the server */
        if (made) {
            printf("tokens created (shown once, stored hashed):\n%s", made);
            fflush(stdout);
            free(made);
        }
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int cmd_serve(const char *dir, int argc, char **argv)
{
    struct sp_serve_opts o = { .size = sizeof o, .listen = "127.0.0.1:7181", .log = log_stderr };
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
            o.listen = argv[++i];
        } else if (!strcmp(argv[i], "--log-format") && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "text") != 0 && strcmp(f, "json") != 0) {
                fprintf(stderr, "sinkpipe: --log-format: '%s' is not text or json\n", f);
                return 2;
            }
            o.log_json = !strcmp(f, "json");
        } else {
            return usage(2);
        }
    }
    /* signals are taken by this thread with sigwait; every thread the
     * server starts inherits the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sp_server *s = NULL;
    char *created = NULL;
    sp_error err = SP_ERROR_INIT;
    if (sp_server_start(dir, &o, &s, &created, &err))
        return fail(&err);
    if (created) {
        /* shown once: only their hashes are kept */
        printf("tokens created (shown once, stored hashed):\n%s", created);
        fflush(stdout);
        free(created);
    }
    fprintf(stderr, "listening on %s\n", sp_server_address(s));
    /* this thread only takes signals; reloads run on a thread of their own
     * (a reload waits for running jobs, SIGTERM must not) */
    reloader rl = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, s, 0, 0 };
    pthread_t th;
    int have_th = pthread_create(&th, NULL, reload_thread, &rl) == 0;
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        if (!have_th) {
            fprintf(stderr, "sinkpipe: SIGHUP: no reload thread, reload ignored\n");
            continue;
        }
        pthread_mutex_lock(&rl.mu);
        rl.pending = 1; /* reloads asked for while one runs make one more */
        pthread_cond_signal(&rl.cv);
        pthread_mutex_unlock(&rl.mu);
    }
    sp_server_stop(s); /* a reload waiting meanwhile gives up */
    if (have_th) {
        pthread_mutex_lock(&rl.mu);
        rl.quit = 1;
        pthread_cond_signal(&rl.cv);
        pthread_mutex_unlock(&rl.mu);
        pthread_join(th, NULL);
    }
    sp_server_free(s);
    return 0;
}

static int cmd_jobs(const char *dir, int json, int argc, char **argv)
{
    long n = 20;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            char *end;
            n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 1000000) {
                fprintf(stderr, "sinkpipe: -n: '%s' is not a count\n", argv[i]);
                return 2;
            }
        } else {
            return usage(2);
        }
    }
    sp_error err = SP_ERROR_INIT;
    char *txt = sp_jobs_recent_json(dir, (size_t)n, &err);
    if (!txt)
        return fail(&err);
    if (json) {
        printf("%s\n", txt);
        free(txt);
        return 0;
    }
    json_t *arr = json_loads(txt, 0, NULL);
    free(txt);
    size_t i;
    json_t *j;
    json_array_foreach(arr, i, j) {
        const char *e = json_string_value(json_object_get(j, "error"));
        printf("%s\t%s\t%s\t%s\t%s%s%s\n", json_string_value(json_object_get(j, "id")),
               json_string_value(json_object_get(j, "status")),
               json_string_value(json_object_get(j, "pipe_name")),
               json_string_value(json_object_get(j, "created_at")),
               json_string_value(json_object_get(j, "trigger")) ?
                   json_string_value(json_object_get(j, "trigger")) : "-",
               e && *e ? "\t" : "", e && *e ? e : "");
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(j, "cleanup"), k, c)
            printf("\tcleaned: %s\n", json_string_value(json_object_get(c, "cleaned")));
    }
    json_decref(arr);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = ".";
    int json = 0;
    static const struct option longopts[] = {
        { "project", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    /* '+': stop at the command, its options are its own */
    while ((c = getopt_long(argc, argv, "+p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            dir = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            return usage(0);
        case 'V':
            printf("sinkpipe %s\n", sp_version(NULL));
            return 0;
        default:
            return usage(2);
        }
    }
    if (optind >= argc)
        return usage(2);
    const char *cmd = argv[optind];
    int cargc = argc - optind - 1;
    char **cargv = argv + optind + 1;
    /* --json may also follow the command */
    for (int i = 0; i < cargc; i++) {
        if (!strcmp(cargv[i], "--json")) {
            json = 1;
            memmove(&cargv[i], &cargv[i + 1], (size_t)(cargc - i - 1) * sizeof *cargv);
            cargc--;
            i--;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (!strcmp(cmd, "check"))
        return cmd_check(dir, json, cargc, cargv);
    if (!strcmp(cmd, "pipes"))
        return cmd_pipes(dir, json);
    if (!strcmp(cmd, "schedule"))
        return cmd_schedule(dir, json, cargc, cargv);
    if (!strcmp(cmd, "append"))
        return cmd_append(dir, json, cargc, cargv);
    if (!strcmp(cmd, "sql"))
        return cmd_sql(dir, cargc, cargv);
    if (!strcmp(cmd, "run"))
        return cmd_run(dir, json, cargc, cargv);
    if (!strcmp(cmd, "write"))
        return cmd_write(dir, cargc, cargv);
    if (!strcmp(cmd, "serve"))
        return cmd_serve(dir, cargc, cargv);
    if (!strcmp(cmd, "jobs"))
        return cmd_jobs(dir, json, cargc, cargv);
    if (!strcmp(cmd, "help"))
        return usage(0);
    fprintf(stderr, "sinkpipe: unknown command '%s' (see sinkpipe --help)\n", cmd);
    return 2;
}
