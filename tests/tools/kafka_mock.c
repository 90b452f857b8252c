/* kafka_mock — a Kafka broker for tests, on librdkafka's mock cluster.
 *
 *   kafka_mock [--brokers N] [--topic NAME[:PARTITIONS]]...
 *
 * Starts N (default 1) mock brokers on 127.0.0.1 on ephemeral ports (ids 1
 * to N), creates the topics (1 partition by default, replication factor
 * min(N, 3)), prints one line
 *
 *   bootstrap=127.0.0.1:PORT,127.0.0.1:PORT,...
 *
 * on stdout (flushed), then reads commands on stdin, one per line, and
 * answers each with one line, `ok` or `error <message>`:
 *
 *   topic NAME PARTITIONS     create a topic
 *   err APIKEY CODE COUNT     the next COUNT requests of APIKEY (a name such
 *                             as Produce, or its number) fail with CODE (an
 *                             error name without RD_KAFKA_RESP_ERR_, such as
 *                             NOT_LEADER_FOR_PARTITION, or its number)
 *   clear APIKEY              drop the errors still pushed for APIKEY
 *   down BROKERID             disconnect the broker and refuse connections
 *                             (-1: all brokers); leadership does not move
 *   up BROKERID               accept connections again
 *   rtt BROKERID MS           delay every response of the broker
 *   quit                      exit
 *
 * Blank lines and lines starting with '#' are ignored (no answer).  Exits
 * 0 on `quit`, stdin EOF, SIGTERM or SIGINT.
 *
 * Limits of the mock (librdkafka 2.0.2): no SASL, no SSL; each partition
 * keeps about 5 MiB / 100,000 message sets and drops older data silently;
 * topics are also auto-created by producers' metadata requests (with the
 * mock's default of 4 partitions). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: kafka_mock [--brokers N] [--topic NAME[:PARTITIONS]]...\n");
}

/* a decimal integer in [lo, hi]; -1 on anything else (with *ok = 0) */
static long parse_long(const char *s, long lo, long hi, int *ok)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        *ok = 0;
        return -1;
    }
    *ok = 1;
    return v;
}

/* Kafka protocol ApiKeys (the public header has no names for them) */
static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},           {"Fetch", 1},
    {"ListOffsets", 2},       {"Metadata", 3},
    {"OffsetCommit", 8},      {"OffsetFetch", 9},
    {"FindCoordinator", 10},  {"JoinGroup", 11},
    {"Heartbeat", 12},        {"LeaveGroup", 13},
    {"SyncGroup", 14},        {"DescribeGroups", 15},
    {"ListGroups", 16},       {"SaslHandshake", 17},
    {"ApiVersions", 18},      {"CreateTopics", 19},
    {"DeleteTopics", 20},     {"DeleteRecords", 21},
    {"InitProducerId", 22},   {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},           {"WriteTxnMarkers", 27},
    {"TxnOffsetCommit", 28},  {"DescribeConfigs", 32},
    {"AlterConfigs", 33},     {"SaslAuthenticate", 36},
};

static int api_key_of(const char *s, int16_t *out)
{
    for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
        if (strcasecmp(s, api_keys[i].name) == 0 ||
            (strncasecmp(s, api_keys[i].name, strlen(api_keys[i].name)) == 0 &&
             strcasecmp(s + strlen(api_keys[i].name), "Request") == 0)) {
            *out = api_keys[i].key;
            return 0;
        }
    int ok;
    long v = parse_long(s, 0, INT16_MAX, &ok);
    if (!ok)
        return -1;
    *out = (int16_t)v;
    return 0;
}

/* an error code by name (NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_…,
 * _TRANSPORT) or by number */
static int err_code_of(const char *s, rd_kafka_resp_err_t *out)
{
    static const char prefix[] = "RD_KAFKA_RESP_ERR_";
    if (strncasecmp(s, prefix, sizeof prefix - 1) == 0)
        s += sizeof prefix - 1;
    const struct rd_kafka_err_desc *descs = NULL;
    size_t n = 0;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++)
        if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
            *out = descs[i].code;
            return 0;
        }
    int ok;
    long v = parse_long(s, INT_MIN, INT_MAX, &ok);
    if (!ok)
        return -1;
    *out = (rd_kafka_resp_err_t)v;
    return 0;
}

static void answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void answer(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static int create_topic(rd_kafka_mock_cluster_t *mc, int brokers, const char *name,
                        int partitions)
{
    int rf = brokers < 3 ? brokers : 3;
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, partitions, rf);
    if (e) {
        answer("error topic '%s': %s", name, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

/* one command line (modified in place); returns 1 on quit */
static int command(rd_kafka_mock_cluster_t *mc, int brokers, char *line)
{
    char *argv[8];
    int argc = 0;
    for (char *p = line; *p && argc < 8;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            break;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        if (*p)
            *p++ = '\0';
    }
    if (argc == 0 || argv[0][0] == '#')
        return 0;
    const char *cmd = argv[0];
    int ok, ok2;
    if (strcmp(cmd, "quit") == 0 && argc == 1) {
        answer("ok");
        return 1;
    }
    if (strcmp(cmd, "topic") == 0 && argc == 3) {
        long parts = parse_long(argv[2], 1, 100000, &ok);
        if (!ok) {
            answer("error topic '%s': bad partition count '%s'", argv[1], argv[2]);
            return 0;
        }
        if (create_topic(mc, brokers, argv[1], (int)parts) == 0)
            answer("ok");
        return 0;
    }
    if ((strcmp(cmd, "err") == 0 && argc == 4) || (strcmp(cmd, "clear") == 0 && argc == 2)) {
        int16_t key;
        if (api_key_of(argv[1], &key) != 0) {
            answer("error unknown api key '%s'", argv[1]);
            return 0;
        }
        if (argc == 2) {
            rd_kafka_mock_clear_request_errors(mc, key);
            answer("ok");
            return 0;
        }
        rd_kafka_resp_err_t code;
        if (err_code_of(argv[2], &code) != 0) {
            answer("error unknown error code '%s'", argv[2]);
            return 0;
        }
        long cnt = parse_long(argv[3], 1, 1000000, &ok);
        if (!ok) {
            answer("error bad count '%s'", argv[3]);
            return 0;
        }
        rd_kafka_resp_err_t *errs = malloc((size_t)cnt * sizeof *errs);
        if (!errs) {
            answer("error out of memory");
            return 0;
        }
        for (long i = 0; i < cnt; i++)
            errs[i] = code;
        rd_kafka_mock_push_request_errors_array(mc, key, (size_t)cnt, errs);
        free(errs);
        answer("ok");
        return 0;
    }
    if ((strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) && argc == 2) {
        long id = parse_long(argv[1], -1, INT32_MAX, &ok);
        if (!ok) {
            answer("error bad broker id '%s'", argv[1]);
            return 0;
        }
        rd_kafka_resp_err_t e = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(mc, (int32_t)id)
                                              : rd_kafka_mock_broker_set_up(mc, (int32_t)id);
        if (e)
            answer("error broker %ld: %s", id, rd_kafka_err2str(e));
        else
            answer("ok");
        return 0;
    }
    if (strcmp(cmd, "rtt") == 0 && argc == 3) {
        long id = parse_long(argv[1], -1, INT32_MAX, &ok);
        long ms = parse_long(argv[2], 0, 3600000, &ok2);
        if (!ok || !ok2) {
            answer("error bad rtt arguments '%s %s'", argv[1], argv[2]);
            return 0;
        }
        rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms);
        if (e)
            answer("error broker %ld: %s", id, rd_kafka_err2str(e));
        else
            answer("ok");
        return 0;
    }
    answer("error unknown command '%s' (expected topic, err, clear, down, up, rtt, quit)", cmd);
    return 0;
}

/* read stdin line by line until quit, EOF or a signal */
static void serve(rd_kafka_mock_cluster_t *mc, int brokers)
{
    char buf[4096];
    size_t len = 0;
    int overlong = 0;
    while (!g_stop) {
        struct pollfd pfd = {.fd = 0, .events = POLLIN};
        int r = poll(&pfd, 1, 200);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (r == 0)
            continue;
        ssize_t n = read(0, buf + len, sizeof buf - 1 - len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return;
        }
        if (n == 0)
            return; /* EOF (an unterminated last line is ignored) */
        len += (size_t)n;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
            *nl = '\0';
            if (overlong) {
                overlong = 0;
                answer("error line too long");
            } else if (command(mc, brokers, start)) {
                return;
            }
            start = nl + 1;
        }
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
        if (len == sizeof buf - 1) { /* no newline in a full buffer */
            overlong = 1;
            len = 0;
        }
    }
}

int main(int argc, char **argv)
{
    int brokers = 1;
    const char *topics[256];
    int ntopics = 0;
    for (int i = 1; i < argc; i++) {
        int ok;
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            brokers = (int)parse_long(argv[++i], 1, 64, &ok);
            if (!ok) {
                fprintf(stderr, "kafka_mock: bad --brokers '%s' (1 to 64)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            if (ntopics == (int)(sizeof topics / sizeof topics[0])) {
                fprintf(stderr, "kafka_mock: too many --topic\n");
                return 2;
            }
            topics[ntopics++] = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        } else {
            usage();
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* the mock cluster needs an rd_kafka_t to own it; a producer with no
     * bootstrap servers that never produces will do */
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "kafka_mock: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "kafka_mock: cannot create the owner handle: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }

    int rc = 0;
    for (int i = 0; i < ntopics && rc == 0; i++) {
        char name[512];
        const char *colon = strrchr(topics[i], ':');
        size_t nlen = colon ? (size_t)(colon - topics[i]) : strlen(topics[i]);
        long parts = 1;
        int ok = 1;
        if (colon)
            parts = parse_long(colon + 1, 1, 100000, &ok);
        if (!ok || nlen == 0 || nlen >= sizeof name) {
            fprintf(stderr, "kafka_mock: bad --topic '%s' (NAME[:PARTITIONS])\n", topics[i]);
            rc = 2;
            break;
        }
        memcpy(name, topics[i], nlen);
        name[nlen] = '\0';
        int rf = brokers < 3 ? brokers : 3;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, (int)parts, rf);
        if (e) {
            fprintf(stderr, "kafka_mock: topic '%s': %s\n", name, rd_kafka_err2str(e));
            rc = 1;
        }
    }
    if (rc == 0) {
        printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        serve(mc, brokers);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
