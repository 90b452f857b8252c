/* codec_write: compress stdin to stdout with a named codec, feeding the
 * codec in randomly sized writes (to exercise chunk boundaries).
 *
 *   codec_write [-l LEVEL] [-s SEED] [-c GZIP_CHUNK] [-m MAXWRITE] CODEC
 *
 * CODEC is a codec of the registry (none, gzip, snappy, zstd, lz4); writes
 * are 1..MAXWRITE bytes (default 200000), chosen by a xorshift generator seeded with SEED (default 1).
 * -c sets the gzip member size (default 1 MiB). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_buf.h"
#include "sp_codec.h"
#include "sp_codec_int.h"
#include "sp_error.h"

static int parse_size(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(1, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: codec_write [-l LEVEL] [-s SEED] [-c GZIP_CHUNK] "
                    "[-m MAXWRITE] CODEC\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long long level = 0, seed = 1, chunk = 0, maxw = 200000;
    int opt;
    while ((opt = getopt(argc, argv, "l:s:c:m:")) != -1) {
        unsigned long long *dst = opt == 'l' ? &level : opt == 's' ? &seed
                                : opt == 'c' ? &chunk : opt == 'm' ? &maxw : NULL;
        if (!dst || parse_size(optarg, dst) != 0)
            usage();
    }
    if (optind != argc - 1 || maxw == 0 || level > 100)
        usage();
    const sp_codec *c = sp_codec_find(argv[optind]);
    if (!c) {
        fprintf(stderr, "codec_write: unknown codec '%s' (expected %s)\n",
                argv[optind], sp_codec_names());
        return 2;
    }
    sp_error err = SP_ERROR_INIT;
    sp_codec_state *st = NULL;
    int rc = c == &sp_codec_gzip && chunk
                 ? sp__gzip_open_chunk(&st, (int)level, (size_t)chunk, &err)
                 : c->open(&st, (int)level, &err);
    if (rc) {
        fprintf(stderr, "codec_write: %s\n", err.msg);
        return 1;
    }
    uint64_t x = seed ? seed : 1;
    char *in = malloc(maxw);
    sp_buf out = SP_BUF_INIT(0);
    if (!in) {
        fprintf(stderr, "codec_write: out of memory\n");
        return 1;
    }
    for (;;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t want = 1 + (size_t)(x % maxw), got = 0;
        while (got < want) { /* fill the write completely unless at EOF */
            ssize_t k = read(0, in + got, want - got);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                perror("codec_write: read");
                return 1;
            }
            if (k == 0)
                break;
            got += (size_t)k;
        }
        if (got && (rc = c->write(st, in, got, &out, &err)))
            break;
        if (out.len >= (1u << 20) || got < want) {
            if (write_all(out.data, out.len)) {
                perror("codec_write: write");
                return 1;
            }
            sp_buf_reset(&out);
        }
        if (got < want)
            break;
    }
    if (rc == 0)
        rc = c->finish(st, &out, &err);
    if (rc == 0 && write_all(out.data ? out.data : "", out.len)) {
        perror("codec_write: write");
        return 1;
    }
    c->free(st);
    sp_buf_release(&out);
    free(in);
    if (rc) {
        fprintf(stderr, "codec_write: %s\n", err.msg);
        return 1;
    }
    return 0;
}
