/* http_load: a loopback HTTP load generator for bench/run.sh (events API).
 *
 *   http_load --url URL --data FILE [--batch 50] [--concurrency 16]
 *             [--duration 10] [--timeout 30] [--header 'Name: value']...
 *
 * FILE holds NDJSON, one row a line.  It is cut into batches of --batch
 * lines (the last, shorter one is dropped); --concurrency threads, each with
 * its own keep-alive connection, POST batches (taken in turn from a shared
 * counter, round and round) to URL until --duration seconds have passed
 * since the start; a call under way then finishes (each call is bounded by
 * --timeout).  Only loopback URLs (127.0.0.0/8, localhost, [::1]) are
 * accepted.
 *
 * A call succeeds on HTTP 200.  The rows it acknowledged are the answer's
 * "successful_rows" when it has one (sinkpipe's /v0/events), else the
 * batch's rows (ClickHouse's INSERT answers an empty 200); an answer's
 * "quarantined_rows" are counted apart.  Prints one line on stdout:
 *
 *   calls=N errors=N secs=S calls_per_s=X rows=N rows_per_s=X quarantined=N
 *   p50_ms=X p99_ms=X max_ms=X
 *
 * (latencies of successful calls) and the first error on stderr.  Exit
 * status 0 when it ran (errors or not), 2 on bad usage, 1 when it could not
 * start. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
    const char *p;
    size_t len;
    unsigned rows;
} batch;

static batch *g_batches;
static size_t g_nbatches;
static atomic_size_t g_next;
static const char *g_url;
static struct curl_slist *g_headers;
static double g_deadline;
static long g_timeout = 30;
static pthread_mutex_t g_errmu = PTHREAD_MUTEX_INITIALIZER;
static char g_firsterr[512];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    uint64_t calls, errors, rows, quarantined;
    double *lat; /* ms, successful calls */
    size_t nlat, caplat;
    char resp[65536];
    size_t rlen;
} worker;

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    worker *w = ud;
    size_t len = sz * n, room = sizeof w->resp - 1 - w->rlen;
    memcpy(w->resp + w->rlen, p, len < room ? len : room);
    w->rlen += len < room ? len : room;
    w->resp[w->rlen] = '\0';
    return len;
}

/* "key":N in a JSON answer; -1 when absent */
static long long json_num(const char *s, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\"", key);
    const char *p = strstr(s, k);
    if (!p)
        return -1;
    p += strlen(k);
    while (*p == ' ' || *p == ':')
        p++;
    return strtoll(p, NULL, 10);
}

static void note_error(const char *what)
{
    pthread_mutex_lock(&g_errmu);
    if (!g_firsterr[0])
        snprintf(g_firsterr, sizeof g_firsterr, "%s", what);
    pthread_mutex_unlock(&g_errmu);
}

static void *run(void *ud)
{
    worker *w = ud;
    CURL *c = curl_easy_init();
    if (!c) {
        note_error("curl_easy_init failed");
        return NULL;
    }
    curl_easy_setopt(c, CURLOPT_URL, g_url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, g_headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, g_timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* loopback: never a proxy */
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    while (now() < g_deadline) {
        const batch *b = &g_batches[atomic_fetch_add(&g_next, 1) % g_nbatches];
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, b->p);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
        w->rlen = 0;
        w->resp[0] = '\0';
        double t0 = now();
        CURLcode rc = curl_easy_perform(c);
        double ms = (now() - t0) * 1000.0;
        long status = 0;
        if (rc == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        w->calls++;
        if (rc != CURLE_OK || status != 200) {
            w->errors++;
            char e[512];
            if (rc != CURLE_OK)
                snprintf(e, sizeof e, "curl: %s", curl_easy_strerror(rc));
            else
                snprintf(e, sizeof e, "HTTP %ld: %.400s", status, w->resp);
            note_error(e);
            continue;
        }
        long long ok = json_num(w->resp, "successful_rows");
        long long q = json_num(w->resp, "quarantined_rows");
        w->rows += ok >= 0 ? (uint64_t)ok : b->rows;
        if (q > 0)
            w->quarantined += (uint64_t)q;
        if (w->nlat == w->caplat) {
            size_t cap = w->caplat ? w->caplat * 2 : 4096;
            double *l = realloc(w->lat, cap * sizeof *l);
            if (!l)
                continue;
            w->lat = l;
            w->caplat = cap;
        }
        w->lat[w->nlat++] = ms;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int loopback(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return 0;
    h += 3;
    const char *at = strchr(h, '@'), *slash = strchr(h, '/');
    if (at && (!slash || at < slash))
        h = at + 1;
    if (!strncmp(h, "[::1]", 5))
        return h[5] == ':' || h[5] == '/' || !h[5];
    size_t n = strcspn(h, ":/");
    if (n == 9 && !strncmp(h, "localhost", 9))
        return 1;
    if (strncmp(h, "127.", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.'))
            return 0;
    return 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: http_load --url URL --data FILE [--batch 50] [--concurrency 16] "
                    "[--duration 10] [--timeout 30] [--header 'Name: value']...\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *data = NULL;
    long bsize = 50, conc = 16;
    double duration = 10;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    g_headers = curl_slist_append(g_headers, "Content-Type: application/x-ndjson");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (!strcmp(a, "--url"))
            g_url = v;
        else if (!strcmp(a, "--data"))
            data = v;
        else if (!strcmp(a, "--batch"))
            bsize = strtol(v, NULL, 10);
        else if (!strcmp(a, "--concurrency"))
            conc = strtol(v, NULL, 10);
        else if (!strcmp(a, "--duration"))
            duration = strtod(v, NULL);
        else if (!strcmp(a, "--timeout"))
            g_timeout = strtol(v, NULL, 10);
        else if (!strcmp(a, "--header"))
            g_headers = curl_slist_append(g_headers, v);
        else
            return usage();
        i++;
    }
    if (!g_url || !data || bsize < 1 || conc < 1 || conc > 1024 || duration <= 0 ||
        duration > 3600 || g_timeout < 1)
        return usage();
    if (!loopback(g_url)) {
        fprintf(stderr, "http_load: only loopback URLs (127.0.0.0/8, localhost, [::1]): %s\n",
                g_url);
        return 2;
    }

    FILE *f = fopen(data, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        perror(data);
        return 1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "http_load: cannot read %s\n", data);
        return 1;
    }
    fclose(f);
    size_t size = (size_t)st.st_size;
    buf[size] = '\0';
    /* batches of bsize lines */
    size_t cap = size / 2 / (size_t)bsize + 1;
    g_batches = calloc(cap, sizeof *g_batches);
    if (!g_batches)
        return 1;
    const char *p = buf, *end = buf + size, *start = buf;
    unsigned lines = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        if (nl > p)
            lines++;
        p = nl + 1;
        if (lines == (unsigned)bsize) {
            if (g_nbatches == cap)
                break;
            g_batches[g_nbatches++] = (batch){ start, (size_t)(p - start), lines };
            start = p;
            lines = 0;
        }
    }
    if (!g_nbatches) {
        fprintf(stderr, "http_load: %s has fewer than %ld lines\n", data, bsize);
        return 1;
    }

    worker *w = calloc((size_t)conc, sizeof *w);
    pthread_t *th = calloc((size_t)conc, sizeof *th);
    if (!w || !th)
        return 1;
    double t0 = now();
    g_deadline = t0 + duration;
    long started = 0;
    for (; started < conc; started++)
        if (pthread_create(&th[started], NULL, run, &w[started]) != 0) {
            fprintf(stderr, "http_load: cannot start thread %ld\n", started);
            g_deadline = 0;
            break;
        }
    for (long i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    double secs = now() - t0;

    uint64_t calls = 0, errors = 0, rows = 0, quarantined = 0;
    size_t nlat = 0;
    for (long i = 0; i < started; i++) {
        calls += w[i].calls;
        errors += w[i].errors;
        rows += w[i].rows;
        quarantined += w[i].quarantined;
        nlat += w[i].nlat;
    }
    double *lat = malloc((nlat + 1) * sizeof *lat);
    size_t k = 0;
    for (long i = 0; lat && i < started; i++) {
        memcpy(lat + k, w[i].lat, w[i].nlat * sizeof *lat);
        k += w[i].nlat;
    }
    double p50 = 0, p99 = 0, mx = 0;
    if (lat && nlat) {
        qsort(lat, nlat, sizeof *lat, cmp_dbl);
        p50 = lat[(nlat - 1) / 2];
        p99 = lat[(size_t)((double)(nlat - 1) * 0.99)];
        mx = lat[nlat - 1];
    }
    uint64_t ok = calls - errors;
    printf("calls=%llu errors=%llu secs=%.3f calls_per_s=%.1f rows=%llu rows_per_s=%.0f "
           "quarantined=%llu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
           (unsigned long long)ok, (unsigned long long)errors, secs, (double)ok / secs,
           (unsigned long long)rows, (double)rows / secs, (unsigned long long)quarantined, p50,
           p99, mx);
    if (g_firsterr[0])
        fprintf(stderr, "http_load: %llu errors; first: %s\n", (unsigned long long)errors,
                g_firsterr);
    curl_slist_free_all(g_headers);
    curl_global_cleanup();
    return started ? 0 : 1;
}
