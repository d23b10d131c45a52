#include "config.h"
#include "util/suggest.h"

#include <ctype.h>
#include <string.h>

enum { MAX_LEN = 64 };

/* Optimal string alignment distance; a change of case costs nothing, so "macaddress" finds
 * "macAddress". Inputs longer than MAX_LEN are never typos of our short keys. */
static size_t distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t d[MAX_LEN + 1][MAX_LEN + 1];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = tolower((unsigned char) a[i - 1]) != tolower((unsigned char) b[j - 1]);
                        size_t v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (d[i - 1][j - 1] + cost < v)
                                v = d[i - 1][j - 1] + cost;
                        if (i > 1 && j > 1 && tolower((unsigned char) a[i - 1]) == tolower((unsigned char) b[j - 2]) &&
                            tolower((unsigned char) a[i - 2]) == tolower((unsigned char) b[j - 1]) &&
                            d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        return d[la][lb];
}

const char *pf_suggest(const char *s, const char *const *candidates, size_t n) {
        size_t len = strlen(s);
        if (len == 0 || len > MAX_LEN)
                return NULL;
        const char *best = NULL;
        size_t best_d = (size_t) -1;
        for (size_t i = 0; i < n; i++) {
                const char *c = candidates[i];
                if (!c || strlen(c) > MAX_LEN)
                        continue;
                size_t dist = distance(s, c);
                if (dist < best_d) {
                        best_d = dist;
                        best = c;
                }
        }
        size_t limit = len >= 12 ? 3 : len >= 6 ? 2 : 1;
        if (best && best_d <= limit)
                return best;
        /* A longer or shorter spelling of the same word: "passthrough" for "passthru". */
        for (size_t i = 0; i < n; i++) {
                const char *c = candidates[i];
                if (!c)
                        continue;
                size_t cl = strlen(c), common = 0;
                while (common < cl && common < len && tolower((unsigned char) c[common]) == tolower((unsigned char) s[common]))
                        common++;
                size_t shorter = cl < len ? cl : len;
                if (common >= 5 && common + 1 >= shorter)
                        return c;
        }
        return NULL;
}
