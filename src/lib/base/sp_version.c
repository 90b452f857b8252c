/* sp_version: the version the library was built as (sinkpipe.h). */
#include "sinkpipe.h"

#include <stddef.h>
#include "sp_banned.h"

const char *sp_version(int *number)
{
    if (number)
        *number = SINKPIPE_VERSION_NUMBER;
    return SINKPIPE_VERSION;
}
