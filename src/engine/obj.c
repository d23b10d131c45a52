#include "config.h"
#include "engine/obj.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void pf_objset_init(pf_objset *s) { *s = (pf_objset) { 0 }; }

void pf_objset_free(pf_objset *s) {
        pf_arena_free(&s->arena);
        free(s->objs.v);
        free(s->index);
        *s = (pf_objset) { 0 };
}

pf_obj *pf_objset_add(pf_objset *s, pf_rkind kind, const char *name) {
        if (s->objs.n == s->cap) {
                s->cap = s->cap ? 2 * s->cap : 64;
                s->objs.v = pf_xreallocarray(s->objs.v, s->cap, sizeof(*s->objs.v));
        }
        pf_obj *o = &s->objs.v[s->objs.n++];
        *o = (pf_obj) { .kind = kind, .name = pf_arena_strdup(&s->arena, name) };
        return o;
}

static int cmp_key(const pf_obj *o, pf_rkind kind, const char *name) {
        if (o->kind != kind)
                return o->kind < kind ? -1 : 1;
        return strcmp(o->name, name);
}

static int cmp_index(const void *a, const void *b, void *set) {
        const pf_objset *s = set;
        const pf_obj *x = &s->objs.v[*(const size_t *) a], *y = &s->objs.v[*(const size_t *) b];
        return cmp_key(x, y->kind, y->name);
}

void pf_objset_index(pf_objset *s) {
        free(s->index);
        s->index = pf_xreallocarray(NULL, s->objs.n ? s->objs.n : 1, sizeof(*s->index));
        for (size_t i = 0; i < s->objs.n; i++)
                s->index[i] = i;
        qsort_r(s->index, s->objs.n, sizeof(*s->index), cmp_index, s);
        s->n_index = s->objs.n;
}

const pf_obj *pf_objset_find(const pf_objset *s, pf_rkind kind, const char *name) {
        if (s->index && s->n_index == s->objs.n) {
                size_t lo = 0, hi = s->n_index;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        int c = cmp_key(&s->objs.v[s->index[mid]], kind, name);
                        if (c == 0)
                                return &s->objs.v[s->index[mid]];
                        if (c < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                return NULL;
        }
        for (size_t i = 0; i < s->objs.n; i++)
                if (cmp_key(&s->objs.v[i], kind, name) == 0)
                        return &s->objs.v[i];
        return NULL;
}

void pf_fields_init(pf_fields *b, pf_arena *arena) { *b = (pf_fields) { .arena = arena }; }

void pf_fields_free(pf_fields *b) {
        free(b->v);
        free(b->needs);
        *b = (pf_fields) { .arena = b->arena };
}

void pf_field_add(pf_fields *b, pf_landing landing, unsigned flags, const char *value, const char *key_fmt, ...) {
        /* Most keys fit on the stack; a longer one is formatted again at its size, since a
         * truncated key could make two fields one. */
        char buf[256];
        _cleanup_free_ char *long_key = NULL;
        va_list ap;
        va_start(ap, key_fmt);
        int n = vsnprintf(buf, sizeof(buf), key_fmt, ap);
        va_end(ap);
        if (n < 0)
                pf_oom();
        const char *key = buf;
        if ((size_t) n >= sizeof(buf)) {
                va_start(ap, key_fmt);
                if (vasprintf(&long_key, key_fmt, ap) < 0)
                        pf_oom();
                va_end(ap);
                key = long_key;
        }
        if (b->n == b->cap) {
                b->cap = b->cap ? 2 * b->cap : 32;
                b->v = pf_xreallocarray(b->v, b->cap, sizeof(*b->v));
        }
        b->v[b->n++] = (pf_field) {
                .key = pf_arena_strdup(b->arena, key),
                .value = pf_arena_strdup(b->arena, value ? value : ""),
                .landing = landing,
                .flags = flags,
        };
}

void pf_need_add(pf_fields *b, pf_rkind kind, const char *name) {
        for (size_t i = 0; i < b->n_needs; i++)
                if (b->needs[i].kind == kind && strcmp(b->needs[i].name, name) == 0)
                        return;
        if (b->n_needs == b->cap_needs) {
                b->cap_needs = b->cap_needs ? 2 * b->cap_needs : 8;
                b->needs = pf_xreallocarray(b->needs, b->cap_needs, sizeof(*b->needs));
        }
        b->needs[b->n_needs++] = (pf_ref) { kind, pf_arena_strdup(b->arena, name) };
}

/* Sorted through (field, position) pairs: qsort is not stable, and the later of two
 * duplicates must win. */
typedef struct field_pos { const pf_field *f; size_t pos; } field_pos;

static int cmp_field_pos(const void *a, const void *b) {
        const field_pos *x = a, *y = b;
        int c = strcmp(x->f->key, y->f->key);
        if (c)
                return c;
        return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void pf_fields_finish(pf_fields *b, pf_obj *o) {
        field_pos *order = pf_xreallocarray(NULL, b->n ? b->n : 1, sizeof(*order));
        for (size_t i = 0; i < b->n; i++)
                order[i] = (field_pos) { &b->v[i], i };
        if (b->n)
                qsort(order, b->n, sizeof(*order), cmp_field_pos);
        pf_field *out = pf_arena_array(b->arena, b->n ? b->n : 1, sizeof(*out));
        size_t n = 0;
        for (size_t i = 0; i < b->n; i++) {
                if (n && strcmp(out[n - 1].key, order[i].f->key) == 0)
                        n--;
                out[n++] = *order[i].f;
        }
        free(order);
        o->fields.v = out;
        o->fields.n = n;
        o->needs.v = pf_arena_array(b->arena, b->n_needs ? b->n_needs : 1, sizeof(pf_ref));
        if (b->n_needs)
                memcpy(o->needs.v, b->needs, b->n_needs * sizeof(pf_ref));
        o->needs.n = b->n_needs;
        b->n = b->n_needs = 0;
}

const pf_field *pf_obj_field(const pf_obj *o, const char *key) {
        size_t lo = 0, hi = o->fields.n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(o->fields.v[mid].key, key);
                if (c == 0)
                        return &o->fields.v[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const char *pf_rkind_name(pf_rkind k) {
        static const char *const names[_PF_R_MAX] = {
                [PF_R_VXLAN] = "vxlan", [PF_R_BRIDGE] = "bridge", [PF_R_MACVLAN] = "macvlan", [PF_R_MACVTAP] = "macvtap",
                [PF_R_POOL] = "pool", [PF_R_VOLUME] = "volume", [PF_R_NETWORK] = "network", [PF_R_DOMAIN] = "vm",
                [PF_R_NAT] = "nat",
        };
        return (unsigned) k < _PF_R_MAX ? names[k] : "?";
}

pf_rkind pf_rkind_lookup(const char *name) {
        for (pf_rkind k = 0; k < _PF_R_MAX; k++)
                if (!strcmp(pf_rkind_name(k), name))
                        return k;
        return _PF_R_MAX;
}

void pf_need_link(pf_fields *b, const char *ifname) {
        for (pf_rkind k = 0; pf_rkind_is_link(k); k++)
                pf_need_add(b, k, ifname);
}

void pf_objset_mark_used(pf_objset *s) {
        for (size_t i = 0; i < s->objs.n; i++) {
                const pf_obj *user = &s->objs.v[i];
                if (!user->active || pf_rkind_is_link(user->kind))
                        continue;
                for (size_t r = 0; r < user->needs.n; r++) {
                        if (!pf_rkind_is_link(user->needs.v[r].kind))
                                continue;
                        pf_obj *link = (pf_obj *) pf_objset_find(s, user->needs.v[r].kind, user->needs.v[r].name);
                        if (link)
                                link->active = true;
                }
        }
}

const char *pf_landing_name(pf_landing l) {
        static const char *const names[_PF_LAND_MAX] = {
                [PF_LAND_LIVE] = "live", [PF_LAND_RESTART] = "restart", [PF_LAND_RECREATE] = "recreate",
        };
        return (unsigned) l < _PF_LAND_MAX ? names[l] : "?";
}
