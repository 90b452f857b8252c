/* sp_curlx: the HTTP pieces sp_s3 and sp_gcs share — see sp_curlx.h. */
#include "sp_curlx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "sp_error.h"
#include "sp_clock.h"
#include "sp_banned.h"

struct sp_curlx_handle {
    CURL *curl;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int sp_curlx_global_init(sp_error *err)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return sp_error_set(err, SP_EINTERNAL, 0, "libcurl initialisation failed");
    return 0;
}

sp_curlx_handle *sp_curlx_handle_new(void)
{
    pthread_once(&curl_once, curl_init);
    sp_curlx_handle *h = calloc(1, sizeof *h);
    if (h && !(h->curl = curl_easy_init())) {
        free(h);
        h = NULL;
    }
    return h;
}

void sp_curlx_handle_free(sp_curlx_handle *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

/* on_progress: stop the transfer when the run is cancelled, or when no
 * byte moved either way for stall_ms (libcurl calls it at least about
 * once a second, more often while data flows; its own low-speed limit
 * averages over seconds, so a stall after data flowed would be noticed
 * seconds late) */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)ultotal;
    sp_curlx *x = ud;
    if (sp_cancelled(x->cancel)) {
        x->cancelled = 1;
        return 1;
    }
    int64_t now = sp_clock_mono_ms();
    if (ulnow != x->last_up || dlnow != x->last_dn) {
        x->last_up = ulnow;
        x->last_dn = dlnow;
        x->last_move_ms = now;
        return 0;
    }
    if (now - x->last_move_ms >= x->stall_ms) {
        x->stalled = 1;
        return 1;
    }
    return 0;
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *ud)
{
    sp_curlx *x = ud;
    size_t n = size * nmemb, left = x->len - x->off;
    if (n > left)
        n = left;
    memcpy(dst, (const char *)x->body + x->off, n);
    x->off += n;
    return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    sp_curlx *x = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->len)
        return CURL_SEEKFUNC_CANTSEEK;
    x->off = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    sp_curlx *x = ud;
    size_t n = size * nmemb;
    if (x->resp && !x->resp_full && sp_buf_add(x->resp, p, n, NULL))
        x->resp_full = 1; /* keep reading, drop the rest */
    return n;
}

static void header_value(const char *line, size_t n, const sp_curlx_hdr *h)
{
    size_t nl = strlen(h->name);
    if (!h->outsz || n <= nl || strncasecmp(line, h->name, nl) || line[nl] != ':')
        return;
    const char *b = line + nl + 1, *e = line + n;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
        e--;
    size_t l = (size_t)(e - b) < h->outsz - 1 ? (size_t)(e - b) : h->outsz - 1;
    memcpy(h->out, b, l);
    h->out[l] = '\0';
}

/* forget_answer: no header kept, no body (a new answer begins) */
static void forget_answer(sp_curlx *x)
{
    for (size_t i = 0; i < x->nhdrs; i++)
        if (x->hdrs[i].outsz)
            x->hdrs[i].out[0] = '\0';
    if (x->resp) {
        sp_buf_reset(x->resp);
        x->resp_full = 0;
    }
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    sp_curlx *x = ud;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(p, "HTTP/", 5)) /* a new response (after a 100, a redirect) */
        forget_answer(x);
    for (size_t i = 0; i < x->nhdrs; i++)
        header_value(p, n, &x->hdrs[i]);
    return n;
}

CURLcode sp_curlx_perform(sp_curlx_handle *h, sp_curlx *x)
{
    CURL *e = h->curl;
    curl_easy_reset(e);
    forget_answer(x);
    x->off = 0;
    x->last_up = x->last_dn = 0;
    x->last_move_ms = sp_clock_mono_ms();
    x->stalled = x->cancelled = 0;
    x->status = 0;
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, x->connect_ms);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* keys may hold "." and ".." segments: send the path as given */
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sinkpipe");
    if (!strcmp(x->method, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(x->method, "PUT")) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
    } else if (!strcmp(x->method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? (const char *)x->body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
    } else if (strcmp(x->method, "GET")) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
    }
    CURLcode cc = curl_easy_perform(e);
    if (cc == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
    if (cc == CURLE_ABORTED_BY_CALLBACK && x->stalled && !x->cancelled)
        cc = CURLE_OPERATION_TIMEDOUT; /* retried as any timeout */
    return cc;
}

int sp_curlx_transient(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SEND_FAIL_REWIND:
        return 1;
    default:
        return 0;
    }
}

int sp_curlx_status_retriable(long status)
{
    return status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501);
}

void sp_curlx_backoff(int base_ms, int cap_ms, int attempt, atomic_int *cancel)
{
    int64_t cap = base_ms;
    for (int i = 0; i < attempt && cap < cap_ms; i++)
        cap *= 2;
    if (cap > cap_ms)
        cap = cap_ms;
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)sp_clock_mono_ms() * 2654435761u;
    /* equal jitter: half the window, plus a random share of the other half */
    int64_t ms = cap / 2 + (int64_t)(r % (uint32_t)(cap / 2 + 1));
    while (ms > 0 && !sp_cancelled(cancel)) {
        int64_t slice = ms < 100 ? ms : 100;
        ms -= slice;
        struct timespec ts = { 0, (long)slice * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

void sp_curlx_pool_init(sp_curlx_pool *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
}

sp_curlx_handle *sp_curlx_pool_get(sp_curlx_pool *p)
{
    pthread_mutex_lock(&p->mu);
    sp_curlx_handle *h = p->n ? p->idle[--p->n] : NULL;
    pthread_mutex_unlock(&p->mu);
    return h ? h : sp_curlx_handle_new();
}

void sp_curlx_pool_put(sp_curlx_pool *p, sp_curlx_handle *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->n == p->cap) {
        int nc = p->cap ? p->cap * 2 : 4;
        sp_curlx_handle **ni = realloc(p->idle, (size_t)nc * sizeof *ni);
        if (ni) {
            p->idle = ni;
            p->cap = nc;
        }
    }
    if (p->n < p->cap) {
        p->idle[p->n++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    sp_curlx_handle_free(h);
}

void sp_curlx_pool_release(sp_curlx_pool *p)
{
    for (int i = 0; i < p->n; i++)
        sp_curlx_handle_free(p->idle[i]);
    free(p->idle);
    pthread_mutex_destroy(&p->mu);
    memset(p, 0, sizeof *p);
}

int sp_curlx_header(struct curl_slist **l, const char *line, sp_error *err)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (!n)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory (request headers)");
    *l = n;
    return 0;
}
