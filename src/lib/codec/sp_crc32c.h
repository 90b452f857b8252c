/* sp_crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of the Snappy framing format and of S3's x-amz-checksum-crc32c.
 *
 * Same calling convention as zlib's crc32(): start with crc = 0 and feed the
 * data in any number of pieces; the pre/post inversion is done inside.
 *   sp_crc32c(0, "123456789", 9) == 0xE3069283
 * Uses the SSE4.2 crc32 instruction when the CPU has it, else a
 * slice-by-8 table (built once, under pthread_once).  Thread-safe. */
#ifndef SP_CRC32C_H
#define SP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* sp_crc32c: the CRC-32C of crc's data followed by n bytes at p (p may be
 * NULL when n == 0). */
uint32_t sp_crc32c(uint32_t crc, const void *p, size_t n);

/* sp_crc32c_sw: the portable table-driven path (for tests and benchmarks). */
uint32_t sp_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
