/* sp_dtoa: shortest round-trip decimal text for doubles and floats, in the
 * form ClickHouse prints them (Ryu-style: the fewest digits that read back
 * as the same value; integers without ".0"; exponent form as ClickHouse
 * uses it for very large/small magnitudes; "inf", "-inf", "nan").
 * Hot path: no allocation, no locale. */
#ifndef SP_DTOA_H
#define SP_DTOA_H

#include <stddef.h>

#define SP_DTOA_BUFSIZE 32

/* Write the text into buf (>= SP_DTOA_BUFSIZE bytes), return its length.
 * No terminator is guaranteed. */
size_t sp_dtoa(double v, char *buf);
/* sp_digit_pairs: "00" "01" ... "99", the two digits of n at 2 * n: what
 * every integer, date and float writer uses to print two digits at once */
extern const char sp_digit_pairs[201];
size_t sp_ftoa(float v, char *buf);

#endif
