/* sp_http: a small HTTP server on libmicrohttpd (a thread per connection):
 * it collects a request's body up to a limit (larger ones are answered 413
 * without being stored) and hands the whole request to one handler. */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <stddef.h>

#include "sinkpipe.h"

typedef struct sp_http sp_http;
typedef struct sp_http_req sp_http_req;

typedef struct sp_http_resp {
    int status;
    const char *content_type; /* static text; default application/json */
    char *body;               /* heap, freed by sp_http */
    size_t len;
    /* instead of body: a pipe's read end (> 0) whose bytes are the body,
     * streamed until its writer closes it; sp_http closes it */
    int stream_fd;
} sp_http_resp;

/* handler: fill resp; runs on the connection's thread */
typedef void (*sp_http_handler)(void *ud, const sp_http_req *req, sp_http_resp *resp);

const char *sp_http_method(const sp_http_req *r);
const char *sp_http_path(const sp_http_req *r);
const char *sp_http_body(const sp_http_req *r, size_t *len); /* NUL-terminated */
/* a query argument or header (NULL when absent); owned by the request */
const char *sp_http_query(const sp_http_req *r, const char *name);
const char *sp_http_header(const sp_http_req *r, const char *name);
/* sp_http_loopback: 1 when the client connected from this machine (a
 * loopback address, 127.0.0.0/8 or ::1, or the unix socket) */
int sp_http_loopback(const sp_http_req *r);
/* every query argument, in order */
void sp_http_each_query(const sp_http_req *r,
                        void (*fn)(void *ud, const char *name, const char *value), void *ud);

/* limits that keep idle or slow clients from taking every connection */
typedef struct sp_http_limits {
    unsigned max_conns;        /* connections open at once (a thread each); more are refused */
    unsigned max_conns_per_ip; /* from one client address; 0: no limit of its own */
    unsigned idle_timeout;     /* seconds without traffic (headers, body, keep-alive) before
                                * a connection is closed; 0: never */
} sp_http_limits;

/* sp_http_start: listen on "host:port" (port 0: any free port) with the
 * limits `lim` (copied) */
int sp_http_start(const char *listen, size_t max_body, const sp_http_limits *lim,
                  sp_http_handler h, void *ud, sp_http **out, sp_error *err);
/* sp_http_start_unix: listen on a unix-domain socket at `path` (created
 * mode 0600; an existing socket file is replaced); for processes of the
 * same user on this machine */
int sp_http_start_unix(const char *path, size_t max_body, sp_http_handler h, void *ud,
                       sp_http **out, sp_error *err);
/* "host:port" actually bound */
const char *sp_http_address(const sp_http *s);
/* stop accepting new connections (open ones finish) */
void sp_http_quiesce(sp_http *s);
/* close everything and free */
void sp_http_stop(sp_http *s);

#endif
