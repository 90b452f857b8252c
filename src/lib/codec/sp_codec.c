/* sp_codec: the codec registry (SP_CODECS in sp_codec.h). */
#include "sp_codec.h"

#include <stdio.h>
#include <string.h>
#include "sp_banned.h"

#define SP_CODEC_PTR_(w) &sp_codec_##w,
static const sp_codec *const codecs[] = { SP_CODECS(SP_CODEC_PTR_) };

const sp_codec *sp_codec_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (strcmp(codecs[i]->name, name) == 0 ||
            (codecs[i]->alias && strcmp(codecs[i]->alias, name) == 0))
            return codecs[i];
    return NULL;
}

#define SP_CODEC_LISTED_(w) ", " #w
const char *sp_codec_names(void)
{
    return SP_CODECS(SP_CODEC_LISTED_) + 2; /* without the first ", " */
}

const char *sp_codec_aliases(char *buf, size_t bufsz)
{
    size_t n = 0;
    if (bufsz)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0] && n < bufsz; i++)
        if (codecs[i]->alias) {
            int k = snprintf(buf + n, bufsz - n, "%s%s", n ? ", " : "", codecs[i]->alias);
            if (k > 0)
                n += (size_t)k;
        }
    return buf;
}
