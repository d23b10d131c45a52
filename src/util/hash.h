/* hash.h: FNV-1a, 64 bits: stable names and marks derived from text (MACs podform assigns, the
 * hash of a desired definition, record file names). Not for anything an attacker chooses. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PF_FNV_OFFSET 0xcbf29ce484222325ULL
#define PF_FNV_PRIME 0x100000001b3ULL

static inline uint64_t pf_fnv1a(uint64_t h, const void *p, size_t n) {
        const unsigned char *s = p;
        for (size_t i = 0; i < n; i++) {
                h ^= s[i];
                h *= PF_FNV_PRIME;
        }
        return h;
}
