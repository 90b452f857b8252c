/* sp_banned: functions this code base does not call, made compile errors
 * (after git's banned.h).  Every .c of the library and the CLI includes this
 * header last, after every system header (tests/lint.sh checks that): a call
 * then fails to compile with "sorry_<name>_is_a_banned_function" undeclared.
 *
 *   sprintf, vsprintf          no bound: snprintf, sp_buf_addf
 *   strcpy, strcat, strncpy,   no bound or no terminator: snprintf, memcpy
 *   strncat                    with a known length, sp_buf
 *   strtok                     hidden state: strtok_r, memchr, a scanner
 *   atoi, atol, atoll          no error: strtol/strtoll with end and errno
 *   gets                       no bound at all
 *   gmtime, localtime, ctime,  a static result shared by threads: gmtime_r,
 *   asctime                    localtime_r, sp_format's date helpers */
#ifndef SP_BANNED_H
#define SP_BANNED_H

#define SP_BANNED(func) sorry_##func##_is_a_banned_function

#undef sprintf
#define sprintf(...) SP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SP_BANNED(vsprintf)
#undef strcpy
#define strcpy(...) SP_BANNED(strcpy)
#undef strcat
#define strcat(...) SP_BANNED(strcat)
#undef strncpy
#define strncpy(...) SP_BANNED(strncpy)
#undef strncat
#define strncat(...) SP_BANNED(strncat)
#undef strtok
#define strtok(...) SP_BANNED(strtok)
#undef atoi
#define atoi(...) SP_BANNED(atoi)
#undef atol
#define atol(...) SP_BANNED(atol)
#undef atoll
#define atoll(...) SP_BANNED(atoll)
#undef gets
#define gets(...) SP_BANNED(gets)
#undef gmtime
#define gmtime(...) SP_BANNED(gmtime)
#undef localtime
#define localtime(...) SP_BANNED(localtime)
#undef ctime
#define ctime(...) SP_BANNED(ctime)
#undef asctime
#define asctime(...) SP_BANNED(asctime)

#endif
