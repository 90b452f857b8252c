/* sp_sink_kafka: one Kafka message per result row.
 *
 * value   = the row's NDJSON line without the newline (sp_format_ndjson)
 * key     = none, or the text of column EXPORT_KAFKA_KEY (sp_fmt_value_text)
 * headers = job_id, pipe
 *
 * An idempotent producer (sp_kafka_conf defaults).  A batch's values are
 * formatted back to back into one buffer that lives until the last of its
 * messages has its delivery report (a reference count per buffer): messages
 * are produced without copying.  librdkafka's queue is bounded (messages
 * and bytes), and so is the memory of the live buffers; a full queue is
 * waited out with poll(100 ms).
 * Delivery reports are counted (acked / failed, first error kept); finish
 * flushes until every report arrived, and succeeds only if every message was
 * acknowledged.  Each run is one transaction (EXPORT_KAFKA_TRANSACTIONAL
 * auto, the default, or true; transactional.id `sinkpipe-<pipe>`):
 * committed at finish, aborted on failure; the transaction is journaled
 * (sp_journal.h), so that the next run or daemon start fences the
 * transactional.id of a killed run, which aborts its open transaction.
 * auto falls back to the idempotent producer (at-least-once, a warning in
 * the run result) when the broker refuses transactions; false always uses
 * it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "sp_format.h"
#include "sp_journal.h"
#include "sp_kafka_conf.h"
#include "sp_secret.h"
#include "sp_sink.h"
#include "sp_clock.h"
#include "sp_banned.h"

#define META_TIMEOUT_MS 10000
#define TXN_TIMEOUT_MS 30000
#define ABORT_DRAIN_MS 5000

enum { TXN_OFF, TXN_ON, TXN_AUTO }; /* EXPORT_KAFKA_TRANSACTIONAL false, true, auto */

/* one batch's values, alive until each of its messages was reported */
typedef struct vbatch {
    struct vbatch *prev, *next;
    size_t refs; /* messages produced from it and not yet reported */
    char data[];
} vbatch;

typedef struct kafka_sink {
    sp_sink base;
    vbatch *live; /* buffers still referenced by queued messages */
    const sp_sink_ctx *ctx;
    const sp_schema *schema;
    rd_kafka_t *rk;
    const char *topic;
    const char *pipe;
    int key_col; /* -1: no key */
    int txn;     /* transactional run */
    int txn_open;
    long jid;    /* the transaction's journal entry, -1: none */
    char *warning; /* handed to the run result */
    int64_t msg_timeout_ms;
    sp_buf vals; /* one batch's values, back to back */
    sp_buf key;
    size_t *ends; /* end offset of each row's value in vals */
    size_t ends_cap;
    uint64_t produced, acked, failed, acked_bytes;
    rd_kafka_resp_err_t first_err;
    int done; /* finish or abort ran */
} kafka_sink;

/* vb_release: drop one reference to a value buffer; the last frees it */
static void vb_release(kafka_sink *k, vbatch *vb)
{
    if (!vb || --vb->refs != 0)
        return;
    if (vb->prev)
        vb->prev->next = vb->next;
    else
        k->live = vb->next;
    if (vb->next)
        vb->next->prev = vb->prev;
    free(vb);
}

/* delivery reports: served by rd_kafka_poll/flush on the caller's thread */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_sink *k = opaque;
    vb_release(k, m->_private);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        k->acked++;
        k->acked_bytes += m->len;
    } else {
        if (!k->failed)
            k->first_err = m->err;
        k->failed++;
    }
}

/* err_flag: librdkafka's own classification of an error object: retriable
 * when it says so; fatal (the producer is unusable), fenced or needing an
 * abort, or anything else: not */
static int err_flag(const rd_kafka_error_t *e)
{
    return rd_kafka_error_is_retriable(e) && !rd_kafka_error_is_fatal(e) ? SP_RETRIABLE
                                                                         : SP_FATAL;
}

/* resp_flag: a delivery report's or produce()'s error code: fatal when the
 * same message can never be accepted (too large, invalid, not allowed,
 * unknown topic, a fenced or fatal producer), else retriable (timeouts,
 * brokers down, leaders moving, queues full) */
static int resp_flag(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
        return SP_FATAL;
    default:
        return SP_RETRIABLE;
    }
}

static int txn_error(kafka_sink *k, const char *what, rd_kafka_error_t *e, sp_error *err)
{
    int rc = sp_error_set_pipe(err, k->pipe, SP_ESINK, err_flag(e),
                               "pipe '%s': topic '%s': %s: %s", k->pipe, k->topic, what,
                               rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return rc;
}

/* the topic exists (or the broker created it on request) */
static int check_topic(kafka_sink *k, sp_error *err)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, k->topic, NULL);
    if (!rkt)
        return sp_error_set_pipe(err, k->pipe, SP_EDEF, 0, "pipe '%s': topic '%s': %s", k->pipe,
                                 k->topic, rd_kafka_err2str(rd_kafka_last_error()));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, rkt, &md, META_TIMEOUT_MS);
    int rc = 0;
    if (e)
        rc = sp_error_set_pipe(err, k->pipe, SP_ENET, 1,
                          "pipe '%s': connection '%s': cannot read metadata of topic '%s': %s",
                          k->pipe, k->ctx->cfg->connection_name, k->topic,
                          rd_kafka_err2str(e));
    else if (md->topic_cnt < 1 || md->topics[0].err)
        rc = sp_error_set_pipe(err, k->pipe, SP_EDEF, 0,
                               "pipe '%s': topic '%s' does not exist on connection '%s' (%s)",
                               k->pipe, k->topic, k->ctx->cfg->connection_name,
                               rd_kafka_err2str(md->topic_cnt
                                                    ? md->topics[0].err
                                                    : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

static int find_key(kafka_sink *k, const char *col, sp_error *err)
{
    for (size_t i = 0; i < k->schema->ncols; i++) {
        if (!strcmp(k->schema->names[i], col)) {
            k->key_col = (int)i;
            return 0;
        }
    }
    char list[512];
    size_t n = 0;
    list[0] = '\0';
    for (size_t i = 0; i < k->schema->ncols && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                              k->schema->names[i]);
    return sp_error_set_pipe(err, k->pipe, SP_EDEF, 0,
                        "pipe '%s': EXPORT_KAFKA_KEY: unknown column '%s' (columns: %s)",
                        k->pipe, col, list);
}

static void kf_free(sp_sink *base);

/* txn_refused: init_transactions errors that mean "this broker (or these
 * credentials) offer no transactions", as opposed to a broker in trouble */
static int txn_refused(rd_kafka_resp_err_t e)
{
    return e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
           e == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
           e == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
           e == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
           e == RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT;
}

/* new_producer: a producer for cfg's connection, transactional when tid is
 * given; es receives librdkafka's refusal (secrets cut out) */
static rd_kafka_t *new_producer(const sp_sinkcfg *cfg, const char *pipe, const char *tid,
                                void *opaque, char *es, size_t essz,
                                int64_t *msg_timeout_ms, sp_error *err)
{
    rd_kafka_conf_t *conf = NULL;
    if (sp_kafka_conf_build(cfg->connection_name, &cfg->conn, 1, &conf, NULL, err))
        return NULL;
    if (tid && rd_kafka_conf_set(conf, "transactional.id", tid, es, essz)) {
        rd_kafka_conf_destroy(conf);
        sp_error_set_pipe(err, pipe, SP_EDEF, 0, "pipe '%s': EXPORT_KAFKA_TRANSACTIONAL: %s", pipe,
                          es);
        return NULL;
    }
    char v[32];
    size_t vn = sizeof v;
    if (msg_timeout_ms && rd_kafka_conf_get(conf, "message.timeout.ms", v, &vn) == RD_KAFKA_CONF_OK)
        *msg_timeout_ms = strtoll(v, NULL, 10);
    if (opaque) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, opaque);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, essz);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        for (size_t i = 0; i < cfg->conn.n; i++)
            if (cfg->conn.v[i].secret)
                sp_secret_scrub(es, essz, cfg->conn.v[i].value);
        sp_error_set_pipe(err, pipe, SP_EDEF, 0, "pipe '%s': connection '%s': %s", pipe,
                     cfg->connection_name, es);
    }
    return rk;
}

static int make_producer(kafka_sink *k, const char *tid, sp_error *err)
{
    char es[512];
    k->msg_timeout_ms = 300000;
    k->rk = new_producer(k->ctx->cfg, k->pipe, tid, k, es, sizeof es, &k->msg_timeout_ms,
                         err);
    return k->rk ? 0 : err && err->code ? err->code : SP_EDEF;
}

static int open_producer(kafka_sink *k, sp_error *err)
{
    const sp_sinkcfg *cfg = k->ctx->cfg;
    int rc = 0;
    if (!*k->topic)
        return sp_error_set_pipe(err, k->pipe, SP_EDEF, 0,
                                 "pipe '%s': EXPORT_KAFKA_TOPIC: empty topic", k->pipe);
    const char *kc = sp_kvlist_get(cfg->keys, "EXPORT_KAFKA_KEY");
    if (kc && *kc && (rc = find_key(k, kc, err)) != 0)
        return rc;
    const char *tx = sp_kvlist_get(cfg->keys, "EXPORT_KAFKA_TRANSACTIONAL");
    int mode = !tx || !strcasecmp(tx, "auto") ? TXN_AUTO
               : !strcasecmp(tx, "true")      ? TXN_ON
                                              : TXN_OFF;
    char tid[300];
    snprintf(tid, sizeof tid, "sinkpipe-%s", k->pipe);
    k->txn = mode != TXN_OFF;
    if ((rc = make_producer(k, k->txn ? tid : NULL, err)))
        return rc;
    if ((rc = check_topic(k, err)) || !k->txn)
        return rc;
    rd_kafka_error_t *e = rd_kafka_init_transactions(k->rk, TXN_TIMEOUT_MS);
    if (e && mode == TXN_AUTO && txn_refused(rd_kafka_error_code(e))) {
        /* a broker without transactions (or that does not let us use
         * them): the idempotent producer, at-least-once, said out loud */
        char w[700];
        snprintf(w, sizeof w,
                 "pipe '%s': topic '%s': the broker refuses transactions (%s): delivered "
                 "at-least-once (a rerun after a crash may duplicate rows); set "
                 "EXPORT_KAFKA_TRANSACTIONAL false to choose this, or true to fail instead",
                 k->pipe, k->topic, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        free(k->warning);
        k->warning = strdup(w);
        rd_kafka_destroy(k->rk);
        k->rk = NULL;
        k->txn = 0;
        return make_producer(k, NULL, err);
    }
    if (e)
        return txn_error(k, "init_transactions", e, err);
    /* journaled before the transaction starts: if this process dies, the
     * next run or daemon start fences tid, which aborts it */
    if (k->ctx->journal) {
        json_t *je = json_object();
        json_object_set_new(je, "store", json_string("kafka"));
        json_object_set_new(je, "transactional_id", json_string(tid));
        json_object_set_new(je, "topic", json_string(k->topic));
        rc = sp_journal_add(k->ctx->journal, je, &k->jid, err);
        json_decref(je);
        if (rc)
            return rc;
    }
    e = rd_kafka_begin_transaction(k->rk);
    if (e)
        return txn_error(k, "begin_transaction", e, err);
    k->txn_open = 1;
    return 0;
}

static int kf_open(sp_sink **out, const sp_sink_ctx *ctx, const sp_schema *s, sp_error *err)
{
    *out = NULL;
    kafka_sink *k = calloc(1, sizeof *k);
    if (!k)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    k->base.vt = &sp_sink_kafka;
    k->ctx = ctx;
    k->schema = s;
    k->pipe = ctx->cfg->pipe->name;
    k->topic = ctx->cfg->topic ? ctx->cfg->topic : "";
    k->key_col = -1;
    k->jid = -1;
    sp_buf_init(&k->vals, 256u << 20);
    sp_buf_init(&k->key, 1u << 20);
    int rc = open_producer(k, err);
    if (rc) {
        kf_free(&k->base);
        return rc;
    }
    *out = &k->base;
    return 0;
}

static int produce_one(kafka_sink *k, vbatch *vb, const char *val, size_t vlen,
                       const char *key, size_t klen, sp_error *err)
{
    for (;;) {
        /* no copy of the value: it lives in vb until its delivery report
         * (the key is small and copied by librdkafka in any case) */
        rd_kafka_resp_err_t e = rd_kafka_producev(
            k->rk, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_MSGFLAGS(0),
            RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_KEY((void *)key, klen),
            RD_KAFKA_V_OPAQUE(vb),
            RD_KAFKA_V_HEADER("job_id", k->ctx->job_id, -1),
            RD_KAFKA_V_HEADER("pipe", k->pipe, -1), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            k->produced++;
            vb->refs++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return sp_error_set_pipe(err, k->pipe, SP_ESINK, resp_flag(e),
                                     "pipe '%s': topic '%s': produce: %s", k->pipe, k->topic,
                                     rd_kafka_err2str(e));
        /* backpressure: serve delivery reports until the queue has room */
        rd_kafka_poll(k->rk, 100);
        if (sp_cancelled(k->ctx->cancel))
            return sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    }
}

static int kf_write(sp_sink *base, const sp_batch *b, sp_error *err)
{
    kafka_sink *k = (kafka_sink *)base;
    if (sp_cancelled(k->ctx->cancel))
        return sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    if (b->nrows > k->ends_cap) {
        size_t *n = realloc(k->ends, b->nrows * sizeof *n);
        if (!n)
            return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
        k->ends = n;
        k->ends_cap = b->nrows;
    }
    sp_buf_reset(&k->vals);
    for (size_t i = 0; i < b->nrows; i++) {
        int rc = sp_format_ndjson.row(&k->vals, k->schema, b, i, err);
        if (rc)
            return rc;
        k->ends[i] = k->vals.len - 1; /* without the newline */
    }
    if (b->nrows == 0)
        return 0;
    vbatch *vb = malloc(sizeof *vb + k->vals.len);
    if (!vb)
        return sp_error_set(err, SP_ENOMEM, 0, "out of memory");
    memcpy(vb->data, k->vals.data, k->vals.len);
    vb->refs = 1; /* held by this loop until it ends */
    vb->prev = NULL;
    vb->next = k->live;
    if (k->live)
        k->live->prev = vb;
    k->live = vb;
    int prc = 0;
    size_t start = 0;
    for (size_t i = 0; i < b->nrows && !prc; i++) {
        const char *key = NULL;
        size_t klen = 0;
        if (k->key_col >= 0) {
            const sp_column *c = &b->cols[k->key_col];
            if (!(c->nulls && c->nulls[i])) { /* a NULL key: no key */
                sp_buf_reset(&k->key);
                prc = sp_fmt_value_text(&k->key, c, i, err);
                if (prc)
                    break;
                key = k->key.data ? k->key.data : "";
                klen = k->key.len;
            }
        }
        prc = produce_one(k, vb, vb->data + start, k->ends[i] - start, key, klen, err);
        start = k->ends[i] + 1;
    }
    vb_release(k, vb); /* this loop's reference: frees vb if nothing was produced */
    if (prc)
        return prc;
    rd_kafka_poll(k->rk, 0);
    return 0;
}

/* wait for every delivery report (deadline: message.timeout.ms + margin) */
static void drain(kafka_sink *k, int64_t budget_ms)
{
    int64_t deadline = sp_clock_mono_ms() + budget_ms;
    while (k->acked + k->failed < k->produced && sp_clock_mono_ms() < deadline) {
        if (sp_cancelled(k->ctx->cancel))
            break;
        rd_kafka_flush(k->rk, 200);
    }
    rd_kafka_poll(k->rk, 0);
}

static void fill_result(kafka_sink *k, sp_run_result *res, uint64_t rows, uint64_t bytes)
{
    res->messages_acked = rows;
    res->written_rows = rows;
    res->written_bytes = bytes;
    char uri[1024];
    snprintf(uri, sizeof uri, "kafka://%s/%s", k->ctx->cfg->connection_name, k->topic);
    sp_run_result_add_object(res, uri, bytes, rows);
    if (k->warning && !res->warning) {
        res->warning = k->warning;
        k->warning = NULL;
    }
}

/* fence_tid: a new producer with transactional.id tid: its
 * init_transactions bumps the producer epoch, which makes the coordinator
 * abort the transaction the old producer left open (Kafka's fencing) */
static int fence_tid(const sp_sinkcfg *cfg, const char *pipe, const char *tid, sp_error *err)
{
    char es[512];
    rd_kafka_t *rk = new_producer(cfg, pipe, tid, NULL, es, sizeof es, NULL, err);
    if (!rk)
        return err && err->code ? err->code : SP_EDEF;
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, TXN_TIMEOUT_MS);
    int rc = 0;
    if (e) {
        rc = sp_error_set(err, SP_ESINK, err_flag(e),
                          "connection '%s': transactional.id '%s': init_transactions: %s",
                          cfg->connection_name, tid, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_destroy(rk);
    return rc;
}

static void fence(kafka_sink *k)
{
    char tid[300];
    snprintf(tid, sizeof tid, "sinkpipe-%s", k->pipe);
    if (!fence_tid(k->ctx->cfg, k->pipe, tid, NULL))
        sp_journal_done(k->ctx->journal, k->jid);
}

/* kf_recover: a dead run's open transaction (journal entry "store":
 * "kafka"): fence its transactional.id on cfg's connection, which makes the
 * coordinator abort it — unless a live run of the same pipe holds the id
 * (its own init_transactions already fenced the dead one) */
static int kf_recover(const sp_sinkcfg *cfg, const char *project_dir, const sp_leftover *l,
                      char *what, size_t whatsz, sp_error *err)
{
    const char *tid = json_string_value(json_object_get(l->entry, "transactional_id"));
    if (tid && sp_journal_live_has(project_dir, l->journal, "transactional_id", tid)) {
        snprintf(what, whatsz, "transactional.id %s: already fenced by a live run", tid);
        return 0;
    }
    if (!tid || !*tid)
        return sp_error_set(err, SP_EINVAL, 0, "journal entry names no transactional.id");
    int rc = fence_tid(cfg, tid, tid, err);
    if (!rc)
        snprintf(what, whatsz, "fenced transactional.id %s on connection '%s' (its open "
                 "transaction is aborted)", tid, cfg->connection_name);
    return rc;
}

static void txn_abort(kafka_sink *k)
{
    if (!k->txn_open)
        return;
    k->txn_open = 0;
    rd_kafka_error_t *e = rd_kafka_abort_transaction(k->rk, TXN_TIMEOUT_MS);
    for (int i = 0; e && err_flag(e) == SP_RETRIABLE && i < 5; i++) {
        rd_kafka_error_destroy(e);
        e = rd_kafka_abort_transaction(k->rk, TXN_TIMEOUT_MS);
    }
    if (!e)
        sp_journal_done(k->ctx->journal, k->jid);
    if (e) {
        /* the producer is fenced or in a fatal state: a new producer with
         * the same transactional.id makes the coordinator abort the open
         * transaction (Kafka's fencing) */
        rd_kafka_error_destroy(e);
        fence(k);
    }
}

static int kf_finish(sp_sink *base, sp_run_result *res, sp_error *err)
{
    kafka_sink *k = (kafka_sink *)base;
    k->done = 1;
    drain(k, k->msg_timeout_ms + 5000);
    int rc = 0;
    if (sp_cancelled(k->ctx->cancel) && k->acked < k->produced)
        rc = sp_error_set(err, SP_ECANCELLED, 0, "cancelled");
    else if (k->acked < k->produced)
        rc = sp_error_set_pipe(err, k->pipe, SP_ESINK,
                               k->failed ? resp_flag(k->first_err) : SP_RETRIABLE,
                          "pipe '%s': topic '%s': %llu of %llu messages acknowledged; first "
                          "error: %s%s",
                          k->pipe, k->topic, (unsigned long long)k->acked,
                          (unsigned long long)k->produced,
                          k->failed ? rd_kafka_err2str(k->first_err)
                                    : "delivery reports did not arrive in time",
                          k->txn ? "; the transaction is aborted: nothing was delivered" : "");
    if (k->txn) {
        if (!rc) {
            rd_kafka_error_t *e = rd_kafka_commit_transaction(k->rk, TXN_TIMEOUT_MS);
            k->txn_open = 0;
            if (!e)
                sp_journal_done(k->ctx->journal, k->jid);
            if (e) {
                rc = txn_error(k, "commit_transaction", e, err);
                k->txn_open = 1;
            }
        }
        if (rc) {
            txn_abort(k);
            fill_result(k, res, 0, 0); /* an aborted transaction delivers nothing */
            return rc;
        }
    } else if (rc) {
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_poll(k->rk, 0);
    }
    fill_result(k, res, k->acked, k->acked_bytes);
    return rc;
}

static void kf_abort(sp_sink *base, sp_run_result *res)
{
    kafka_sink *k = (kafka_sink *)base;
    if (k->done)
        return;
    k->done = 1;
    if (k->txn) {
        txn_abort(k);
        fill_result(k, res, 0, 0);
        return;
    }
    /* at-least-once: what is queued is dropped, what is in flight may still
     * be acknowledged; what was acknowledged stays */
    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE);
    drain(k, ABORT_DRAIN_MS);
    fill_result(k, res, k->acked, k->acked_bytes);
}

static void kf_free(sp_sink *base)
{
    kafka_sink *k = (kafka_sink *)base;
    if (!k)
        return;
    if (k->rk) {
        if (k->txn_open)
            txn_abort(k);
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(k->rk, 0);
        rd_kafka_destroy(k->rk);
    }
    /* librdkafka holds no message any more: what is still live was never
     * reported (destroyed with the handle) */
    while (k->live) {
        vbatch *n = k->live->next;
        free(k->live);
        k->live = n;
    }
    sp_buf_release(&k->vals);
    sp_buf_release(&k->key);
    free(k->ends);
    free(k->warning);
    free(k);
}

static int kf_serves(const sp_sinkcfg *cfg)
{
    return cfg->conn_type == SP_CONN_KAFKA;
}

static const char *kf_service(const sp_sinkcfg *cfg)
{
    (void)cfg;
    return "kafka";
}

const sp_sink_vt sp_sink_kafka = {
    .name = "kafka",
    .open = kf_open,
    .write = kf_write,
    .finish = kf_finish,
    .abort = kf_abort,
    .free = kf_free,
    .serves = kf_serves,
    .service = kf_service,
    .journal = "kafka",
    .recover = kf_recover,
};
