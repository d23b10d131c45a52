/* parse.c: YAML nodes -> values, through one table-driven walker.
 *
 * The walker reports unknown keys (with "did you mean"), duplicate keys, wrong types and bad
 * values, and keeps going so that one run reports every error. Checks that involve more than
 * one field live in validate.c. */
#include "config.h"
#include "config/walk.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/values.h"
#include "model/names.h"
#include "util/suggest.h"
#include "util/xalloc.h"

_Static_assert(sizeof(pf_kind) == sizeof(int), "enums are stored as int");

const char *pf_cfg_type_name(const pf_node *n) {
        if (pf_node_is_null(n))
                return "empty";
        switch (n->type) {
        case PF_NODE_MAPPING: return "a mapping";
        case PF_NODE_SEQUENCE: return "a sequence";
        default: return "a scalar";
        }
}

bool pf_cfg_has_key(const pf_node *n, const char *key) {
        for (size_t i = 0; n->type == PF_NODE_MAPPING && i < n->n; i++)
                if (n->items[2 * i]->type == PF_NODE_SCALAR && strcmp(n->items[2 * i]->value, key) == 0)
                        return true;
        return false;
}

/* Every node entered counts against the document's budget, which aliases cannot escape. */
bool pf_cfg_visit(walk *w) {
        if (++w->visits <= w->budget)
                return true;
        if (!w->over_budget) {
                w->over_budget = true;
                pf_error(D(w), w->doc_loc,
                         "document expands to more than %llu nodes through YAML aliases; "
                         "aliases may not be used to build large structures",
                         (unsigned long long) w->budget);
        }
        return false;
}

/* ---- scalars ---- */

/* How a message names the value of field f: "ports", or each entry of "ports". */
static const char *label(const field *f, char *buf, size_t size) {
        snprintf(buf, size, f->entry ? "each entry of \"%s\"" : "\"%s\"", f->key);
        return buf;
}

/* The text of a scalar node, or NULL after an error that says what was expected. */
const char *pf_cfg_scalar(walk *w, const pf_node *n, const field *f, const char *expected) {
        char l[96];
        if (n->type != PF_NODE_SCALAR || pf_node_is_null(n)) {
                pf_error(D(w), loc_of(w, n), "%s must be %s, not %s", label(f, l, sizeof(l)), expected, pf_cfg_type_name(n));
                return NULL;
        }
        if (memchr(n->value, '\0', n->len)) {
                pf_error(D(w), loc_of(w, n), "%s contains a NUL byte", label(f, l, sizeof(l)));
                return NULL;
        }
        return n->value;
}

bool pf_cfg_value_error(walk *w, const pf_node *n, const field *f, const char *why) {
        char q[PF_QUOTE_MAX];
        pf_quote(q, sizeof(q), n->value, n->len);
        if (f->entry)
                pf_error(D(w), loc_of(w, n), "%s in %s %s", q, f->key, why);
        else
                pf_error(D(w), loc_of(w, n), "%s %s %s", f->key, q, why);
        return false;
}

bool p_string(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = pf_cfg_scalar(w, n, f, "a string");
        if (!s)
                return false;
        *(const char **) at(base, f->offset) = s;
        set_loc(w, n, base, f);
        return true;
}

static bool checked_string(walk *w, const pf_node *n, void *base, const field *f,
                           const char *(*check)(const char *, size_t)) {
        const char *s = pf_cfg_scalar(w, n, f, "a string");
        if (!s)
                return false;
        const char *why = check(s, n->len);
        if (why)
                return pf_cfg_value_error(w, n, f, why);
        *(const char **) at(base, f->offset) = s;
        set_loc(w, n, base, f);
        return true;
}

bool p_name(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, pf_check_name);
}

bool p_ifname(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, pf_check_ifname);
}

bool p_host_or_ip(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, pf_check_host_or_ip);
}

static const char *check_abspath(const char *s, size_t len) {
        if (s[0] != '/')
                return "is not an absolute path";
        if (len > 4095)
                return "is longer than PATH_MAX";
        return NULL;
}

bool p_abspath(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, check_abspath);
}

static const char *check_api_version(const char *s, size_t len) {
        (void) len;
        return strcmp(s, "podform/v1") == 0 ? NULL : "is not supported: this podform reads podform/v1";
}

bool p_api_version(walk *w, const pf_node *n, void *base, const field *f) {
        return checked_string(w, n, base, f, check_api_version);
}

bool p_bool(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = pf_cfg_scalar(w, n, f, "true or false");
        if (!s)
                return false;
        bool v;
        if (n->plain && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
                v = true;
        else if (n->plain && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
                v = false;
        else
                return pf_cfg_value_error(w, n, f, "is not a boolean: write true or false (unquoted)");
        *(bool *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

bool p_uint(walk *w, const pf_node *n, void *base, const field *f) {
        const range *r = f->arg;
        const char *s = pf_cfg_scalar(w, n, f, "an integer");
        if (!s)
                return false;
        uint64_t v = 0;
        bool ok = n->plain && *s;
        for (const char *p = s; ok && *p; p++) {
                if (*p < '0' || *p > '9')
                        ok = false;
                else if (v <= r->max)   /* past max it is out of range; stop counting */
                        v = v * 10 + (uint64_t) (*p - '0');
        }
        char why[96];
        if (!ok || v < r->min || v > r->max) {
                snprintf(why, sizeof(why), "%s: expected an integer from %llu to %llu",
                         ok ? "is out of range" : "is not an integer",
                         (unsigned long long) r->min, (unsigned long long) r->max);
                return pf_cfg_value_error(w, n, f, why);
        }
        *(unsigned *) at(base, f->offset) = (unsigned) v;
        set_loc(w, n, base, f);
        return true;
}

bool p_double(walk *w, const pf_node *n, void *base, const field *f) {
        const drange *r = f->arg;
        const char *s = pf_cfg_scalar(w, n, f, "a number");
        if (!s)
                return false;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        char why[96];
        if (!n->plain || end == s || *end || errno || !isfinite(v) || v <= r->min || v > r->max) {
                snprintf(why, sizeof(why), "is not a valid ratio: expected a number above %g and at most %g",
                         r->min, r->max);
                return pf_cfg_value_error(w, n, f, why);
        }
        *(double *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

bool pf_cfg_enum_value(walk *w, const pf_node *n, const pf_enum *e, const char *s, int *ret) {
        int v = pf_enum_lookup(e, s);
        if (v >= 0) {
                *ret = v;
                return true;
        }
        char q[PF_QUOTE_MAX];
        const char *hint = pf_suggest(s, e->names, e->n);
        if (hint) {
                pf_error(D(w), loc_of(w, n), "unknown %s %s; did you mean \"%s\"?", e->what,
                         pf_quote(q, sizeof(q), s, n->len), hint);
        } else {
                char list[256] = "";
                for (size_t i = 0; i < e->n; i++) {
                        if (!e->names[i])
                                continue;
                        if (*list)
                                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                        strncat(list, e->names[i], sizeof(list) - strlen(list) - 1);
                }
                pf_error(D(w), loc_of(w, n), "unknown %s %s; expected one of: %s", e->what,
                         pf_quote(q, sizeof(q), s, n->len), list);
        }
        return false;
}

bool p_enum(walk *w, const pf_node *n, void *base, const field *f) {
        const pf_enum *e = f->arg;
        const char *s = pf_cfg_scalar(w, n, f, "a string");
        int v = 0;
        if (!s || !pf_cfg_enum_value(w, n, e, s, &v))
                return false;
        *(int *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

#define VALUE_PARSER(fname, type, call)                                          \
        bool fname(walk *w, const pf_node *n, void *base, const field *f) { \
                const char *s = pf_cfg_scalar(w, n, f, "a string");                     \
                if (!s)                                                          \
                        return false;                                            \
                type v = { 0 };                                                  \
                const char *why = call;                                          \
                if (why)                                                         \
                        return pf_cfg_value_error(w, n, f, why);                        \
                *(type *) at(base, f->offset) = v;                               \
                set_loc(w, n, base, f);                                          \
                return true;                                                     \
        }
VALUE_PARSER(p_mac, pf_mac, pf_parse_mac(s, &v))
VALUE_PARSER(p_pci, pf_pci, pf_parse_pci(s, &v))
VALUE_PARSER(p_ip, pf_ip, pf_parse_ip(s, &v))
VALUE_PARSER(p_host_cidr, pf_cidr, pf_parse_cidr(s, false, &v))
VALUE_PARSER(p_ip_range, pf_ip_range, pf_parse_ip_range(s, &v))

/* A network CIDR: host bits set is the classic slip, so the message names the network. */
bool p_net_cidr(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = pf_cfg_scalar(w, n, f, "a string");
        if (!s)
                return false;
        pf_cidr v;
        const char *why = pf_parse_cidr(s, true, &v);
        if (why && !pf_parse_cidr(s, false, &v)) {
                char net[64], msg[128];
                pf_cidr nw = pf_cidr_network(&v);
                snprintf(msg, sizeof(msg), "has host bits set; did you mean \"%s\"?", pf_cidr_format(&nw, net));
                return pf_cfg_value_error(w, n, f, msg);
        }
        if (why)
                return pf_cfg_value_error(w, n, f, why);
        *(pf_cidr *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

bool p_quantity(walk *w, const pf_node *n, void *base, const field *f) {
        const char *s = pf_cfg_scalar(w, n, f, "a quantity like 2Gi");
        if (!s)
                return false;
        uint64_t v;
        const char *why = pf_parse_quantity(s, &v);
        if (why && strstr(why, "no unit")) {
                char msg[160];
                const char *unit = f->arg ? f->arg : "Gi";
                snprintf(msg, sizeof(msg), "has no unit; a bare number is ambiguous: write %.20s%s (binary) or %.20s%c (decimal)",
                         s, unit, s, unit[0]);
                return pf_cfg_value_error(w, n, f, msg);
        }
        if (why)
                return pf_cfg_value_error(w, n, f, why);
        *(uint64_t *) at(base, f->offset) = v;
        set_loc(w, n, base, f);
        return true;
}

/* ---- collections ---- */

/* Where a collection is reported: at its key ("nat:"), or for a list entry, at the entry. */
static pf_loc collection_loc(const walk *w, const pf_node *n) {
        return pf_loc_set(w->key_loc) ? w->key_loc : loc_of(w, n);
}

bool p_map(walk *w, const pf_node *n, void *base, const field *f) {
        pf_loc here = collection_loc(w, n);
        if (f->loc_offset != NOLOC)
                *(pf_loc *) at(base, f->loc_offset) = here;
        char l[96];
        return pf_cfg_walk_table(w, n, at(base, f->offset), f->arg, label(f, l, sizeof(l)), here);
}

bool p_seq(walk *w, const pf_node *n, void *base, const field *f) {
        const seq *s = f->arg;
        pf_loc here = collection_loc(w, n);
        if (pf_node_is_null(n)) {
                if (f->loc_offset != NOLOC)
                        *(pf_loc *) at(base, f->loc_offset) = here;
                return true;
        }
        if (n->type != PF_NODE_SEQUENCE) {
                char l[96];
                pf_error(D(w), loc_of(w, n), "%s must be a sequence, not %s", label(f, l, sizeof(l)), pf_cfg_type_name(n));
                return false;
        }
        if (f->loc_offset != NOLOC)
                *(pf_loc *) at(base, f->loc_offset) = here;
        char *v = pf_arena_array(&w->cfg->arena, n->n, s->elem_size);
        field ef = { .key = f->key, .parse = s->parse, .offset = 0, .loc_offset = s->elem_loc, .arg = s->arg, .entry = true };
        bool ok = true;
        size_t kept = 0;
        for (size_t i = 0; i < n->n && pf_cfg_visit(w); i++) {
                w->key_loc = (pf_loc) { 0 };
                char *elem = v + kept * s->elem_size;
                bool elem_ok = ef.parse(w, n->items[i], elem, &ef);
                ok &= elem_ok;
                /* A scalar entry that failed holds nothing; a mapping keeps what did parse, so
                 * that one bad key does not make its siblings look missing. */
                if (elem_ok || n->items[i]->type == PF_NODE_MAPPING)
                        kept++;
                else
                        memset(elem, 0, s->elem_size);
        }
        struct { void *v; size_t n; } list = { v, kept };
        memcpy(at(base, f->offset), &list, sizeof(list));
        return ok;
}

bool p_choice(walk *w, const pf_node *n, void *base, const field *f) {
        const choice *c = f->arg;
        int *value = at(base, c->value_offset);
        pf_loc *value_loc = at(base, c->value_loc_offset);
        pf_loc key = collection_loc(w, n);
        if (*value != 0) {
                pf_error(D(w), key, "%s has a second %s \"%s\" (line %u already gives one); keep only one",
                         c->owner, c->group, f->key, value_loc->line);
                return false;
        }
        *value = c->value;
        *value_loc = key;
        if (!c->parse) {
                static const table empty = { .what = NULL, .n = 0, .self_loc = NOLOC };
                char l[96];
                return pf_cfg_walk_table(w, n, base, &empty, label(f, l, sizeof(l)), key);
        }
        field inner = *f;
        inner.parse = c->parse;
        inner.arg = c->arg;
        return inner.parse(w, n, base, &inner);
}

static int label_cmp(const void *a, const void *b) {
        const pf_label *x = *(pf_label *const *) a, *y = *(pf_label *const *) b;
        int r = strcmp(x->key, y->key);
        if (r)
                return r;
        if (x->loc.line != y->loc.line)
                return x->loc.line < y->loc.line ? -1 : 1;
        return x->loc.col < y->loc.col ? -1 : x->loc.col > y->loc.col;
}

bool p_labels(walk *w, const pf_node *n, void *base, const field *f) {
        if (pf_node_is_null(n))
                return true;
        if (n->type != PF_NODE_MAPPING) {
                pf_error(D(w), loc_of(w, n), "\"%s\" must be a mapping of strings, not %s", f->key, pf_cfg_type_name(n));
                return false;
        }
        set_loc(w, n, base, f);
        pf_label *v = pf_arena_array(&w->cfg->arena, n->n, sizeof(*v));
        size_t k = 0;
        bool ok = true;
        for (size_t i = 0; i < n->n && pf_cfg_visit(w); i++) {
                const pf_node *key = n->items[2 * i], *val = n->items[2 * i + 1];
                field kf = { .key = "label key" }, vf = { .key = "label value" };
                const char *ks = pf_cfg_scalar(w, key, &kf, "a string");
                const char *vs = pf_cfg_scalar(w, val, &vf, "a string");
                if (!ks || !vs) {
                        ok = false;
                        continue;
                }
                v[k++] = (pf_label) { ks, vs, loc_of(w, key) };
        }
        /* Duplicate keys: compare neighbours after a sort, O(n log n) for large label sets. */
        pf_label **sorted = pf_xcalloc(k, sizeof(*sorted));
        for (size_t i = 0; i < k; i++)
                sorted[i] = &v[i];
        qsort(sorted, k, sizeof(*sorted), label_cmp);
        for (size_t i = 1; i < k; i++)
                if (strcmp(sorted[i]->key, sorted[i - 1]->key) == 0) {
                        const pf_label *first = sorted[i - 1], *again = sorted[i];
                        char q[PF_QUOTE_MAX];
                        pf_error(D(w), again->loc, "duplicate label %s (first given at line %u)",
                                 pf_quote(q, sizeof(q), again->key, strlen(again->key)), first->loc.line);
                        ok = false;
                }
        free(sorted);
        struct { void *v; size_t n; } list = { v, k };
        memcpy(at(base, f->offset), &list, sizeof(list));
        return ok;
}

/* What a walk of one mapping has seen so far, by field index (a table has at most 64 keys). */
typedef struct keys_seen {
        uint32_t first_line[64];
        uint64_t seen, suggested;       /* given; named in a "did you mean" */
} keys_seen;

/* An unknown key k of t: an error with a suggestion, or with the list of keys. */
static void unknown_key(walk *w, const pf_node *k, const table *t, const char *what, const char *q,
                        keys_seen *ks) {
        if (strcmp(k->value, "<<") == 0) {
                pf_error(D(w), loc_of(w, k),
                         "YAML merge keys (\"<<\") are not supported; write the keys out, or alias a whole value");
                return;
        }
        if (t->n == 0) {
                pf_error(D(w), loc_of(w, k), "unknown key %s: %s takes no keys; write {}", q, what);
                return;
        }
        const char *names[64];
        for (size_t x = 0; x < t->n; x++)
                names[x] = t->fields[x].key;
        const char *hint = pf_suggest(k->value, names, t->n);
        if (hint) {
                pf_error(D(w), loc_of(w, k), "unknown key %s in %s; did you mean \"%s\"?", q, t->what, hint);
                for (size_t x = 0; x < t->n; x++)
                        if (names[x] == hint)
                                ks->suggested |= 1ULL << x;
                return;
        }
        char list[512] = "";
        for (size_t x = 0; x < t->n; x++) {
                if (x)
                        strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                strncat(list, names[x], sizeof(list) - strlen(list) - 1);
        }
        pf_error(D(w), loc_of(w, k), "unknown key %s in %s; expected one of: %s", q, t->what, list);
}

/* One pair k: v of the mapping: checks the key, then parses the value into base. */
static bool walk_pair(walk *w, const pf_node *k, const pf_node *v, void *base, const table *t,
                      const char *what, keys_seen *ks) {
        if (k->type != PF_NODE_SCALAR || pf_node_is_null(k)) {
                pf_error(D(w), loc_of(w, k), "mapping keys must be strings, not %s", pf_cfg_type_name(k));
                return false;
        }
        size_t j = 0;
        while (j < t->n && strcmp(t->fields[j].key, k->value) != 0)
                j++;
        char q[PF_QUOTE_MAX];
        if (j == t->n || (ks->seen & (1ULL << j)))      /* quoted only for the messages below */
                pf_quote(q, sizeof(q), k->value, k->len);
        if (j == t->n) {
                unknown_key(w, k, t, what, q, ks);
                return false;
        }
        if (ks->seen & (1ULL << j)) {
                pf_error(D(w), loc_of(w, k), "duplicate key %s (first given at line %u)", q, ks->first_line[j]);
                return false;
        }
        ks->seen |= 1ULL << j;
        ks->first_line[j] = k->line;
        w->key_loc = loc_of(w, k);
        return t->fields[j].parse(w, v, base, &t->fields[j]);
}

bool pf_cfg_walk_table(walk *w, const pf_node *n, void *base, const table *t, const char *what, pf_loc here) {
        bool ok = true;
        if (!pf_node_is_null(n) && n->type != PF_NODE_MAPPING) {
                pf_error(D(w), loc_of(w, n), "%s must be a mapping, not %s", what, pf_cfg_type_name(n));
                return false;
        }
        if (t->self_loc != NOLOC)
                *(pf_loc *) at(base, t->self_loc) = here;
        keys_seen ks = { { 0 }, 0, 0 };
        size_t pairs = n->type == PF_NODE_MAPPING ? n->n : 0;
        for (size_t i = 0; i < pairs && pf_cfg_visit(w); i++)
                ok &= walk_pair(w, n->items[2 * i], n->items[2 * i + 1], base, t, what, &ks);
        /* A misspelt required key has had its "did you mean"; it is not also "missing". */
        for (size_t j = 0; j < t->n; j++)
                if (t->fields[j].required && !(ks.seen & (1ULL << j)) && !(ks.suggested & (1ULL << j))) {
                        pf_error(D(w), here, "%s is missing the required key \"%s\"", t->what, t->fields[j].key);
                        ok = false;
                }
        if (t->finish)
                t->finish(w, n, here, base);
        return ok;
}
