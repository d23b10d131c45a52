#include "config.h"
#include "engine/plan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Growing arrays while building; copied into the arena at the end. */
typedef struct change_vec { pf_change *v; size_t n, cap; } change_vec;

static void change_push(change_vec *c, pf_change ch) {
        if (c->n == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 16;
                c->v = pf_xreallocarray(c->v, c->cap, sizeof(*c->v));
        }
        c->v[c->n++] = ch;
}

/* The device group of a key: "iface[lab].model" -> "iface[lab]" (length), 0 when none. */
static size_t group_len(const char *key) {
        const char *close = strchr(key, ']');
        return close ? (size_t) (close - key + 1) : 0;
}

static bool has_group(const pf_obj *o, const char *key, size_t len) {
        /* fields are sorted, so a group is one run; binary search its first key */
        size_t lo = 0, hi = o->fields.n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strncmp(o->fields.v[mid].key, key, len) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < o->fields.n && strncmp(o->fields.v[lo].key, key, len) == 0;
}

/* How a change of field f lands on an object whose live side is `have`. */
static pf_landing landing_of(const pf_field *f, const pf_obj *want, const pf_obj *have) {
        pf_landing l = f->landing;
        if (f->flags & PF_FIELD_HOTPLUG) {
                size_t len = group_len(f->key);
                /* a whole device appearing or disappearing is a hot-plug */
                if (len && (!has_group(want, f->key, len) || !has_group(have, f->key, len)))
                        l = PF_LAND_LIVE;
        }
        /* nothing runs on an inactive object: a new definition disrupts nobody (a link is still
         * deleted and created again, which the plan must say; it disrupts nobody all the same) */
        if (!have->active && !pf_rkind_is_link(have->kind))
                l = PF_LAND_LIVE;
        return l;
}

static bool parse_u64(const char *s, uint64_t *ret) {
        char *end;
        if (!*s)
                return false;
        *ret = strtoull(s, &end, 10);
        return !*end;
}

/* Field-level diff of one object; plan errors for changes that would lose data. */
static void diff_obj(const pf_obj *want, const pf_obj *have, change_vec *out, pf_diags *d) {
        size_t i = 0, j = 0;
        while (i < want->fields.n || j < have->fields.n) {
                const pf_field *w = i < want->fields.n ? &want->fields.v[i] : NULL;
                const pf_field *h = j < have->fields.n ? &have->fields.v[j] : NULL;
                int c = !w ? 1 : !h ? -1 : strcmp(w->key, h->key);
                if (c < 0) {
                        change_push(out, (pf_change) { w->key, NULL, w->value, landing_of(w, want, have) });
                        i++;
                } else if (c > 0) {
                        if (!(h->flags & PF_FIELD_SPARSE))
                                change_push(out, (pf_change) { h->key, h->value, NULL, landing_of(h, want, have) });
                        j++;
                } else {
                        if (strcmp(w->value, h->value) != 0) {
                                uint64_t nw, nh;
                                if ((w->flags & PF_FIELD_GROW_ONLY) && parse_u64(w->value, &nw) &&
                                    parse_u64(h->value, &nh) && nw < nh)
                                        pf_error(d, want->loc, "%s %s would shrink from %s to %s bytes; podform never shrinks "
                                                 "(data would be lost): keep the size, or delete the %s by hand",
                                                 pf_rkind_name(want->kind), want->name, h->value, w->value,
                                                 pf_rkind_name(want->kind));
                                else if (w->flags & PF_FIELD_IMMUTABLE)
                                        pf_error(d, want->loc, "%s %s: %s cannot change from %s to %s without losing its data; "
                                                 "keep %s, or delete the %s by hand", pf_rkind_name(want->kind), want->name,
                                                 w->key, h->value, w->value, h->value, pf_rkind_name(want->kind));
                                else
                                        change_push(out, (pf_change) { w->key, h->value, w->value, landing_of(w, want, have) });
                        }
                        i++;
                        j++;
                }
        }
}

bool pf_obj_fields_match(const pf_obj *want, const pf_obj *have) {
        size_t i = 0, j = 0;
        while (i < want->fields.n || j < have->fields.n) {
                const pf_field *w = i < want->fields.n ? &want->fields.v[i] : NULL;
                const pf_field *h = j < have->fields.n ? &have->fields.v[j] : NULL;
                int c = !w ? 1 : !h ? -1 : strcmp(w->key, h->key);
                if (c < 0 || (c > 0 && !(h->flags & PF_FIELD_SPARSE)) || (c == 0 && strcmp(w->value, h->value)))
                        return false;
                i += c <= 0;
                j += c >= 0;
        }
        return true;
}

typedef struct action_vec { pf_action *v; size_t n, cap; } action_vec;

static pf_action *action_push(action_vec *a) {
        if (a->n == a->cap) {
                a->cap = a->cap ? 2 * a->cap : 64;
                a->v = pf_xreallocarray(a->v, a->cap, sizeof(*a->v));
        }
        pf_action *x = &a->v[a->n++];
        *x = (pf_action) { 0 };
        return x;
}

static void set_changes(pf_plan *p, pf_action *a, change_vec *c) {
        a->changes.v = pf_arena_array(&p->arena, c->n ? c->n : 1, sizeof(pf_change));
        if (c->n)
                memcpy(a->changes.v, c->v, c->n * sizeof(pf_change));
        a->changes.n = c->n;
        c->n = 0;
}

/* Objects in kind order, then name, so plans read the same on every run. */
static int cmp_obj_index(const void *a, const void *b, void *set) {
        const pf_objset *s = set;
        const pf_obj *x = &s->objs.v[*(const size_t *) a], *y = &s->objs.v[*(const size_t *) b];
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->name, y->name);
}

static size_t *sorted_indexes(const pf_objset *s) {
        size_t *idx = pf_xreallocarray(NULL, s->objs.n ? s->objs.n : 1, sizeof(*idx));
        for (size_t i = 0; i < s->objs.n; i++)
                idx[i] = i;
        qsort_r(idx, s->objs.n, sizeof(*idx), cmp_obj_index, (void *) s);
        return idx;
}

/* The action for (kind, name) among actions [0, n), or SIZE_MAX. Linear scans would make
 * big plans quadratic, so actions are looked up in a sorted copy of their keys. */
typedef struct action_key { pf_rkind kind; const char *name; size_t index; } action_key;

static int cmp_action_key(const void *a, const void *b) {
        const action_key *x = a, *y = b;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->name, y->name);
}

static size_t find_action(const action_key *keys, size_t n, pf_rkind kind, const char *name) {
        action_key k = { kind, name, 0 };
        const action_key *hit = bsearch(&k, keys, n, sizeof(*keys), cmp_action_key);
        return hit ? hit->index : SIZE_MAX;
}

static void set_deps(pf_plan *p, pf_action *a, const size_t *deps, size_t n) {
        a->deps.v = pf_arena_array(&p->arena, n ? n : 1, sizeof(size_t));
        if (n)
                memcpy(a->deps.v, deps, n * sizeof(size_t));
        a->deps.n = n;
}

static bool needs_ref(const pf_obj *o, const pf_obj *target) {
        for (size_t i = 0; o && i < o->needs.n; i++)
                if (o->needs.v[i].kind == target->kind && !strcmp(o->needs.v[i].name, target->name))
                        return true;
        return false;
}

/* A running VM whose declared definition dropped `h`, but which keeps using it until it
 * restarts, because its change lands at the next boot. */
static const pf_obj *running_user(const pf_obj *h, const pf_objset *want, const pf_objset *have,
                                  const action_vec *acts, size_t n_up) {
        for (size_t i = 0; i < have->objs.n; i++) {
                const pf_obj *y = &have->objs.v[i];
                if (!y->active || !needs_ref(y, h))
                        continue;
                const pf_obj *yw = pf_objset_find(want, y->kind, y->name);
                if (!yw || !yw->active || needs_ref(yw, h))
                        continue;       /* deleted too, stopped, or a plan error below */
                for (size_t k = 0; k < n_up; k++) {
                        const pf_action *a = &acts->v[k];
                        if (a->kind == y->kind && !strcmp(a->name, y->name) && a->landing == PF_LAND_RESTART && !a->restart)
                                return y;
                }
        }
        return NULL;
}

static void keep(pf_plan *p, const pf_obj *h, const pf_obj *used_by) {
        p->orphans.v = pf_xreallocarray(p->orphans.v, p->orphans.n + 1, sizeof(*p->orphans.v));
        p->orphans.v[p->orphans.n++] = (pf_orphan) { h, used_by };
}

/* An owned object the configuration no longer declares: deleted with prune, else listed. */
static void delete_candidate(pf_plan *p, action_vec *acts, size_t n_up, const pf_obj *h, const pf_objset *want,
                             const pf_objset *have, const pf_plan_opts *o) {
        if (!h->owned || pf_objset_find(want, h->kind, h->name))
                return;
        const pf_obj *user = NULL;
        if (!o->prune || (user = running_user(h, want, have, acts, n_up))) {
                keep(p, h, user);
                return;
        }
        pf_action *a = action_push(acts);
        *a = (pf_action) { .op = PF_OP_DELETE, .kind = h->kind, .name = h->name, .have = h,
                           .landing = PF_LAND_LIVE, .disruptive = h->active && h->kind == PF_R_DOMAIN };
}

/* The change of a live object to its declaration, when anything differs. */
static void plan_change(pf_plan *p, action_vec *acts, change_vec *ch, const pf_obj *w, const pf_obj *h,
                        const pf_plan_opts *o, pf_diags *d) {
        diff_obj(w, h, ch, d);
        bool stale = h->stale && h->active && w->active;
        if (!ch->n && stale && !o->allow_restart) {
                p->stale.v = pf_xreallocarray(p->stale.v, p->stale.n + 1, sizeof(*p->stale.v));
                p->stale.v[p->stale.n++] = h;
                return;
        }
        if (!ch->n && stale)    /* the restart an earlier apply left for later */
                change_push(ch, (pf_change) { "restart", "older definition running", "restarted", PF_LAND_RESTART });
        if (!ch->n)
                return;
        pf_action *a = action_push(acts);
        *a = (pf_action) { .op = PF_OP_CHANGE, .kind = w->kind, .name = w->name, .want = w, .have = h,
                           .adopted = !h->owned };
        for (size_t i = 0; i < ch->n; i++)
                if (ch->v[i].landing > a->landing)
                        a->landing = ch->v[i].landing;
        if (stale && a->landing < PF_LAND_RESTART)
                a->landing = PF_LAND_RESTART;
        /* a link recreated while nothing uses it disrupts nobody */
        a->disruptive = a->landing != PF_LAND_LIVE && (h->active || !pf_rkind_is_link(h->kind));
        for (size_t i = 0; i < ch->n; i++) {    /* stopping a running VM or an active network */
                const pf_field *f = pf_obj_field(w, ch->v[i].key);
                if (f && (f->flags & PF_FIELD_STOPS) && !strcmp(f->value, "no") && h->active)
                        a->disruptive = true;
                if (f && (f->flags & PF_FIELD_DISRUPTS) && h->active)
                        a->disruptive = true;
        }
        a->restart = a->landing == PF_LAND_RESTART && o->allow_restart;
        set_changes(p, a, ch);
}

/* Creations and changes, in kind order. */
static void plan_up(pf_plan *p, action_vec *acts, const pf_objset *want, const pf_objset *have, const pf_plan_opts *o,
                    pf_diags *d) {
        change_vec ch = { 0 };
        _cleanup_free_ size_t *widx = sorted_indexes(want);
        for (size_t k = 0; k < want->objs.n; k++) {
                const pf_obj *w = &want->objs.v[widx[k]];
                const pf_obj *h = pf_objset_find(have, w->kind, w->name);
                if (h) {
                        plan_change(p, acts, &ch, w, h, o, d);
                        continue;
                }
                for (size_t i = 0; i < w->fields.n; i++)
                        change_push(&ch, (pf_change) { w->fields.v[i].key, NULL, w->fields.v[i].value, PF_LAND_LIVE });
                pf_action *a = action_push(acts);
                *a = (pf_action) { .op = PF_OP_CREATE, .kind = w->kind, .name = w->name, .want = w };
                set_changes(p, a, &ch);
        }
        free(ch.v);
}

/* Deletions: owned, undeclared objects, in reverse kind order, by name within a kind. */
static void plan_down(pf_plan *p, action_vec *acts, size_t n_up, const pf_objset *want, const pf_objset *have,
                      const pf_plan_opts *o) {
        _cleanup_free_ size_t *hidx = sorted_indexes(have);
        for (size_t k = 0, end = have->objs.n; end > 0; end = k) {
                k = end - 1;
                while (k > 0 && have->objs.v[hidx[k - 1]].kind == have->objs.v[hidx[end - 1]].kind)
                        k--;
                for (size_t x = k; x < end; x++)
                        delete_candidate(p, acts, n_up, &have->objs.v[hidx[x]], want, have, o);
        }
}

/* The actions [from, to) as keys sorted once, for find_action. */
static action_key *sorted_keys(const action_vec *acts, size_t from, size_t to) {
        action_key *keys = pf_xreallocarray(NULL, to > from ? to - from : 1, sizeof(*keys));
        for (size_t i = from; i < to; i++)
                keys[i - from] = (action_key) { acts->v[i].kind, acts->v[i].name, i };
        qsort(keys, to - from, sizeof(*keys), cmp_action_key);
        return keys;
}

/* A creation or change needs the creations and changes of what it uses. */
static void deps_up(pf_plan *p, action_vec *acts, const action_key *up, size_t n_up) {
        _cleanup_free_ size_t *deps = NULL;
        size_t cap = 0;
        for (size_t i = 0; i < n_up; i++) {
                pf_action *a = &acts->v[i];
                size_t n = 0;
                for (size_t r = 0; r < a->want->needs.n; r++) {
                        size_t j = find_action(up, n_up, a->want->needs.v[r].kind, a->want->needs.v[r].name);
                        if (j == SIZE_MAX || j >= i)
                                continue;
                        if (n == cap)
                                deps = pf_xreallocarray(deps, cap = cap ? 2 * cap : 8, sizeof(*deps));
                        deps[n++] = j;
                }
                set_deps(p, a, deps, n);
        }
}

/* A deletion waits for the deletion of everything that used the object, and for the change of
 * an object that stops using it (a VM moving its NIC); live objects name what they use, so walk
 * them and point the used object's deletion back. */
static void deps_down(pf_plan *p, action_vec *acts, size_t n_up, const action_key *down, size_t n_down) {
        size_t *count = pf_xcalloc(acts->n, sizeof(*count));
        size_t **lists = pf_xcalloc(acts->n, sizeof(*lists));
        for (size_t i = 0; i < acts->n; i++) {
                const pf_obj *user = acts->v[i].have;
                for (size_t r = 0; user && r < user->needs.n; r++) {
                        size_t j = find_action(down, n_down, user->needs.v[r].kind, user->needs.v[r].name);
                        if (j == SIZE_MAX || j <= i)
                                continue;
                        lists[j] = pf_xreallocarray(lists[j], count[j] + 1, sizeof(size_t));
                        lists[j][count[j]++] = i;
                }
        }
        for (size_t i = n_up; i < acts->n; i++) {
                set_deps(p, &acts->v[i], lists[i], count[i]);
                free(lists[i]);
        }
        free(lists);
        free(count);
}

/* Prune never pulls an object from under one that stays and still uses it. */
static void check_prune(const pf_objset *want, const pf_objset *have, const action_key *down, size_t n_down, pf_diags *d) {
        for (size_t i = 0; i < want->objs.n; i++) {
                const pf_obj *w = &want->objs.v[i];
                for (size_t r = 0; r < w->needs.n; r++)
                        if (find_action(down, n_down, w->needs.v[r].kind, w->needs.v[r].name) != SIZE_MAX)
                                pf_error(d, w->loc, "%s %s uses %s %s, which is podform's and no longer declared, so prune "
                                         "would delete it; declare it again or stop using it", pf_rkind_name(w->kind),
                                         w->name, pf_rkind_name(w->needs.v[r].kind), w->needs.v[r].name);
        }
        for (size_t i = 0; i < have->objs.n; i++) {
                const pf_obj *h = &have->objs.v[i];
                if (pf_objset_find(want, h->kind, h->name) || find_action(down, n_down, h->kind, h->name) != SIZE_MAX)
                        continue;
                for (size_t r = 0; r < h->needs.n; r++)
                        if (find_action(down, n_down, h->needs.v[r].kind, h->needs.v[r].name) != SIZE_MAX)
                                pf_error(d, (pf_loc) { 0 }, "prune would delete %s %s, but %s %s (not podform's) still uses "
                                         "it; podform leaves both alone: detach it by hand, or declare %s %s again",
                                         pf_rkind_name(h->needs.v[r].kind), h->needs.v[r].name, pf_rkind_name(h->kind),
                                         h->name, pf_rkind_name(h->needs.v[r].kind), h->needs.v[r].name);
        }
}

void pf_plan_build(pf_plan *p, const pf_objset *want, const pf_objset *have, const pf_plan_opts *o, pf_diags *d) {
        *p = (pf_plan) { 0 };
        action_vec acts = { 0 };
        plan_up(p, &acts, want, have, o, d);
        size_t n_up = acts.n;
        plan_down(p, &acts, n_up, want, have, o);
        size_t n_down = acts.n - n_up;
        _cleanup_free_ action_key *up = sorted_keys(&acts, 0, n_up);
        _cleanup_free_ action_key *down = sorted_keys(&acts, n_up, acts.n);
        deps_up(p, &acts, up, n_up);
        if (n_down) {
                deps_down(p, &acts, n_up, down, n_down);
                check_prune(want, have, down, n_down, d);
        }
        for (size_t i = 0; i < acts.n; i++) {
                switch (acts.v[i].op) {
                case PF_OP_CREATE: p->n_create++; break;
                case PF_OP_CHANGE: p->n_change++; break;
                case PF_OP_DELETE: p->n_delete++; break;
                }
                if (acts.v[i].disruptive)
                        p->n_disruptive++;
        }
        p->actions.v = acts.v;
        p->actions.n = acts.n;
}

void pf_plan_free(pf_plan *p) {
        free(p->actions.v);
        free(p->orphans.v);
        free(p->stale.v);
        pf_arena_free(&p->arena);
        *p = (pf_plan) { 0 };
}
