/* sp_http: libmicrohttpd glue. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_error.h"
#include "sp_http.h"
#include "sp_banned.h"

struct sp_http {
    struct MHD_Daemon *d;
    sp_http_handler h;
    void *ud;
    size_t max_body;
    char addr[96];
    int quiesced;
};

struct sp_http_req {
    struct MHD_Connection *c;
    const char *method;
    const char *path;
    sp_buf body;
    int too_big;
    int nul_in_uri; /* the raw URI holds %00 (the path was cut there) */
};

/* the first con_cls of a request whose raw URI holds "%00": libmicrohttpd
 * gives the handler the decoded path as a C string, cut at the NUL, so
 * only the raw URI shows it (uri_log sees it before anything else) */
static char nul_uri;

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    return uri && strstr(uri, "%00") ? &nul_uri : NULL;
}

const char *sp_http_method(const sp_http_req *r)
{
    return r->method;
}

const char *sp_http_path(const sp_http_req *r)
{
    return r->path;
}

const char *sp_http_body(const sp_http_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

const char *sp_http_query(const sp_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

const char *sp_http_header(const sp_http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

int sp_http_loopback(const sp_http_req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa)
        return 0;
    if (sa->sa_family == AF_UNIX)
        return 1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

typedef struct each_ctx {
    void (*fn)(void *ud, const char *name, const char *value);
    void *ud;
} each_ctx;

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    each_ctx *e = cls;
    e->fn(e->ud, key, value ? value : "");
    return MHD_YES;
}

void sp_http_each_query(const sp_http_req *r,
                        void (*fn)(void *ud, const char *name, const char *value), void *ud)
{
    each_ctx e = { fn, ud };
    MHD_get_connection_values(r->c, MHD_GET_ARGUMENT_KIND, each_arg, &e);
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *type, char *body,
                            size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                              : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type ? type : "application/json");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result too_big(struct MHD_Connection *c, size_t max)
{
    char *b = malloc(128);
    if (!b)
        return MHD_NO;
    int n = snprintf(b, 128, "{\"error\":\"request body larger than %zu bytes\"}", max);
    return reply(c, 413, NULL, b, (size_t)n);
}

/* a query argument or header whose decoded text holds a NUL byte (%00)
 * would be cut there by every C string reader: the request is refused */
typedef struct nul_ctx {
    char what[160]; /* "query parameter 'name'", the name made JSON-safe */
} nul_ctx;

static enum MHD_Result find_nul(void *cls, enum MHD_ValueKind kind, const char *key,
                                size_t key_size, const char *value, size_t value_size)
{
    nul_ctx *n = cls;
    if ((!key || strlen(key) == key_size) && (!value || strlen(value) == value_size))
        return MHD_YES;
    int k = snprintf(n->what, sizeof n->what, "%s '",
                     kind == MHD_GET_ARGUMENT_KIND ? "query parameter" : "header");
    for (const char *p = key ? key : ""; *p && k < 100; p++)
        n->what[k++] = (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '?' : *p;
    n->what[k++] = '\'';
    n->what[k] = '\0';
    return MHD_NO;
}

/* answer_nul: 1 when the request was answered 400 (a NUL in a query
 * parameter, a header, or the path when in_uri), 0 when it has none, -1 out
 * of memory */
static int answer_nul(struct MHD_Connection *c, int in_uri)
{
    nul_ctx n = { "" };
    MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, find_nul, &n);
    if (!n.what[0])
        MHD_get_connection_values_n(c, MHD_HEADER_KIND, find_nul, &n);
    if (!n.what[0] && in_uri)
        snprintf(n.what, sizeof n.what, "the request path");
    if (!n.what[0])
        return 0;
    char *b = malloc(256);
    if (!b)
        return -1;
    int len = snprintf(b, 256, "{\"error\":\"%s: a NUL byte (%%00) is not allowed\"}", n.what);
    return reply(c, 400, NULL, b, (size_t)len) == MHD_YES ? 1 : -1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    sp_http *s = cls;
    sp_http_req *r = *con_cls;
    if (!r || r == (void *)&nul_uri) {
        int nul = r != NULL;
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->nul_in_uri = nul;
        r->c = c;
        r->method = method;
        r->path = url;
        sp_buf_init(&r->body, s->max_body);
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end == '\0' && n > s->max_body) {
                r->too_big = 1;
                return too_big(c, s->max_body); /* answered before the body is read */
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_big && sp_buf_add(&r->body, upload, *upload_size, NULL) != 0)
            r->too_big = 1; /* over the limit: the rest is read and dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_big) {
        sp_buf_release(&r->body);
        return too_big(c, s->max_body);
    }
    int nul = answer_nul(c, r->nul_in_uri);
    if (nul) {
        sp_buf_release(&r->body);
        return nul > 0 ? MHD_YES : MHD_NO;
    }
    sp_http_resp resp = { 200, NULL, NULL, 0, 0 };
    s->h(s->ud, r, &resp);
    if (resp.stream_fd > 0) {
        free(resp.body);
        struct MHD_Response *mr = MHD_create_response_from_pipe(resp.stream_fd);
        if (!mr) {
            close(resp.stream_fd);
            return MHD_NO;
        }
        MHD_add_response_header(mr, "Content-Type",
                                resp.content_type ? resp.content_type : "application/json");
        enum MHD_Result res = MHD_queue_response(c, (unsigned)resp.status, mr);
        MHD_destroy_response(mr);
        return res;
    }
    return reply(c, resp.status, resp.content_type, resp.body, resp.body ? resp.len : 0);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    sp_http_req *r = *con_cls;
    if (!r || r == (void *)&nul_uri) /* the handler never ran */
        return;
    sp_buf_release(&r->body);
    free(r);
    *con_cls = NULL;
}

int sp_http_start(const char *listen, size_t max_body, const sp_http_limits *lim,
                  sp_http_handler h, void *ud, sp_http **out, sp_error *err)
{
    *out = NULL;
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || colon == listen)
        return sp_error_set(err, SP_EINVAL, 0, "--listen: '%s' is not HOST:PORT",
                            listen ? listen : "");
    char host[64];
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return sp_error_set(err, SP_EINVAL, 0, "--listen: host too long");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || colon[1] == '\0')
        return sp_error_set(err, SP_EINVAL, 0, "--listen: '%s' is not a port", colon + 1);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return sp_error_set(err, SP_EINVAL, 0, "--listen: '%s' is not an IPv4 address", host);
    sp_http *s = calloc(1, sizeof *s);
    if (!s)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    s->h = h;
    s->ud = ud;
    s->max_body = max_body;
    /* a thread per connection (handlers may wait on the engine), each
     * polling its socket with poll() (not select(): no FD_SETSIZE ceiling);
     * idle and slow clients are bounded in number, per address and in time */
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
                                MHD_USE_ITC,
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
                            MHD_OPTION_CONNECTION_LIMIT, lim->max_conns,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_conns_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, lim->idle_timeout,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return sp_error_set(err, SP_EIO, 0, "cannot listen on %s", listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : (unsigned)port;
    snprintf(s->addr, sizeof s->addr, "%s:%u", host, bound);
    *out = s;
    return 0;
}

int sp_http_start_unix(const char *path, size_t max_body, sp_http_handler h, void *ud,
                       sp_http **out, sp_error *err)
{
    *out = NULL;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return sp_error_set(err, SP_EINVAL, 0, "socket path too long: '%.80s…'", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sp_error_set(err, SP_EIO, 0, "cannot create a socket: %s", strerror(errno));
    unlink(path); /* a dead daemon's */
    mode_t old = umask(077);
    int brc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (brc != 0 || listen(fd, 64) != 0) {
        int e = errno;
        close(fd);
        return sp_error_set(err, SP_EIO, 0, "cannot listen on '%s': %s", path, strerror(e));
    }
    sp_http *s = calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    }
    s->h = h;
    s->ud = ud;
    s->max_body = max_body;
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
                                MHD_USE_ITC,
                            0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_URI_LOG_CALLBACK, uri_log, NULL,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
    if (!s->d) {
        close(fd);
        free(s);
        return sp_error_set(err, SP_EIO, 0, "cannot serve on '%s'", path);
    }
    snprintf(s->addr, sizeof s->addr, "unix:%.80s", path);
    *out = s;
    return 0;
}

const char *sp_http_address(const sp_http *s)
{
    return s->addr;
}

void sp_http_quiesce(sp_http *s)
{
    if (!s || s->quiesced)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    s->quiesced = 1;
}

void sp_http_stop(sp_http *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    free(s);
}
