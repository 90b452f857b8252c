/* sp_codec: the codec registry.  A new codec is one new file plus one line
 * in `codecs` below. */
#include "sp_codec.h"

#include <string.h>

static const sp_codec *const codecs[] = {
    &sp_codec_none,
    &sp_codec_gzip,
    &sp_codec_snappy,
};

const sp_codec *sp_codec_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (strcmp(codecs[i]->name, name) == 0)
            return codecs[i];
    return NULL;
}

const char *sp_codec_names(void)
{
    return "none, gzip, snappy";
}
