/* suggest.h: "did you mean" for near-miss keys and enum values. */
#pragma once
#include <stddef.h>

/* pf_suggest: the candidate closest to s (edit distance with transpositions, case differences
 * free), if it is close enough to be a likely typo; else NULL. NULL entries are skipped. */
const char *pf_suggest(const char *s, const char *const *candidates, size_t n);

/* A message's "; did you mean \"NAME\"?" tail, nothing when near is NULL: PF_HINT_FMT where it
 * goes in the format, PF_HINT(near) there in the arguments. */
#define PF_HINT_FMT "%s%s%s"
#define PF_HINT(near) (near) ? "; did you mean \"" : "", (near) ? (near) : "", (near) ? "\"?" : ""
