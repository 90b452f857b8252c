/* sp_kafka_conf: connection settings -> librdkafka configuration, and the
 * `check` of every Kafka connection (sp_project_check_kafka).
 * See sp_kafka_conf.h for the mapping and defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_kafka_conf.h"
#include "sp_secret.h"
#include "sp_banned.h"

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

void sp_kafka_conf_quiet(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, quiet_log);
}

/* property names whose values must never appear in a message */
static int sensitive(const char *prop)
{
    static const char *const words[] = { "password", "secret", "sasl.username",
                                         "oauthbearer.config", "ssl.key", "keystore",
                                         "token", "jaas", "credentials", NULL };
    for (size_t i = 0; words[i]; i++)
        if (strstr(prop, words[i]))
            return 1;
    return 0;
}

static const sp_setting *setting(const sp_settings *s, const char *key)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (strcmp(s->v[i].key, key) == 0)
            return &s->v[i];
    return NULL;
}

/* where_set: the error about to be set reads "connection 'conn': key: …" */
static void where_set(sp_kafka_conf_where *w, const char *conn, const char *key, int line)
{
    if (w) {
        w->key = key;
        w->block_line = line;
        w->reason = sp_error_head_len(conn, key, ": ");
    }
}

/* set one property; on failure the message names the connection key (and
 * the block line), carries librdkafka's reason with the value cut out */
static int set(rd_kafka_conf_t *conf, const char *conn, const char *key, int line,
               const char *prop, const char *val, int secret, sp_kafka_conf_where *w,
               sp_error *err)
{
    char es[512];
    if (rd_kafka_conf_set(conf, prop, val, es, sizeof es) == RD_KAFKA_CONF_OK)
        return 0;
    /* registered secrets go (sp_secret.h), and a sensitive property's value
     * written in clear in KAFKA_PRODUCER_CONFIG */
    sp_secret_scrub(es, sizeof es, secret || sensitive(prop) ? val : NULL);
    where_set(w, conn, key, line);
    if (line)
        return sp_error_set(err, SP_EDEF, 0, "connection '%s': %s: line %d: %s", conn, key,
                            line, es);
    return sp_error_set(err, SP_EDEF, 0, "connection '%s': %s: %s", conn, key, es);
}

static char *trim(char *a, char *z)
{
    while (a < z && (*a == ' ' || *a == '\t' || *a == '\r'))
        a++;
    while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '\r'))
        z--;
    *z = '\0';
    return a;
}

/* KAFKA_PRODUCER_CONFIG: `key=value` lines; blank lines and # comments skipped */
static int producer_lines(rd_kafka_conf_t *conf, const char *conn, const sp_setting *pc,
                          int *level_set, sp_kafka_conf_where *w, sp_error *err)
{
    char *text = strdup(pc->value);
    if (!text)
        return sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory", conn);
    int rc = 0, line = 0;
    char *p = text;
    while (!rc && p) {
        line++;
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        char *next = nl ? nl + 1 : NULL;
        char *l = trim(p, end);
        p = next;
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq || eq == l) {
            where_set(w, conn, "KAFKA_PRODUCER_CONFIG", line);
            rc = sp_error_set(err, SP_EDEF, 0,
                              "connection '%s': KAFKA_PRODUCER_CONFIG: line %d: expected "
                              "key=value",
                              conn, line);
            break;
        }
        char *k = trim(l, eq);
        char *v = trim(eq + 1, eq + 1 + strlen(eq + 1));
        if (!strcmp(k, "compression.level"))
            *level_set = 1;
        rc = set(conf, conn, "KAFKA_PRODUCER_CONFIG", line, k, v, pc->secret, w, err);
    }
    memset(text, 0, strlen(pc->value));
    free(text);
    return rc;
}

int sp_kafka_conf_build(const char *conn, const sp_settings *s, int bootstrap,
                        rd_kafka_conf_t **out, sp_kafka_conf_where *w, sp_error *err)
{
    *out = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf)
        return sp_error_set(err, SP_ENOMEM, 0, "connection '%s': out of memory", conn);
    sp_kafka_conf_quiet(conf);
    const char *proto = sp_settings_get(s, "KAFKA_SECURITY_PROTOCOL");
    const char *mech = sp_settings_get(s, "KAFKA_SASL_MECHANISM");
    const char *boot = sp_settings_get(s, "KAFKA_BOOTSTRAP_SERVERS");
    const char *ometh = sp_settings_get(s, "KAFKA_SASL_OAUTHBEARER_METHOD");
    if (!proto)
        proto = "SASL_SSL";
    int sasl = !strncasecmp(proto, "SASL_", 5);
    int ssl = !strcasecmp(proto, "SSL") || !strcasecmp(proto, "SASL_SSL");
    int rc = 0;
    if (bootstrap && (!boot || !*boot)) {
        where_set(w, conn, "KAFKA_BOOTSTRAP_SERVERS", 0);
        rc = sp_error_set(err, SP_EDEF, 0,
                          "connection '%s': KAFKA_BOOTSTRAP_SERVERS: required key is missing",
                          conn);
    }
    if (!rc && sasl && mech && !strcasecmp(mech, "OAUTHBEARER") && ometh &&
        !strcasecmp(ometh, "AWS")) {
        where_set(w, conn, "KAFKA_SASL_OAUTHBEARER_METHOD", 0);
        rc = sp_error_set(err, SP_EUNSUPPORTED, 0,
                          "connection '%s': KAFKA_SASL_OAUTHBEARER_METHOD: AWS (MSK IAM) "
                          "token refresh is not supported by this build (use SCRAM, or "
                          "OAUTHBEARER OIDC through KAFKA_PRODUCER_CONFIG)",
                          conn);
    }
    /* defaults first: the pass-through lines may override them */
    static const char *const dflt[][2] = {
        { "enable.idempotence", "true" },
        { "acks", "all" },
        { "linger.ms", "5" },
        { "queue.buffering.max.messages", "100000" },
        { "queue.buffering.max.kbytes", "65536" },
        /* a transactional run is one transaction: the broker's default
         * ceiling (transaction.max.timeout.ms) rather than librdkafka's 60 s */
        { "transaction.timeout.ms", "900000" },
    };
    for (size_t i = 0; !rc && i < sizeof dflt / sizeof dflt[0]; i++)
        rc = set(conf, conn, "TYPE", 0, dflt[i][0], dflt[i][1], 0, w, err);
    if (!rc && bootstrap)
        rc = set(conf, conn, "KAFKA_BOOTSTRAP_SERVERS", 0, "bootstrap.servers", boot, 0, w,
                 err);
    if (!rc)
        rc = set(conf, conn, "KAFKA_SECURITY_PROTOCOL", 0, "security.protocol", proto, 0, w,
                 err);
    if (!rc && sasl && mech)
        rc = set(conf, conn, "KAFKA_SASL_MECHANISM", 0, "sasl.mechanisms", mech, 0, w, err);
    const sp_setting *user = setting(s, "KAFKA_KEY");
    const sp_setting *pass = setting(s, "KAFKA_SECRET");
    if (!rc && sasl && user && user->value)
        rc = set(conf, conn, "KAFKA_KEY", 0, "sasl.username", user->value, 1, w, err);
    if (!rc && sasl && pass && pass->value)
        rc = set(conf, conn, "KAFKA_SECRET", 0, "sasl.password", pass->value, 1, w, err);
    const sp_setting *ca = setting(s, "KAFKA_SSL_CA_PEM");
    if (!rc && ssl && ca && ca->value && *ca->value)
        rc = set(conf, conn, "KAFKA_SSL_CA_PEM", 0, "ssl.ca.pem", ca->value, ca->secret, w,
                 err);
    int level_set = 0;
    const sp_setting *pc = setting(s, "KAFKA_PRODUCER_CONFIG");
    if (!rc && pc && pc->value)
        rc = producer_lines(conf, conn, pc, &level_set, w, err);
    if (!rc && !level_set) {
        char ct[32];
        size_t n = sizeof ct;
        if (rd_kafka_conf_get(conf, "compression.type", ct, &n) == RD_KAFKA_CONF_OK &&
            !strcmp(ct, "gzip"))
            rc = set(conf, conn, "KAFKA_PRODUCER_CONFIG", 0, "compression.level", "1", 0, w,
                     err);
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    *out = conf;
    return 0;
}

/* ------------------------------------------------------------- the check */

static void diag(sp_project *p, const sp_connection *c, const sp_kafka_conf_where *w,
                 const char *msg)
{
    const char *key = w->key ? w->key : "TYPE";
    const sp_kv *kv = sp_kvlist_find(&c->keys, key);
    int line = kv ? kv->line : c->type_line;
    char where[600];
    sp_model_where(where, sizeof where, c->path, c->name, line, key);
    /* the message reads "connection 'x': KEY: reason": keep the reason */
    const char *reason = w->reason < strlen(msg) ? msg + w->reason : msg;
    char text[sizeof where + 1100];
    snprintf(text, sizeof text, "%s: %s", where, reason);
    sp_project_add_diag_at(p, c->path, line, key, SP_EDEF, text);
}

/* accepted_without: 1 when librdkafka accepts the configuration built
 * from s without `key` */
static int accepted_without(const char *conn, const sp_settings *s, const char *key)
{
    sp_setting v[64];
    sp_settings less = { v, 0 };
    for (size_t i = 0; i < s->n && less.n < sizeof v / sizeof v[0]; i++)
        if (strcmp(s->v[i].key, key))
            v[less.n++] = s->v[i];
    rd_kafka_conf_t *conf = NULL;
    if (less.n != s->n - 1 || sp_kafka_conf_build(conn, &less, 0, &conf, NULL, NULL))
        return 0;
    char es[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return 0;
    }
    rd_kafka_destroy(rk);
    return 1;
}

/* rejected_key: the key to show a configuration librdkafka refuses under:
 * the TLS CA or the SASL mechanism when the configuration passes without
 * it (found by trying, never by reading librdkafka's message), else
 * KAFKA_PRODUCER_CONFIG when set, else TYPE */
static const char *rejected_key(const sp_connection *c, const sp_settings *s)
{
    static const char *const suspects[] = { "KAFKA_SSL_CA_PEM", "KAFKA_SASL_MECHANISM" };
    for (size_t i = 0; i < sizeof suspects / sizeof suspects[0]; i++)
        if (sp_kvlist_find(&c->keys, suspects[i]) && accepted_without(c->name, s, suspects[i]))
            return suspects[i];
    return sp_kvlist_find(&c->keys, "KAFKA_PRODUCER_CONFIG") ? "KAFKA_PRODUCER_CONFIG" : "TYPE";
}

int sp_project_check_kafka(sp_project *p, sp_error *err)
{
    const sp_env *env = NULL;
    int rc = sp_project_env(p, &env, err);
    if (rc)
        return rc;
    int bad = 0;
    for (size_t i = 0; i < p->nconns; i++) {
        const sp_connection *c = p->conns[i];
        if (c->type != SP_CONN_KAFKA)
            continue;
        sp_settings s;
        sp_error e = SP_ERROR_INIT;
        if (sp_connection_resolve(c, env, &s, &e) != 0)
            continue; /* missing secrets: sp_project_check_secrets reports them */
        rd_kafka_conf_t *conf = NULL;
        sp_kafka_conf_where w = { NULL, 0, 0 };
        if (sp_kafka_conf_build(c->name, &s, 0, &conf, &w, &e) != 0) {
            diag(p, c, &w, e.msg);
            bad++;
        } else {
            /* no bootstrap servers: the handle validates the whole
             * configuration (TLS material, SASL, idempotence) and never
             * connects */
            char es[512];
            rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof es);
            if (!rk) {
                rd_kafka_conf_destroy(conf);
                for (size_t k = 0; k < s.n; k++)
                    if (s.v[k].secret)
                        sp_secret_scrub(es, sizeof es, s.v[k].value);
                char msg[700];
                snprintf(msg, sizeof msg, "librdkafka rejects the configuration: %s", es);
                w.key = rejected_key(c, &s);
                diag(p, c, &w, msg);
                bad++;
            } else {
                rd_kafka_destroy(rk);
            }
        }
        sp_settings_release(&s);
    }
    if (bad)
        return sp_error_set(err, SP_EDEF, 0, "%d kafka connection%s with configuration errors",
                            bad, bad == 1 ? "" : "s");
    return 0;
}
