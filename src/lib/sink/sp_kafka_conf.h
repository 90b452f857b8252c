/* sp_kafka_conf: a Kafka connection's resolved settings as a librdkafka
 * producer configuration.
 *
 *   KAFKA_BOOTSTRAP_SERVERS  -> bootstrap.servers
 *   KAFKA_SECURITY_PROTOCOL  -> security.protocol
 *   KAFKA_SASL_MECHANISM     -> sasl.mechanisms        (SASL_* only)
 *   KAFKA_KEY / KAFKA_SECRET -> sasl.username / sasl.password (SASL_* only)
 *   KAFKA_SSL_CA_PEM         -> ssl.ca.pem             (SSL, SASL_SSL only)
 *   KAFKA_SCHEMA_REGISTRY_URL  accepted, unused by sinks
 *   KAFKA_PRODUCER_CONFIG    `key=value` lines, passed to librdkafka last
 *
 * Defaults set before the pass-through lines (which may override them):
 * enable.idempotence=true, acks=all, linger.ms=5, a bounded local queue
 * (queue.buffering.max.messages=100000, queue.buffering.max.kbytes=65536),
 * transaction.timeout.ms=900000 (a transactional run is one transaction);
 * compression.type=gzip without compression.level gets level 1.
 *
 * Error messages never include a configuration value that could be secret:
 * librdkafka's own text is surfaced only after the value has been cut out. */
#ifndef SP_KAFKA_CONF_H
#define SP_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "sp_error.h"
#include "sp_model.h"

/* Where a configuration error comes from, for `check` diagnostics. */
typedef struct sp_kafka_conf_where {
    const char *key; /* connection key (static text), "TYPE" for whole-config errors */
    int block_line;  /* KAFKA_PRODUCER_CONFIG: 1-based line in the block, else 0 */
    size_t reason;   /* where the reason starts in the message, after
                      * "connection 'x': KEY: " (0: the whole message) */
} sp_kafka_conf_where;

/* sp_kafka_conf_build: a new producer configuration for connection `conn`
 * (name, for messages) from its resolved settings `s`.  bootstrap: 0 leaves
 * bootstrap.servers unset (a handle made from it never connects: used by
 * check).  *out is owned by the caller (rd_kafka_conf_destroy, or given to
 * rd_kafka_new).  Errors: SP_EDEF `connection 'x': KEY: reason`, with *where
 * (may be NULL) naming the key; SP_EUNSUPPORTED for OAUTHBEARER with AWS. */
int sp_kafka_conf_build(const char *conn, const sp_settings *s, int bootstrap,
                        rd_kafka_conf_t **out, sp_kafka_conf_where *where, sp_error *err);

/* sp_kafka_conf_quiet: route librdkafka's log lines nowhere (the library
 * never prints); errors reach us through delivery reports and return codes. */
void sp_kafka_conf_quiet(rd_kafka_conf_t *conf);

#endif
