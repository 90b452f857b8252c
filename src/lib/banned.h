/* banned.h: functions we never use (after git's banned.h).  Included by every
 * library and CLI source through the compiler's -include flag. */
#ifndef SP_BANNED_H
#define SP_BANNED_H

#define SP_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) SP_BANNED(strcpy)
#undef strcat
#define strcat(x, y) SP_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) SP_BANNED(strncpy)
#undef sprintf
#define sprintf(...) SP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SP_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) SP_BANNED(strtok)
#undef atoi
#define atoi(x) SP_BANNED(atoi)
#undef atol
#define atol(x) SP_BANNED(atol)
#undef gmtime
#define gmtime(x) SP_BANNED(gmtime)
#undef localtime
#define localtime(x) SP_BANNED(localtime)

#endif
