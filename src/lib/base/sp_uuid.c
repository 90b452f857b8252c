/* sp_uuid: random (version 4) UUIDs for job ids. */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "sp_uuid.h"
#include "sp_banned.h"

void sp_uuid4(char out[40])
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            /* no entropy source: fall back to time and address bits */
            uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
            for (size_t i = got; i < sizeof r; i++, t = t * 6364136223846793005ull + 1)
                r[i] = (unsigned char)(t >> 33);
            break;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[r[i] >> 4];
        out[k++] = hex[r[i] & 15];
    }
    out[k] = '\0';
}
