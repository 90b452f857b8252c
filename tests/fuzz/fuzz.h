/* tests/fuzz/fuzz.h: shared helpers of the fuzz targets.
 *
 * Every fuzz_<target>.c defines the libFuzzer entry point below.  The same
 * file links either with libFuzzer (clang -fsanitize=fuzzer, `make fuzz`) or
 * with replay_main.c, a plain main() that runs saved inputs through it (the
 * test suite's replay of the corpora and crash reproducers).
 *
 * A target calls fz_check() for an invariant: a violation prints the reason
 * and aborts, which libFuzzer reports as a crash and the replay as a
 * failure. */
#ifndef SP_FUZZ_H
#define SP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fz_check(cond, ...)                                                   \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__,        \
                    __LINE__, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* fz_check_msg: an error record filled by a failure holds a one-line
 * message (the library's error contract). */
#define fz_check_msg(e)                                                       \
    fz_check((e)->code < 0 && (e)->msg[0] && !strchr((e)->msg, '\n'),         \
             "bad error record: code %d msg '%s'", (e)->code, (e)->msg)

/* fz_strndup: a NUL-terminated heap copy of n bytes (embedded NULs stay and
 * end the C string early); aborts on ENOMEM (a fuzz harness has no other
 * sensible reaction). */
static inline char *fz_strndup(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* fz_split: split data at NUL bytes into at most max parts, each a
 * NUL-terminated heap string (the last part takes the rest, NULs kept as
 * terminators).  Returns the number of parts (>= 1); free with fz_free_parts. */
static inline size_t fz_split(const uint8_t *data, size_t size, char **parts, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i < size && n + 1 < max; i++) {
        if (data[i] == '\0') {
            parts[n++] = fz_strndup(data + start, i - start);
            start = i + 1;
        }
    }
    parts[n++] = fz_strndup(data + start, size - start);
    return n;
}

static inline void fz_free_parts(char **parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
}

#endif
