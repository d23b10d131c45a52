/* suggest.h: "did you mean" for near-miss keys and enum values. */
#pragma once
#include <stddef.h>

/* pf_suggest: the candidate closest to s (edit distance with transpositions, case differences
 * free), if it is close enough to be a likely typo; else NULL. NULL entries are skipped. */
const char *pf_suggest(const char *s, const char *const *candidates, size_t n);
