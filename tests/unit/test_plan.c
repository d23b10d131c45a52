/* test_plan: the planner and the capacity check, without a host. Desired and live object sets
 * are built by hand; every plan is checked against the planner's invariants (dependencies point
 * to earlier actions, creations and changes in kind order then deletions in reverse kind order,
 * counts agree with the actions) and against what each case means: creation order, drift,
 * SPARSE / GROW_ONLY / IMMUTABLE / HOTPLUG fields, landings on active and inactive objects,
 * ownership and pruning, dependencies both ways, text and JSON output. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/capacity.h"
#include "engine/obj.h"
#include "engine/plan.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

/* ---- fixture: desired set W, live set H, plan P, diagnostics D ---- */

static pf_objset W, H;
static pf_plan P;
static bool P_built;
static pf_diags D;
static const pf_source SRC = { .path = "hosts/lab.yaml", .text = "", .len = 0 };

/* the object being filled */
static pf_objset *b_set;
static size_t b_idx;
static pf_fields b_fields;
static bool b_open;

static int setup(void **state) {
        (void) state;
        pf_objset_init(&W);
        pf_objset_init(&H);
        P_built = false;
        D = (pf_diags) { 0 };
        b_open = false;
        return 0;
}

static int teardown(void **state) {
        (void) state;
        if (b_open)
                pf_fields_free(&b_fields);
        b_open = false;
        if (P_built)
                pf_plan_free(&P);
        P_built = false;
        pf_objset_free(&W);
        pf_objset_free(&H);
        pf_diag_free(&D);
        D = (pf_diags) { 0 };
        return 0;
}

static void b_flush(void) {
        if (!b_open)
                return;
        pf_fields_finish(&b_fields, &b_set->objs.v[b_idx]);
        pf_fields_free(&b_fields);
        b_open = false;
}

/* obj: a new object of set s; the fields and needs added next go to it. The pointer stays valid
 * until the next obj(). */
static pf_obj *obj(pf_objset *s, pf_rkind kind, const char *name, bool active, bool owned) {
        b_flush();
        pf_obj *o = pf_objset_add(s, kind, name);
        o->active = active;
        o->owned = owned;
        b_set = s;
        b_idx = s->objs.n - 1;
        pf_fields_init(&b_fields, &s->arena);
        b_open = true;
        return o;
}

static void fld(const char *key, const char *value, pf_landing landing, unsigned flags) {
        pf_field_add(&b_fields, landing, flags, value, "%s", key);
}

static void need(pf_rkind kind, const char *name) { pf_need_add(&b_fields, kind, name); }

/* A NIC as the domain extractor writes it: every member in the group "iface[NAME]". */
static void iface(const char *name, const char *source, const char *model) {
        pf_field_add(&b_fields, PF_LAND_RESTART, PF_FIELD_HOTPLUG, "network", "iface[%s].type", name);
        pf_field_add(&b_fields, PF_LAND_RESTART, PF_FIELD_HOTPLUG, source, "iface[%s].source", name);
        pf_field_add(&b_fields, PF_LAND_RESTART, PF_FIELD_HOTPLUG, "52:54:00:00:00:01", "iface[%s].mac", name);
        pf_field_add(&b_fields, PF_LAND_RESTART, PF_FIELD_HOTPLUG, model, "iface[%s].model", name);
}

static void seal(void) {
        b_flush();
        pf_objset_index(&W);
        pf_objset_index(&H);
}

static void check_invariants(const pf_plan *p);

static void plan(bool prune, bool allow_restart) {
        seal();
        if (P_built)
                pf_plan_free(&P);
        pf_plan_opts o = { .prune = prune, .allow_restart = allow_restart };
        pf_plan_build(&P, &W, &H, &o, &D);
        P_built = true;
        check_invariants(&P);
}

/* ---- looking at plans ---- */

static size_t act_index(pf_op op, pf_rkind kind, const char *name) {
        for (size_t i = 0; i < P.actions.n; i++)
                if (P.actions.v[i].op == op && P.actions.v[i].kind == kind && !strcmp(P.actions.v[i].name, name))
                        return i;
        return SIZE_MAX;
}

static const pf_action *act(pf_op op, pf_rkind kind, const char *name) {
        size_t i = act_index(op, kind, name);
        if (i == SIZE_MAX)
                fail_msg("no %s action for %s %s", op == PF_OP_CREATE ? "create" : op == PF_OP_CHANGE ? "change" : "delete",
                         pf_rkind_name(kind), name);
        return &P.actions.v[i];
}

static const pf_change *chg(const pf_action *a, const char *key) {
        for (size_t i = 0; i < a->changes.n; i++)
                if (!strcmp(a->changes.v[i].key, key))
                        return &a->changes.v[i];
        fail_msg("%s %s has no change of %s", pf_rkind_name(a->kind), a->name, key);
        return NULL;
}

static void assert_change(const pf_action *a, const char *key, const char *old_value, const char *new_value,
                          pf_landing landing) {
        const pf_change *c = chg(a, key);
        if (old_value)
                assert_string_equal(c->old_value, old_value);
        else
                assert_null(c->old_value);
        if (new_value)
                assert_string_equal(c->new_value, new_value);
        else
                assert_null(c->new_value);
        assert_int_equal(c->landing, landing);
}

/* The plan as one line: "+pool p | ~vm web | -network old" (op, not the '!' mark). */
static const char *plan_str(void) {
        static char buf[8192];
        size_t len = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < P.actions.n; i++) {
                const pf_action *a = &P.actions.v[i];
                len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s%c%s %s", i ? " | " : "",
                                         a->op == PF_OP_CREATE ? '+' : a->op == PF_OP_CHANGE ? '~' : '-',
                                         pf_rkind_name(a->kind), a->name);
                assert_true(len < sizeof(buf));
        }
        return buf;
}

/* The dependencies of action i as the sorted names of the actions: "volume p/v,network n". */
static bool has_dep(const pf_action *a, size_t j) {
        for (size_t d = 0; d < a->deps.n; d++)
                if (a->deps.v[d] == j)
                        return true;
        return false;
}

static void assert_deps(const pf_action *a, size_t n, ...) {
        va_list ap;
        va_start(ap, n);
        for (size_t i = 0; i < n; i++) {
                size_t j = va_arg(ap, size_t);
                assert_true(j != SIZE_MAX);
                if (!has_dep(a, j))
                        fail_msg("%s %s does not depend on action %zu (%s %s)", pf_rkind_name(a->kind), a->name, j,
                                 pf_rkind_name(P.actions.v[j].kind), P.actions.v[j].name);
        }
        va_end(ap);
        if (a->deps.n != n)
                fail_msg("%s %s has %zu dependencies, expected %zu", pf_rkind_name(a->kind), a->name, a->deps.n, n);
}

static const pf_diag *diag_with(const char *needle) {
        for (size_t i = 0; i < D.n; i++)
                if (strstr(D.v[i].msg, needle))
                        return &D.v[i];
        for (size_t i = 0; i < D.n; i++)
                print_message("diag: %s\n", D.v[i].msg);
        fail_msg("no diagnostic contains \"%s\"", needle);
        return NULL;
}

static void check_invariants(const pf_plan *p) {
        size_t n_create = 0, n_change = 0, n_delete = 0, n_disruptive = 0;
        bool deleting = false;
        for (size_t i = 0; i < p->actions.n; i++) {
                const pf_action *a = &p->actions.v[i];
                for (size_t d = 0; d < a->deps.n; d++)
                        assert_true(a->deps.v[d] < i);
                if (i > 0) {
                        const pf_action *b = &p->actions.v[i - 1];
                        if (a->op != PF_OP_DELETE) {
                                /* creations and changes: kind order, then names, no duplicates */
                                assert_false(deleting);
                                assert_true(b->kind < a->kind || (b->kind == a->kind && strcmp(b->name, a->name) < 0));
                        } else if (b->op == PF_OP_DELETE) {
                                assert_true(b->kind >= a->kind);
                        }
                }
                deleting = a->op == PF_OP_DELETE;
                switch (a->op) {
                case PF_OP_CREATE:
                        n_create++;
                        assert_non_null(a->want);
                        assert_null(a->have);
                        assert_false(a->disruptive);
                        assert_false(a->restart);
                        assert_false(a->adopted);
                        assert_int_equal(a->landing, PF_LAND_LIVE);
                        /* a creation lists every desired field, none old */
                        assert_int_equal(a->changes.n, a->want->fields.n);
                        for (size_t c = 0; c < a->changes.n; c++) {
                                assert_string_equal(a->changes.v[c].key, a->want->fields.v[c].key);
                                assert_null(a->changes.v[c].old_value);
                                assert_string_equal(a->changes.v[c].new_value, a->want->fields.v[c].value);
                                assert_int_equal(a->changes.v[c].landing, PF_LAND_LIVE);
                        }
                        break;
                case PF_OP_CHANGE: {
                        n_change++;
                        assert_non_null(a->want);
                        assert_non_null(a->have);
                        assert_true(a->changes.n > 0);
                        pf_landing max = PF_LAND_LIVE;
                        for (size_t c = 0; c < a->changes.n; c++) {
                                if (a->changes.v[c].landing > max)
                                        max = a->changes.v[c].landing;
                                assert_false(a->changes.v[c].old_value == NULL && a->changes.v[c].new_value == NULL);
                                if (c)
                                        assert_true(strcmp(a->changes.v[c - 1].key, a->changes.v[c].key) < 0);
                        }
                        /* a VM still running an older definition restarts to take any change */
                        if (a->have->stale && a->have->active && a->want->active && max < PF_LAND_RESTART)
                                max = PF_LAND_RESTART;
                        assert_int_equal(a->landing, max);
                        /* disruptive: not live (a link: while something uses it), or live but
                         * stopping or cutting off what runs */
                        bool stops = false;
                        for (size_t c = 0; c < a->changes.n; c++) {
                                const pf_field *f = pf_obj_field(a->want, a->changes.v[c].key);
                                if (f && (f->flags & PF_FIELD_STOPS) && !strcmp(f->value, "no") && a->have->active)
                                        stops = true;
                                if (f && (f->flags & PF_FIELD_DISRUPTS) && a->have->active)
                                        stops = true;
                        }
                        bool link = pf_rkind_is_link(a->kind);
                        assert_int_equal(a->disruptive, (a->landing != PF_LAND_LIVE && (a->have->active || !link)) || stops);
                        assert_int_equal(a->adopted, !a->have->owned);
                        if (!a->have->active && !link)
                                assert_int_equal(a->landing, PF_LAND_LIVE);
                        break;
                }
                case PF_OP_DELETE:
                        n_delete++;
                        assert_null(a->want);
                        assert_non_null(a->have);
                        assert_true(a->have->owned);
                        assert_int_equal(a->changes.n, 0);
                        assert_int_equal(a->disruptive, a->have->active && a->kind == PF_R_DOMAIN);
                        break;
                }
                if (a->disruptive)
                        n_disruptive++;
        }
        assert_int_equal(p->n_create, n_create);
        assert_int_equal(p->n_change, n_change);
        assert_int_equal(p->n_delete, n_delete);
        assert_int_equal(p->n_disruptive, n_disruptive);
        for (size_t i = 0; i < p->orphans.n; i++)
                assert_true(p->orphans.v[i].obj->owned);
}

static char *text_of(bool color, bool verbose) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        pf_plan_print_text(&P, f, color, verbose);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static char *json_of(const char *host, const char *uri) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        pf_plan_print_json(&P, f, host, uri, NULL);
        assert_int_equal(fclose(f), 0);
        return buf;
}

/* ---- a strict JSON syntax check (RFC 8259), enough to say the output parses ---- */

static const char *js_ws(const char *s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        return s;
}

static const char *js_string(const char *s) {
        if (*s++ != '"')
                return NULL;
        while (*s != '"') {
                if (!*s || (unsigned char) *s < 0x20)
                        return NULL;
                if (*s == '\\') {
                        s++;
                        if (*s == 'u') {
                                for (int i = 1; i <= 4; i++)
                                        if (!isxdigit((unsigned char) s[i]))
                                                return NULL;
                                s += 5;
                                continue;
                        }
                        if (!*s || !strchr("\"\\/bfnrt", *s))
                                return NULL;
                }
                s++;
        }
        return s + 1;
}

static const char *js_number(const char *s) {
        if (*s == '-')
                s++;
        if (*s == '0')
                s++;
        else if (*s >= '1' && *s <= '9')
                while (isdigit((unsigned char) *s))
                        s++;
        else
                return NULL;
        if (*s == '.') {
                if (!isdigit((unsigned char) *++s))
                        return NULL;
                while (isdigit((unsigned char) *s))
                        s++;
        }
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '+' || *s == '-')
                        s++;
                if (!isdigit((unsigned char) *s))
                        return NULL;
                while (isdigit((unsigned char) *s))
                        s++;
        }
        return s;
}

static const char *js_value(const char *s, int depth) {
        s = js_ws(s);
        if (depth > 64)
                return NULL;
        if (*s == '{' || *s == '[') {
                char close = *s == '{' ? '}' : ']';
                s = js_ws(s + 1);
                if (*s == close)
                        return s + 1;
                for (;;) {
                        if (close == '}') {
                                if (!(s = js_string(js_ws(s))))
                                        return NULL;
                                s = js_ws(s);
                                if (*s++ != ':')
                                        return NULL;
                        }
                        if (!(s = js_value(s, depth + 1)))
                                return NULL;
                        s = js_ws(s);
                        if (*s == close)
                                return s + 1;
                        if (*s++ != ',')
                                return NULL;
                }
        }
        if (*s == '"')
                return js_string(s);
        if (!strncmp(s, "true", 4))
                return s + 4;
        if (!strncmp(s, "false", 5))
                return s + 5;
        if (!strncmp(s, "null", 4))
                return s + 4;
        return js_number(s);
}

static bool json_valid(const char *s) {
        s = js_value(s, 0);
        return s && *js_ws(s) == '\0';
}

/* Braces and brackets outside strings balance and never go negative. */
static bool json_balanced(const char *s) {
        int depth = 0;
        bool in_str = false;
        for (; *s; s++) {
                if (in_str) {
                        if (*s == '\\' && s[1])
                                s++;
                        else if (*s == '"')
                                in_str = false;
                } else if (*s == '"')
                        in_str = true;
                else if (*s == '{' || *s == '[')
                        depth++;
                else if ((*s == '}' || *s == ']') && --depth < 0)
                        return false;
        }
        return depth == 0 && !in_str;
}

static void test_json_checker(void **state) {
        (void) state;
        /* the checker itself rejects what it should, so passing it means something */
        assert_true(json_valid("{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\n\"],\"b\":{}}\n"));
        assert_false(json_valid("{\"a\":}"));
        assert_false(json_valid("{\"a\":1,}"));
        assert_false(json_valid("[1 2]"));
        assert_false(json_valid("{\"a\":\"x\ny\"}"));
        assert_false(json_valid("{\"a\":01}"));
        assert_false(json_valid("{\"a\":1}}"));
        assert_false(json_valid("{\"a\":\"\\q\"}"));
        assert_true(json_balanced("{\"a\":[\"}]\"]}"));
        assert_false(json_balanced("{\"a\":[}"));
}

/* ---- creations and order ---- */

static void test_create_each_kind_in_order(void **state) {
        (void) state;
        /* inserted in no particular order; fields in no particular order */
        obj(&W, PF_R_DOMAIN, "web", true, false);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        fld("arch", "x86_64", PF_LAND_RESTART, 0);
        fld("memory", "1048576 KiB", PF_LAND_RESTART, 0);
        obj(&W, PF_R_NETWORK, "pods", true, false);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_VOLUME, "default/web-root", true, false);
        fld("format", "qcow2", PF_LAND_LIVE, PF_FIELD_IMMUTABLE);
        fld("capacity", "10737418240", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        obj(&W, PF_R_DOMAIN, "db", true, false);
        fld("vcpus", "4", PF_LAND_RESTART, 0);
        obj(&W, PF_R_POOL, "default", true, false);
        fld("path", "/var/lib/libvirt/images", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_NETWORK, "maas", true, false);
        fld("forward", "none", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_POOL, "big", true, false);
        fld("path", "/srv/big", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_VOLUME, "big/data", true, false);
        fld("capacity", "1", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        /* an unrelated live object podform does not own: left alone */
        obj(&H, PF_R_DOMAIN, "someone-elses", true, false);
        fld("vcpus", "1", PF_LAND_RESTART, 0);
        plan(true, true);

        assert_string_equal(plan_str(), "+pool big | +pool default | +volume big/data | +volume default/web-root | "
                                        "+network maas | +network pods | +vm db | +vm web");
        assert_int_equal(P.n_create, 8);
        assert_int_equal(P.n_change + P.n_delete + P.n_disruptive, 0);
        assert_int_equal(P.orphans.n, 0);
        assert_int_equal(D.n_errors, 0);

        /* the changes of a creation: every field, sorted by key, old side absent */
        const pf_action *web = act(PF_OP_CREATE, PF_R_DOMAIN, "web");
        assert_int_equal(web->changes.n, 3);
        assert_string_equal(web->changes.v[0].key, "arch");
        assert_string_equal(web->changes.v[1].key, "memory");
        assert_string_equal(web->changes.v[2].key, "vcpus");
        assert_change(web, "memory", NULL, "1048576 KiB", PF_LAND_LIVE);
        assert_ptr_equal(web->want, pf_objset_find(&W, PF_R_DOMAIN, "web"));
        const pf_action *vol = act(PF_OP_CREATE, PF_R_VOLUME, "default/web-root");
        assert_string_equal(vol->changes.v[0].key, "capacity");
        assert_string_equal(vol->changes.v[1].key, "format");
}

static void test_create_order_many_names(void **state) {
        (void) state;
        /* names sort bytewise within a kind, whatever the insertion order */
        static const char *const names[] = { "n10", "b", "n2", "a-b", "A", "a", "z", "n1" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                obj(&W, PF_R_NETWORK, names[i], true, false);
                fld("forward", "nat", PF_LAND_RECREATE, 0);
                obj(&W, (pf_rkind) (i % 2 ? PF_R_POOL : PF_R_DOMAIN), names[i], true, false);
        }
        plan(false, false);
        assert_string_equal(plan_str(), "+pool a | +pool a-b | +pool b | +pool n1 | "
                                        "+network A | +network a | +network a-b | +network b | +network n1 | "
                                        "+network n10 | +network n2 | +network z | "
                                        "+vm A | +vm n10 | +vm n2 | +vm z");
        /* an object with no fields is created all the same, with no changes to list */
        assert_int_equal(act(PF_OP_CREATE, PF_R_POOL, "a")->changes.n, 0);
}

/* ---- drift ---- */

/* The same pool, volume, network and domain on both sides. */
static void same_everything(pf_objset *s, bool swap_order) {
        obj(s, PF_R_POOL, "default", true, true);
        fld("path", "/var/lib/libvirt/images", PF_LAND_RECREATE, 0);
        fld("active", "yes", PF_LAND_LIVE, 0);
        obj(s, PF_R_VOLUME, "default/web", true, true);
        if (swap_order) {
                fld("format", "qcow2", PF_LAND_LIVE, PF_FIELD_IMMUTABLE);
                fld("capacity", "1073741824", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        } else {
                fld("capacity", "1073741824", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
                fld("format", "qcow2", PF_LAND_LIVE, PF_FIELD_IMMUTABLE);
        }
        need(PF_R_POOL, "default");
        obj(s, PF_R_NETWORK, "pods", true, true);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        fld("ip[10.0.0.1].prefix", "24", PF_LAND_RECREATE, 0);
        obj(s, PF_R_DOMAIN, "web", true, true);
        iface("pods", "pods", "virtio");
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        fld("running", "yes", PF_LAND_LIVE, 0);
        fld("disk[default/web]", "dev=vda bus=virtio format=qcow2", PF_LAND_RESTART, 0);
        need(PF_R_NETWORK, "pods");
        need(PF_R_VOLUME, "default/web");
}

static void test_equal_is_empty(void **state) {
        (void) state;
        same_everything(&W, false);
        same_everything(&H, true);
        plan(true, true);
        assert_true(pf_plan_empty(&P));
        assert_int_equal(P.n_create + P.n_change + P.n_delete + P.n_disruptive, 0);
        assert_int_equal(P.orphans.n, 0);
        assert_int_equal(D.n, 0);
        assert_int_equal(D.n_errors, 0);
}

static void test_changed_field(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "web", true, false);
        fld("vcpus", "4", PF_LAND_RESTART, 0);
        fld("memory", "2097152 KiB", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "web", true, true);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        fld("memory", "2097152 KiB", PF_LAND_RESTART, 0);
        obj(&W, PF_R_NETWORK, "pods", true, false);
        fld("dhcp.range", "10.0.0.100-10.0.0.200", PF_LAND_LIVE, 0);
        obj(&H, PF_R_NETWORK, "pods", true, true);
        fld("dhcp.range", "10.0.0.100-10.0.0.150", PF_LAND_LIVE, 0);
        plan(false, false);

        assert_string_equal(plan_str(), "~network pods | ~vm web");
        const pf_action *vm = act(PF_OP_CHANGE, PF_R_DOMAIN, "web");
        assert_int_equal(vm->changes.n, 1);
        assert_change(vm, "vcpus", "2", "4", PF_LAND_RESTART);
        assert_int_equal(vm->landing, PF_LAND_RESTART);
        assert_true(vm->disruptive);
        assert_false(vm->restart);
        assert_false(vm->adopted);
        assert_ptr_equal(vm->want, pf_objset_find(&W, PF_R_DOMAIN, "web"));
        assert_ptr_equal(vm->have, pf_objset_find(&H, PF_R_DOMAIN, "web"));
        const pf_action *net = act(PF_OP_CHANGE, PF_R_NETWORK, "pods");
        assert_change(net, "dhcp.range", "10.0.0.100-10.0.0.150", "10.0.0.100-10.0.0.200", PF_LAND_LIVE);
        assert_int_equal(net->landing, PF_LAND_LIVE);
        assert_false(net->disruptive);
        assert_int_equal(P.n_change, 2);
        assert_int_equal(P.n_disruptive, 1);

        /* --allow-restart: the VM restarts now; a live change never restarts anything */
        plan(false, true);
        vm = act(PF_OP_CHANGE, PF_R_DOMAIN, "web");
        assert_true(vm->restart);
        assert_true(vm->disruptive);
        assert_false(act(PF_OP_CHANGE, PF_R_NETWORK, "pods")->restart);
}

static void test_sparse(void **state) {
        (void) state;
        /* only on the live side: libvirt filled it in, not drift */
        obj(&W, PF_R_NETWORK, "pods", true, false);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_NETWORK, "pods", true, true);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        fld("bridge", "virbr3", PF_LAND_RECREATE, PF_FIELD_SPARSE);
        /* on both sides with different values: drift */
        obj(&W, PF_R_DOMAIN, "a", true, false);
        fld("machine", "pc-q35-8.2", PF_LAND_RESTART, PF_FIELD_SPARSE);
        obj(&H, PF_R_DOMAIN, "a", true, true);
        fld("machine", "pc-q35-7.2", PF_LAND_RESTART, PF_FIELD_SPARSE);
        /* only on the desired side: a change like any other */
        obj(&W, PF_R_DOMAIN, "b", true, false);
        fld("machine", "pc-q35-8.2", PF_LAND_RESTART, PF_FIELD_SPARSE);
        obj(&H, PF_R_DOMAIN, "b", true, true);
        /* equal on both sides: nothing */
        obj(&W, PF_R_DOMAIN, "c", true, false);
        fld("machine", "pc-q35-8.2", PF_LAND_RESTART, PF_FIELD_SPARSE);
        obj(&H, PF_R_DOMAIN, "c", true, true);
        fld("machine", "pc-q35-8.2", PF_LAND_RESTART, PF_FIELD_SPARSE);
        fld("cpu.topology", "sockets=1 cores=2 threads=1", PF_LAND_RESTART, PF_FIELD_SPARSE);
        plan(false, false);

        assert_string_equal(plan_str(), "~vm a | ~vm b");
        const pf_action *a = act(PF_OP_CHANGE, PF_R_DOMAIN, "a");
        assert_int_equal(a->changes.n, 1);
        assert_change(a, "machine", "pc-q35-7.2", "pc-q35-8.2", PF_LAND_RESTART);
        const pf_action *b = act(PF_OP_CHANGE, PF_R_DOMAIN, "b");
        assert_int_equal(b->changes.n, 1);
        assert_change(b, "machine", NULL, "pc-q35-8.2", PF_LAND_RESTART);
}

static void test_live_only_field(void **state) {
        (void) state;
        /* not SPARSE and gone from the configuration: removed, lands as the field says */
        obj(&W, PF_R_DOMAIN, "web", true, false);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "web", true, true);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        fld("serial", "pty", PF_LAND_RESTART, 0);
        fld("autostart", "yes", PF_LAND_LIVE, 0);
        plan(false, false);
        const pf_action *a = act(PF_OP_CHANGE, PF_R_DOMAIN, "web");
        assert_int_equal(a->changes.n, 2);
        assert_change(a, "serial", "pty", NULL, PF_LAND_RESTART);
        assert_change(a, "autostart", "yes", NULL, PF_LAND_LIVE);
        assert_int_equal(a->landing, PF_LAND_RESTART);
        assert_true(a->disruptive);
}

static void test_inactive_lands_live(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "off", false, false);
        fld("vcpus", "4", PF_LAND_RESTART, 0);
        iface("lab", "lab", "virtio");
        obj(&H, PF_R_DOMAIN, "off", false, true);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        iface("lab", "lab", "e1000");
        obj(&W, PF_R_NETWORK, "down", true, false);
        fld("forward", "route", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_NETWORK, "down", false, true);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        plan(false, true);

        const pf_action *vm = act(PF_OP_CHANGE, PF_R_DOMAIN, "off");
        assert_change(vm, "vcpus", "2", "4", PF_LAND_LIVE);
        assert_change(vm, "iface[lab].model", "e1000", "virtio", PF_LAND_LIVE);
        assert_int_equal(vm->landing, PF_LAND_LIVE);
        assert_false(vm->disruptive);
        assert_false(vm->restart);
        const pf_action *net = act(PF_OP_CHANGE, PF_R_NETWORK, "down");
        assert_change(net, "forward", "nat", "route", PF_LAND_LIVE);
        assert_false(net->disruptive);
        assert_int_equal(P.n_disruptive, 0);
}

static void test_recreate(void **state) {
        (void) state;
        obj(&W, PF_R_NETWORK, "pods", true, false);
        fld("bridge", "virbr9", PF_LAND_RECREATE, 0);
        fld("dhcp.range", "10.0.0.100-10.0.0.200", PF_LAND_LIVE, 0);
        obj(&H, PF_R_NETWORK, "pods", true, true);
        fld("bridge", "virbr3", PF_LAND_RECREATE, 0);
        fld("dhcp.range", "10.0.0.100-10.0.0.150", PF_LAND_LIVE, 0);
        plan(false, true);
        const pf_action *a = act(PF_OP_CHANGE, PF_R_NETWORK, "pods");
        assert_change(a, "bridge", "virbr3", "virbr9", PF_LAND_RECREATE);
        assert_change(a, "dhcp.range", "10.0.0.100-10.0.0.150", "10.0.0.100-10.0.0.200", PF_LAND_LIVE);
        assert_int_equal(a->landing, PF_LAND_RECREATE);
        assert_true(a->disruptive);
        /* --allow-restart restarts VMs, it does not make a recreation anything else */
        assert_false(a->restart);
        assert_int_equal(P.n_disruptive, 1);
}

static void test_hotplug(void **state) {
        (void) state;
        /* h1: a whole new NIC on a running VM is a hot-plug; "lab2" is not part of "lab" */
        obj(&W, PF_R_DOMAIN, "h1", true, false);
        iface("lab", "lab", "virtio");
        iface("lab2", "lab", "virtio");
        obj(&H, PF_R_DOMAIN, "h1", true, true);
        iface("lab", "lab", "virtio");
        /* h2: a changed member of an existing NIC waits for a restart */
        obj(&W, PF_R_DOMAIN, "h2", true, false);
        iface("lab", "lab", "virtio");
        obj(&H, PF_R_DOMAIN, "h2", true, true);
        iface("lab", "lab", "e1000");
        /* h3: a NIC removed as a whole is a hot-unplug; its SPARSE PCI address is not drift */
        obj(&W, PF_R_DOMAIN, "h3", true, false);
        iface("a", "lab", "virtio");
        obj(&H, PF_R_DOMAIN, "h3", true, true);
        iface("a", "lab", "virtio");
        iface("gone", "old", "virtio");
        fld("iface[gone].pci", "0000:00:03.0", PF_LAND_RESTART, PF_FIELD_HOTPLUG | PF_FIELD_SPARSE);
        /* h4: a member added to an existing NIC waits for a restart */
        obj(&W, PF_R_DOMAIN, "h4", true, false);
        iface("lab", "lab", "virtio");
        fld("iface[lab].queues", "4", PF_LAND_RESTART, PF_FIELD_HOTPLUG);
        obj(&H, PF_R_DOMAIN, "h4", true, true);
        iface("lab", "lab", "virtio");
        /* h5: NIC "lab" replaced by NIC "lab2" (a name "lab" is a prefix of): unplug + plug */
        obj(&W, PF_R_DOMAIN, "h5", true, false);
        iface("lab2", "lab", "virtio");
        obj(&H, PF_R_DOMAIN, "h5", true, true);
        iface("lab", "lab", "virtio");
        /* h6: NIC added together with a restart-only change: both, and the VM is marked */
        obj(&W, PF_R_DOMAIN, "h6", true, false);
        fld("vcpus", "4", PF_LAND_RESTART, 0);
        iface("new", "lab", "virtio");
        obj(&H, PF_R_DOMAIN, "h6", true, true);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        plan(false, false);

        assert_string_equal(plan_str(), "~vm h1 | ~vm h2 | ~vm h3 | ~vm h4 | ~vm h5 | ~vm h6");
        const pf_action *a = act(PF_OP_CHANGE, PF_R_DOMAIN, "h1");
        assert_int_equal(a->changes.n, 4);
        assert_change(a, "iface[lab2].type", NULL, "network", PF_LAND_LIVE);
        assert_change(a, "iface[lab2].source", NULL, "lab", PF_LAND_LIVE);
        assert_change(a, "iface[lab2].mac", NULL, "52:54:00:00:00:01", PF_LAND_LIVE);
        assert_change(a, "iface[lab2].model", NULL, "virtio", PF_LAND_LIVE);
        assert_int_equal(a->landing, PF_LAND_LIVE);
        assert_false(a->disruptive);

        a = act(PF_OP_CHANGE, PF_R_DOMAIN, "h2");
        assert_int_equal(a->changes.n, 1);
        assert_change(a, "iface[lab].model", "e1000", "virtio", PF_LAND_RESTART);
        assert_true(a->disruptive);

        a = act(PF_OP_CHANGE, PF_R_DOMAIN, "h3");
        assert_int_equal(a->changes.n, 4);
        assert_change(a, "iface[gone].type", "network", NULL, PF_LAND_LIVE);
        assert_change(a, "iface[gone].source", "old", NULL, PF_LAND_LIVE);
        assert_change(a, "iface[gone].mac", "52:54:00:00:00:01", NULL, PF_LAND_LIVE);
        assert_change(a, "iface[gone].model", "virtio", NULL, PF_LAND_LIVE);
        assert_int_equal(a->landing, PF_LAND_LIVE);
        assert_false(a->disruptive);

        a = act(PF_OP_CHANGE, PF_R_DOMAIN, "h4");
        assert_int_equal(a->changes.n, 1);
        assert_change(a, "iface[lab].queues", NULL, "4", PF_LAND_RESTART);
        assert_true(a->disruptive);

        a = act(PF_OP_CHANGE, PF_R_DOMAIN, "h5");
        assert_int_equal(a->changes.n, 8);
        for (size_t i = 0; i < a->changes.n; i++)
                assert_int_equal(a->changes.v[i].landing, PF_LAND_LIVE);
        assert_change(a, "iface[lab].source", "lab", NULL, PF_LAND_LIVE);
        assert_change(a, "iface[lab2].source", NULL, "lab", PF_LAND_LIVE);
        assert_false(a->disruptive);

        a = act(PF_OP_CHANGE, PF_R_DOMAIN, "h6");
        assert_change(a, "iface[new].model", NULL, "virtio", PF_LAND_LIVE);
        assert_change(a, "vcpus", "2", "4", PF_LAND_RESTART);
        assert_int_equal(a->landing, PF_LAND_RESTART);
        assert_true(a->disruptive);
        assert_int_equal(P.n_disruptive, 3);
}

/* ---- changes that would lose data ---- */

static void vol(pf_objset *s, const char *name, const char *bytes, const char *format, uint32_t line) {
        pf_obj *o = obj(s, PF_R_VOLUME, name, true, true);
        o->loc = (pf_loc) { .src = &SRC, .line = line, .col = 5 };
        if (bytes)
                fld("capacity", bytes, PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        if (format)
                fld("format", format, PF_LAND_LIVE, PF_FIELD_IMMUTABLE);
}

static void test_grow_only(void **state) {
        (void) state;
        vol(&W, "default/small", "1000", "qcow2", 7);
        vol(&H, "default/small", "2000", "qcow2", 0);
        /* compared as numbers: "10000" sorts before "9000" but is larger */
        vol(&W, "default/big", "10000", "qcow2", 12);
        vol(&H, "default/big", "9000", "qcow2", 0);
        /* a shrink next to another change: the error, and the other change only */
        vol(&W, "default/both", "1000", "qcow2", 20);
        fld("label", "new", PF_LAND_LIVE, 0);
        vol(&H, "default/both", "4096", "qcow2", 0);
        fld("label", "old", PF_LAND_LIVE, 0);
        plan(false, false);

        assert_string_equal(plan_str(), "~volume default/big | ~volume default/both");
        assert_int_equal(D.n_errors, 2);
        assert_int_equal(D.n, 2);
        const pf_diag *e = diag_with("volume default/small would shrink from 2000 to 1000 bytes");
        assert_int_equal(e->severity, PF_ERROR);
        assert_ptr_equal(e->loc.src, &SRC);
        assert_int_equal(e->loc.line, 7);
        assert_int_equal(e->loc.col, 5);
        e = diag_with("volume default/both would shrink from 4096 to 1000 bytes");
        assert_int_equal(e->loc.line, 20);

        const pf_action *big = act(PF_OP_CHANGE, PF_R_VOLUME, "default/big");
        assert_int_equal(big->changes.n, 1);
        assert_change(big, "capacity", "9000", "10000", PF_LAND_LIVE);
        const pf_action *both = act(PF_OP_CHANGE, PF_R_VOLUME, "default/both");
        assert_int_equal(both->changes.n, 1);
        assert_change(both, "label", "old", "new", PF_LAND_LIVE);
}

static void test_grow_only_single_error(void **state) {
        (void) state;
        vol(&W, "default/small", "1000", NULL, 3);
        vol(&H, "default/small", "2000", NULL, 0);
        plan(false, false);
        assert_true(pf_plan_empty(&P));
        assert_int_equal(D.n_errors, 1);
        assert_int_equal(D.v[0].loc.line, 3);
        assert_non_null(strstr(D.v[0].msg, "shrink"));
}

static void test_immutable(void **state) {
        (void) state;
        vol(&W, "default/img", "1000", "raw", 9);
        vol(&H, "default/img", "1000", "qcow2", 0);
        vol(&W, "default/same", "1000", "qcow2", 10);
        vol(&H, "default/same", "1000", "qcow2", 0);
        plan(false, false);
        assert_true(pf_plan_empty(&P));
        assert_int_equal(D.n_errors, 1);
        const pf_diag *e = diag_with("volume default/img: format cannot change from qcow2 to raw");
        assert_int_equal(e->loc.line, 9);
        assert_ptr_equal(e->loc.src, &SRC);
}

/* ---- ownership, pruning and deletion ---- */

static void test_orphans_and_prune(void **state) {
        (void) state;
        obj(&W, PF_R_POOL, "default", true, false);
        fld("path", "/var/lib/libvirt/images", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_POOL, "default", true, true);
        fld("path", "/var/lib/libvirt/images", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_NETWORK, "old", true, true);           /* owned, undeclared */
        obj(&H, PF_R_NETWORK, "theirs", true, false);       /* not podform's */
        obj(&H, PF_R_DOMAIN, "gone", true, true);           /* owned, running */
        obj(&H, PF_R_DOMAIN, "stopped", false, true);       /* owned, shut off */
        obj(&H, PF_R_DOMAIN, "mine", true, false);          /* not podform's */
        obj(&H, PF_R_VOLUME, "default/mine.img", true, false);

        plan(false, false);
        assert_true(pf_plan_empty(&P));
        assert_int_equal(P.orphans.n, 3);
        bool seen[3] = { false };
        for (size_t i = 0; i < P.orphans.n; i++) {
                const pf_obj *o = P.orphans.v[i].obj;
                if (o->kind == PF_R_NETWORK && !strcmp(o->name, "old"))
                        seen[0] = true;
                else if (o->kind == PF_R_DOMAIN && !strcmp(o->name, "gone"))
                        seen[1] = true;
                else if (o->kind == PF_R_DOMAIN && !strcmp(o->name, "stopped"))
                        seen[2] = true;
                else
                        fail_msg("unexpected orphan %s %s", pf_rkind_name(o->kind), o->name);
        }
        assert_true(seen[0] && seen[1] && seen[2]);

        plan(true, false);
        assert_int_equal(P.orphans.n, 0);
        assert_int_equal(P.n_delete, 3);
        assert_int_equal(P.actions.n, 3);
        assert_true(act(PF_OP_DELETE, PF_R_DOMAIN, "gone")->disruptive);
        assert_false(act(PF_OP_DELETE, PF_R_DOMAIN, "stopped")->disruptive);
        assert_false(act(PF_OP_DELETE, PF_R_NETWORK, "old")->disruptive);
        assert_int_equal(P.n_disruptive, 1);
        /* what podform did not create is never deleted */
        assert_int_equal(act_index(PF_OP_DELETE, PF_R_NETWORK, "theirs"), SIZE_MAX);
        assert_int_equal(act_index(PF_OP_DELETE, PF_R_DOMAIN, "mine"), SIZE_MAX);
        assert_int_equal(act_index(PF_OP_DELETE, PF_R_VOLUME, "default/mine.img"), SIZE_MAX);
        /* the domains go before the network */
        assert_true(act_index(PF_OP_DELETE, PF_R_DOMAIN, "gone") < act_index(PF_OP_DELETE, PF_R_NETWORK, "old"));
        assert_true(act_index(PF_OP_DELETE, PF_R_DOMAIN, "stopped") < act_index(PF_OP_DELETE, PF_R_NETWORK, "old"));
}

static void test_delete_order_and_deps(void **state) {
        (void) state;
        /* inserted in creation order, so reverse kind order is the planner's doing */
        obj(&H, PF_R_POOL, "a", true, true);
        obj(&H, PF_R_POOL, "b", true, true);
        pf_obj *o = obj(&H, PF_R_VOLUME, "a/disk1", true, true);
        o->size = 1;
        need(PF_R_POOL, "a");
        obj(&H, PF_R_VOLUME, "a/disk2", true, true);
        need(PF_R_POOL, "a");
        obj(&H, PF_R_VOLUME, "b/v", true, true);
        need(PF_R_POOL, "b");
        obj(&H, PF_R_NETWORK, "n", true, true);
        obj(&H, PF_R_DOMAIN, "x", true, true);
        need(PF_R_VOLUME, "a/disk1");
        need(PF_R_NETWORK, "n");
        obj(&H, PF_R_DOMAIN, "y", false, true);
        need(PF_R_VOLUME, "a/disk2");
        /* uses something podform does not own, or that stays: no dependency to invent */
        need(PF_R_NETWORK, "theirs");
        obj(&H, PF_R_NETWORK, "theirs", true, false);
        plan(true, false);

        assert_int_equal(P.n_delete, 8);
        size_t x = act_index(PF_OP_DELETE, PF_R_DOMAIN, "x"), y = act_index(PF_OP_DELETE, PF_R_DOMAIN, "y"),
               n = act_index(PF_OP_DELETE, PF_R_NETWORK, "n"), d1 = act_index(PF_OP_DELETE, PF_R_VOLUME, "a/disk1"),
               d2 = act_index(PF_OP_DELETE, PF_R_VOLUME, "a/disk2"), bv = act_index(PF_OP_DELETE, PF_R_VOLUME, "b/v"),
               pa = act_index(PF_OP_DELETE, PF_R_POOL, "a"), pb = act_index(PF_OP_DELETE, PF_R_POOL, "b");
        /* domains, then networks, then volumes, then pools */
        assert_true(x < 2 && y < 2);
        assert_int_equal(n, 2);
        assert_true(d1 >= 3 && d1 <= 5 && d2 >= 3 && d2 <= 5 && bv >= 3 && bv <= 5);
        assert_true(pa >= 6 && pb >= 6);
        assert_deps(&P.actions.v[x], 0);
        assert_deps(&P.actions.v[y], 0);
        assert_deps(&P.actions.v[n], 1, x);
        assert_deps(&P.actions.v[d1], 1, x);
        assert_deps(&P.actions.v[d2], 1, y);
        assert_deps(&P.actions.v[bv], 0);
        assert_deps(&P.actions.v[pa], 2, d1, d2);
        assert_deps(&P.actions.v[pb], 1, bv);
        assert_true(P.actions.v[x].disruptive);
        assert_false(P.actions.v[y].disruptive);
        assert_int_equal(P.n_disruptive, 1);
}

/* schemas/plan.schema.json: "deletions in reverse kind order (vm, network, volume, pool); within
 * a kind, by name". The planner walks the whole sorted list backwards, so names come out in
 * reverse (z before a) within each kind. */
static void test_delete_names_sorted(void **state) {
        (void) state;
        obj(&H, PF_R_VOLUME, "p/a", false, true);
        obj(&H, PF_R_VOLUME, "p/b", false, true);
        obj(&H, PF_R_DOMAIN, "a", false, true);
        obj(&H, PF_R_DOMAIN, "b", false, true);
        obj(&H, PF_R_DOMAIN, "c", false, true);
        plan(true, false);
        assert_string_equal(plan_str(), "-vm a | -vm b | -vm c | -volume p/a | -volume p/b");
}

/* A deletion waits for everything that used the object. A declared VM whose live definition
 * still uses an undeclared network (its NIC moves to another one) is changed, not deleted, so the
 * network's deletion must wait for that change: if the change fails, the running guest still
 * uses the network. */
static void test_delete_waits_for_change_of_user(void **state) {
        (void) state;
        obj(&W, PF_R_NETWORK, "new", true, false);
        obj(&W, PF_R_DOMAIN, "web", true, false);
        iface("lab", "new", "virtio");
        need(PF_R_NETWORK, "new");
        obj(&H, PF_R_NETWORK, "old", true, true);
        obj(&H, PF_R_DOMAIN, "web", true, true);
        iface("lab", "old", "virtio");
        need(PF_R_NETWORK, "old");
        plan(true, true);
        assert_string_equal(plan_str(), "+network new | ~vm web | -network old");
        size_t nn = act_index(PF_OP_CREATE, PF_R_NETWORK, "new"), web = act_index(PF_OP_CHANGE, PF_R_DOMAIN, "web");
        assert_deps(&P.actions.v[web], 1, nn);
        assert_deps(act(PF_OP_DELETE, PF_R_NETWORK, "old"), 1, web);
}

/* Prune never deletes what something that stays still uses: a declared VM that needs an
 * undeclared owned network, or a hand-made VM on an owned network. Both are plan errors. */
static void test_prune_keeps_what_is_used(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "web", true, false);
        iface("lab", "old", "virtio");
        need(PF_R_NETWORK, "old");
        obj(&H, PF_R_NETWORK, "old", true, true);
        obj(&H, PF_R_DOMAIN, "web", true, true);
        iface("lab", "old", "virtio");
        need(PF_R_NETWORK, "old");
        plan(true, false);
        assert_int_equal(D.n_errors, 1);
        assert_non_null(strstr(D.v[0].msg, "vm web uses network old, which is podform's and no longer declared"));
}

static void test_prune_keeps_what_foreign_objects_use(void **state) {
        (void) state;
        obj(&H, PF_R_NETWORK, "old", true, true);
        obj(&H, PF_R_DOMAIN, "handmade", true, false);
        iface("nic", "old", "virtio");
        need(PF_R_NETWORK, "old");
        plan(true, false);
        assert_int_equal(D.n_errors, 1);
        assert_non_null(strstr(D.v[0].msg, "prune would delete network old, but vm handmade (not podform's) still uses it"));
        /* without prune it is only listed */
        pf_diag_free(&D);
        D = (pf_diags) { 0 };
        plan(false, false);
        assert_int_equal(D.n_errors, 0);
        assert_int_equal(P.orphans.n, 1);
}

/* Links come before everything libvirt puts on them and go after it: bridges, then macvlans
 * and macvtaps (which may sit on a bridge), then pools, volumes, networks, VMs; deletions in
 * reverse. */
static void test_links_order(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "vm", true, false);
        need(PF_R_MACVTAP, "mvt0");
        need(PF_R_BRIDGE, "br0");
        obj(&W, PF_R_NETWORK, "net", true, false);
        need(PF_R_BRIDGE, "br0");
        obj(&W, PF_R_MACVTAP, "mvt0", true, false);
        fld("type", "macvtap", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_MACVLAN, "a-shim", true, false);
        fld("type", "macvlan", PF_LAND_RECREATE, 0);
        need(PF_R_BRIDGE, "br0");
        obj(&W, PF_R_BRIDGE, "br0", true, false);
        fld("type", "bridge", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_POOL, "pool", true, false);
        /* owned, undeclared: pruned after the VM that used them */
        obj(&H, PF_R_DOMAIN, "old-vm", false, true);
        need(PF_R_BRIDGE, "old-br");
        need(PF_R_MACVTAP, "old-mvt");
        obj(&H, PF_R_BRIDGE, "old-br", false, true);
        obj(&H, PF_R_MACVTAP, "old-mvt", false, true);
        plan(true, false);
        assert_int_equal(D.n_errors, 0);
        /* act() fails the test when an action is missing, so every index below is real */
#define AT(op, kind, name) ((size_t) (act(op, kind, name) - P.actions.v))
        size_t br = AT(PF_OP_CREATE, PF_R_BRIDGE, "br0"), shim = AT(PF_OP_CREATE, PF_R_MACVLAN, "a-shim"),
               mvt = AT(PF_OP_CREATE, PF_R_MACVTAP, "mvt0"), pool = AT(PF_OP_CREATE, PF_R_POOL, "pool"),
               net = AT(PF_OP_CREATE, PF_R_NETWORK, "net"), vm = AT(PF_OP_CREATE, PF_R_DOMAIN, "vm");
        assert_true(br < shim && shim < mvt && mvt < pool && pool < net && net < vm);
        size_t dvm = AT(PF_OP_DELETE, PF_R_DOMAIN, "old-vm"), dmvt = AT(PF_OP_DELETE, PF_R_MACVTAP, "old-mvt"),
               dbr = AT(PF_OP_DELETE, PF_R_BRIDGE, "old-br");
#undef AT
        assert_true(vm < dvm && dvm < dmvt && dmvt < dbr);
        /* a VM waits for the links it uses; the shim for its bridge; deletions for the VM */
        const pf_action *a = &P.actions.v[vm];
        bool on_mvt = false, on_br = false;
        for (size_t i = 0; i < a->deps.n; i++) {
                on_mvt |= a->deps.v[i] == mvt;
                on_br |= a->deps.v[i] == br;
        }
        assert_true(on_mvt && on_br);
        assert_int_equal(P.actions.v[shim].deps.n, 1);
        assert_int_equal(P.actions.v[shim].deps.v[0], br);
        assert_int_equal(P.actions.v[dbr].deps.n, 1);
        assert_int_equal(P.actions.v[dbr].deps.v[0], dvm);
}

/* A link recreated (new parent) disrupts only while something uses it; so does a macvtap's
 * new MAC, which lands in place but leaves a running guest on its old one. */
static void test_link_disruption_follows_use(void **state) {
        (void) state;
        const char *names[] = { "idle", "used" };
        for (int k = 0; k < 2; k++) {
                obj(&W, PF_R_MACVTAP, names[k], true, false);
                fld("parent", "eno3", PF_LAND_RECREATE, 0);
                obj(&H, PF_R_MACVTAP, names[k], false, true);
                fld("parent", "eno2", PF_LAND_RECREATE, 0);
        }
        char mac_names[2][16] = { "mac-idle", "mac-used" };
        for (int k = 0; k < 2; k++) {
                obj(&W, PF_R_MACVTAP, mac_names[k], true, false);
                fld("macAddress", "52:54:00:00:00:02", PF_LAND_LIVE, PF_FIELD_DISRUPTS);
                obj(&H, PF_R_MACVTAP, mac_names[k], false, true);
                fld("macAddress", "52:54:00:00:00:01", PF_LAND_LIVE, PF_FIELD_DISRUPTS);
        }
        obj(&H, PF_R_DOMAIN, "vm", true, false);
        need(PF_R_MACVTAP, "used");
        need(PF_R_MACVTAP, "mac-used");
        obj(&W, PF_R_DOMAIN, "vm", true, false);
        need(PF_R_MACVTAP, "used");
        need(PF_R_MACVTAP, "mac-used");
        seal();
        pf_objset_mark_used(&H);
        plan(false, false);
        const pf_action *idle = act(PF_OP_CHANGE, PF_R_MACVTAP, "idle"), *used = act(PF_OP_CHANGE, PF_R_MACVTAP, "used");
        assert_int_equal(idle->landing, PF_LAND_RECREATE);      /* the plan says how it lands... */
        assert_false(idle->disruptive);                         /* ...and that it disrupts nobody */
        assert_int_equal(used->landing, PF_LAND_RECREATE);
        assert_true(used->disruptive);
        const pf_action *mi = act(PF_OP_CHANGE, PF_R_MACVTAP, "mac-idle"), *mu = act(PF_OP_CHANGE, PF_R_MACVTAP, "mac-used");
        assert_int_equal(mi->landing, PF_LAND_LIVE);
        assert_false(mi->disruptive);
        assert_int_equal(mu->landing, PF_LAND_LIVE);
        assert_true(mu->disruptive);
        assert_int_equal(P.n_disruptive, 2);
}

/* Stopping a running VM is live (an API call) but disruptive; starting one is not. */
static void test_stopping_is_disruptive(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "a", false, false);
        fld("running", "no", PF_LAND_LIVE, PF_FIELD_STOPS);
        obj(&W, PF_R_DOMAIN, "b", true, false);
        fld("running", "yes", PF_LAND_LIVE, PF_FIELD_STOPS);
        obj(&H, PF_R_DOMAIN, "a", true, true);
        fld("running", "yes", PF_LAND_LIVE, PF_FIELD_STOPS);
        obj(&H, PF_R_DOMAIN, "b", false, true);
        fld("running", "no", PF_LAND_LIVE, PF_FIELD_STOPS);
        plan(false, false);
        const pf_action *a = act(PF_OP_CHANGE, PF_R_DOMAIN, "a"), *b = act(PF_OP_CHANGE, PF_R_DOMAIN, "b");
        assert_int_equal(a->landing, PF_LAND_LIVE);
        assert_true(a->disruptive);
        assert_false(b->disruptive);
        assert_int_equal(P.n_disruptive, 1);
}

/* A volume dropped from a running VM's definition stays while the VM runs with it. */
static void test_volume_kept_while_running_vm_uses_it(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "web", true, false);
        fld("memory", "1024", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "web", true, true);
        fld("memory", "1024", PF_LAND_RESTART, 0);
        fld("disk[p/web-old]", "dev=vdb", PF_LAND_RESTART, 0);
        need(PF_R_VOLUME, "p/web-old");
        obj(&H, PF_R_VOLUME, "p/web-old", true, true);
        plan(true, false);
        assert_int_equal(act_index(PF_OP_DELETE, PF_R_VOLUME, "p/web-old"), SIZE_MAX);
        assert_int_equal(P.orphans.n, 1);
        assert_string_equal(P.orphans.v[0].used_by->name, "web");
        /* restarting it now: the volume goes after the restart */
        plan(true, true);
        size_t web = act_index(PF_OP_CHANGE, PF_R_DOMAIN, "web");
        assert_deps(act(PF_OP_DELETE, PF_R_VOLUME, "p/web-old"), 1, web);
        assert_int_equal(P.orphans.n, 0);
}

/* A running VM whose written definition waits for a restart: a note without --allow-restart,
 * a restart-only change with it; a VM with other changes lands at restart either way. */
static void test_stale_vm(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "old", true, false);
        fld("memory", "2048", PF_LAND_RESTART, 0);
        obj(&W, PF_R_DOMAIN, "other", true, false);
        fld("memory", "2048", PF_LAND_RESTART, 0);
        fld("autostart", "yes", PF_LAND_LIVE, 0);
        pf_obj *h = obj(&H, PF_R_DOMAIN, "old", true, true);
        h->stale = true;
        fld("memory", "2048", PF_LAND_RESTART, 0);
        h = obj(&H, PF_R_DOMAIN, "other", true, true);
        h->stale = true;
        fld("memory", "2048", PF_LAND_RESTART, 0);
        fld("autostart", "no", PF_LAND_LIVE, 0);
        plan(false, false);
        assert_int_equal(P.stale.n, 1);
        assert_string_equal(P.stale.v[0]->name, "old");
        const pf_action *a = act(PF_OP_CHANGE, PF_R_DOMAIN, "other");
        assert_int_equal(a->landing, PF_LAND_RESTART);
        assert_false(a->restart);
        plan(false, true);
        assert_int_equal(P.stale.n, 0);
        a = act(PF_OP_CHANGE, PF_R_DOMAIN, "old");
        assert_true(a->restart);
        assert_int_equal(a->changes.n, 1);
        assert_string_equal(a->changes.v[0].key, "restart");
        assert_true(act(PF_OP_CHANGE, PF_R_DOMAIN, "other")->restart);
}

static void test_create_deps(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "d", true, false);
        fld("vcpus", "1", PF_LAND_RESTART, 0);
        need(PF_R_VOLUME, "p/v");
        need(PF_R_NETWORK, "n");
        need(PF_R_NETWORK, "existing");
        need(PF_R_VOLUME, "q/kept");
        obj(&W, PF_R_DOMAIN, "e", true, false);
        need(PF_R_NETWORK, "existing");
        obj(&W, PF_R_DOMAIN, "g", true, false);
        need(PF_R_NETWORK, "changed");
        obj(&W, PF_R_VOLUME, "p/v", true, false);
        fld("capacity", "1024", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        need(PF_R_POOL, "p");
        obj(&W, PF_R_VOLUME, "q/kept", true, false);
        fld("capacity", "1024", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        need(PF_R_POOL, "q");
        obj(&W, PF_R_POOL, "p", true, false);
        obj(&W, PF_R_POOL, "q", true, false);
        obj(&W, PF_R_NETWORK, "n", true, false);
        obj(&W, PF_R_NETWORK, "existing", true, false);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_NETWORK, "changed", true, false);
        fld("forward", "route", PF_LAND_RECREATE, 0);
        /* live: pool q and its volume as declared, network "existing" as declared, "changed" not */
        obj(&H, PF_R_POOL, "q", true, true);
        obj(&H, PF_R_VOLUME, "q/kept", true, true);
        fld("capacity", "1024", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
        need(PF_R_POOL, "q");
        obj(&H, PF_R_NETWORK, "existing", true, true);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_NETWORK, "changed", true, true);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        /* a live domain that uses a changed network: its change waits for the network's */
        obj(&W, PF_R_DOMAIN, "h", true, false);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        need(PF_R_NETWORK, "changed");
        obj(&H, PF_R_DOMAIN, "h", true, true);
        fld("vcpus", "1", PF_LAND_RESTART, 0);
        need(PF_R_NETWORK, "changed");
        plan(false, false);

        assert_string_equal(plan_str(), "+pool p | +volume p/v | ~network changed | +network n | "
                                        "+vm d | +vm e | +vm g | ~vm h");
        size_t pp = act_index(PF_OP_CREATE, PF_R_POOL, "p"), pv = act_index(PF_OP_CREATE, PF_R_VOLUME, "p/v"),
               nc = act_index(PF_OP_CHANGE, PF_R_NETWORK, "changed"), nn = act_index(PF_OP_CREATE, PF_R_NETWORK, "n");
        assert_deps(&P.actions.v[pp], 0);
        assert_deps(&P.actions.v[pv], 1, pp);
        assert_deps(&P.actions.v[nc], 0);
        assert_deps(&P.actions.v[nn], 0);
        /* not on "existing" or "q/kept": nothing happens to them */
        assert_deps(act(PF_OP_CREATE, PF_R_DOMAIN, "d"), 2, pv, nn);
        assert_deps(act(PF_OP_CREATE, PF_R_DOMAIN, "e"), 0);
        assert_deps(act(PF_OP_CREATE, PF_R_DOMAIN, "g"), 1, nc);
        assert_deps(act(PF_OP_CHANGE, PF_R_DOMAIN, "h"), 1, nc);
}

static void test_adopted(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "adopt", true, false);
        fld("autostart", "yes", PF_LAND_LIVE, 0);
        obj(&H, PF_R_DOMAIN, "adopt", true, false);
        fld("autostart", "no", PF_LAND_LIVE, 0);
        obj(&W, PF_R_DOMAIN, "own", true, false);
        fld("autostart", "yes", PF_LAND_LIVE, 0);
        obj(&H, PF_R_DOMAIN, "own", true, true);
        fld("autostart", "no", PF_LAND_LIVE, 0);
        /* adopted and equal: nothing to do, nothing to say */
        obj(&W, PF_R_NETWORK, "quiet", true, false);
        obj(&H, PF_R_NETWORK, "quiet", true, false);
        plan(true, false);
        assert_string_equal(plan_str(), "~vm adopt | ~vm own");
        assert_true(act(PF_OP_CHANGE, PF_R_DOMAIN, "adopt")->adopted);
        assert_false(act(PF_OP_CHANGE, PF_R_DOMAIN, "own")->adopted);
        char *text = text_of(false, false);
        assert_string_equal(text, "~ vm adopt (live; not created by podform: only declared fields are managed)\n"
                                  "    autostart: no -> yes  [live]\n"
                                  "~ vm own (live)\n"
                                  "    autostart: no -> yes  [live]\n"
                                  "Plan: 0 to create, 2 to change, 0 to delete.\n");
        free(text);
}

static void test_summary_counts(void **state) {
        (void) state;
        obj(&W, PF_R_NETWORK, "new1", true, false);
        obj(&W, PF_R_NETWORK, "new2", true, false);
        obj(&W, PF_R_DOMAIN, "live", true, false);
        fld("autostart", "yes", PF_LAND_LIVE, 0);
        obj(&H, PF_R_DOMAIN, "live", true, true);
        fld("autostart", "no", PF_LAND_LIVE, 0);
        obj(&W, PF_R_DOMAIN, "restart", true, false);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "restart", true, true);
        fld("vcpus", "1", PF_LAND_RESTART, 0);
        obj(&W, PF_R_NETWORK, "recreate", true, false);
        fld("bridge", "br1", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_NETWORK, "recreate", true, true);
        fld("bridge", "br0", PF_LAND_RECREATE, 0);
        obj(&H, PF_R_DOMAIN, "old-running", true, true);
        obj(&H, PF_R_DOMAIN, "old-off", false, true);
        obj(&H, PF_R_VOLUME, "p/old", false, true);
        plan(true, false);
        assert_int_equal(P.n_create, 2);
        assert_int_equal(P.n_change, 3);
        assert_int_equal(P.n_delete, 3);
        assert_int_equal(P.n_disruptive, 3);    /* restart, recreate, old-running */
        assert_int_equal(P.actions.n, 8);
}

/* ---- output ---- */

/* create network lab; change vm web (restart); delete volume default/old (1 GiB) */
static void small_plan_sets(void) {
        obj(&W, PF_R_NETWORK, "lab", true, false);
        fld("forward", "nat", PF_LAND_RECREATE, 0);
        fld("bridge", "virbr9", PF_LAND_RECREATE, 0);
        obj(&W, PF_R_DOMAIN, "web", true, false);
        fld("vcpus", "4", PF_LAND_RESTART, 0);
        fld("note", "say \"hi\"\\\n\t\x01", PF_LAND_LIVE, 0);
        need(PF_R_NETWORK, "lab");
        obj(&H, PF_R_DOMAIN, "web", true, true);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        fld("serial", "pty", PF_LAND_RESTART, 0);
        pf_obj *o = obj(&H, PF_R_VOLUME, "default/old", false, true);
        o->size = 1073741824;
        obj(&H, PF_R_DOMAIN, "old", true, true);
}

static void test_print_text(void **state) {
        (void) state;
        small_plan_sets();
        plan(true, false);
        char *text = text_of(false, false);
        assert_string_equal(text, "+ network lab\n"
                                  "! vm web (restart)\n"
                                  "    note: (none) -> say \"hi\"\\\n\t\x01  [live]\n"
                                  "    serial: pty -> (none)  [restart]\n"
                                  "    vcpus: 2 -> 4  [restart]\n"
                                  "! vm old (running: it is stopped first)\n"
                                  "- volume default/old (capacity 1.0 GiB)\n"
                                  "Plan: 1 to create, 1 to change, 2 to delete; 2 marked ! disrupt running guests or "
                                  "need a restart.\n");
        free(text);

        /* verbose: a creation lists its fields */
        text = text_of(false, true);
        assert_non_null(strstr(text, "+ network lab\n    bridge: virbr9\n    forward: nat\n! vm web (restart)\n"));
        free(text);

        /* color: only the sign is colored */
        text = text_of(true, false);
        assert_non_null(strstr(text, "\033[32m+\033[0m network lab\n"));
        assert_non_null(strstr(text, "\033[1;33m!\033[0m vm web (restart)\n"));
        assert_non_null(strstr(text, "\033[31m-\033[0m volume default/old (capacity 1.0 GiB)\n"));
        free(text);

        /* --allow-restart */
        plan(true, true);
        text = text_of(false, false);
        assert_non_null(strstr(text, "! vm web (restarted now)\n"));
        free(text);

        /* no prune: the orphans are listed, and the rest is the plan */
        plan(false, false);
        text = text_of(false, false);
        assert_non_null(strstr(text, "  volume default/old is podform's but no longer declared; --prune deletes it\n"));
        assert_non_null(strstr(text, "\nPlan: 1 to create, 1 to change, 0 to delete; 1 marked ! disrupt running guests "
                                     "or need a restart.\n"));
        free(text);
}

static void test_print_text_empty(void **state) {
        (void) state;
        same_everything(&W, false);
        same_everything(&H, false);
        plan(true, false);
        char *text = text_of(false, false);
        assert_string_equal(text, "No changes: the host matches the configuration.\n");
        free(text);

        /* a change without disruption: no '!' part in the summary */
        teardown(NULL);
        setup(NULL);
        obj(&W, PF_R_NETWORK, "pods", true, false);
        fld("forward", "nat", PF_LAND_LIVE, 0);
        obj(&H, PF_R_NETWORK, "pods", true, true);
        fld("forward", "route", PF_LAND_LIVE, 0);
        obj(&H, PF_R_DOMAIN, "stray", false, true);
        plan(false, false);
        text = text_of(false, false);
        assert_string_equal(text, "~ network pods (live)\n"
                                  "    forward: route -> nat  [live]\n"
                                  "  vm stray is podform's but no longer declared; --prune deletes it\n"
                                  "Plan: 0 to create, 1 to change, 0 to delete.\n");
        free(text);
}

static void test_print_volume_sizes(void **state) {
        (void) state;
        static const struct { uint64_t bytes; const char *text; } cases[] = {
                { 0, "- volume p/v (capacity 0 B)" },
                { 512, "- volume p/v (capacity 512 B)" },
                { 1023, "- volume p/v (capacity 1023 B)" },
                { 1536, "- volume p/v (capacity 1.5 KiB)" },
                { 10737418240ull, "- volume p/v (capacity 10.0 GiB)" },
                { 5ull << 40, "- volume p/v (capacity 5.0 TiB)" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                teardown(NULL);
                setup(NULL);
                obj(&H, PF_R_VOLUME, "p/v", true, true)->size = cases[i].bytes;
                plan(true, false);
                assert_int_equal(P.actions.n, 1);
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);
                assert_non_null(f);
                pf_action_print_head(&P.actions.v[0], f, false);
                assert_int_equal(fclose(f), 0);
                assert_string_equal(buf, cases[i].text);
                free(buf);
        }
}

static void test_print_json(void **state) {
        (void) state;
        small_plan_sets();
        plan(true, false);
        char *json = json_of("lab-host", "qemu:///system");
        if (!json_valid(json) || !json_balanced(json))
                fail_msg("invalid JSON: %s", json);
        assert_true(strncmp(json, "{\"format_version\":1,\"host\":\"lab-host\",\"connect\":\"qemu:///system\","
                                  "\"actions\":[{\"index\":0,",
                            strlen("{\"format_version\":1,\"host\":\"lab-host\",\"connect\":\"qemu:///system\","
                                   "\"actions\":[{\"index\":0,")) == 0);
        assert_non_null(strstr(json, "{\"index\":0,\"op\":\"create\",\"kind\":\"network\",\"name\":\"lab\","
                                     "\"landing\":\"live\",\"disruptive\":false,\"restart\":false,\"adopted\":false,"
                                     "\"depends_on\":[],\"changes\":[{\"field\":\"bridge\",\"old\":null,\"new\":\"virbr9\","
                                     "\"landing\":\"live\"},"));
        assert_non_null(strstr(json, "{\"index\":1,\"op\":\"change\",\"kind\":\"vm\",\"name\":\"web\","
                                     "\"landing\":\"restart\",\"disruptive\":true,\"restart\":false,\"adopted\":false,"
                                     "\"depends_on\":[0],\"changes\":["));
        /* escaped: quote, backslash, newline, tab, a control byte */
        assert_non_null(strstr(json, "{\"field\":\"note\",\"old\":null,\"new\":\"say \\\"hi\\\"\\\\\\n\\t\\u0001\","
                                     "\"landing\":\"live\"}"));
        assert_non_null(strstr(json, "{\"field\":\"serial\",\"old\":\"pty\",\"new\":null,\"landing\":\"restart\"}"));
        assert_non_null(strstr(json, "\"op\":\"delete\",\"kind\":\"volume\",\"name\":\"default/old\",\"landing\":\"live\","
                                     "\"disruptive\":false,\"restart\":false,\"adopted\":false,\"size\":1073741824,"
                                     "\"depends_on\":[],\"changes\":[]}"));
        assert_non_null(strstr(json, "\"op\":\"delete\",\"kind\":\"vm\",\"name\":\"old\",\"landing\":\"live\","
                                     "\"disruptive\":true,"));
        assert_non_null(strstr(json, "],\"orphans\":[],\"pending_restart\":[],\"attachments\":[],\"summary\":{\"create\":1,\"change\":1,\"delete\":2,"
                                     "\"disruptive\":2}}\n"));
        free(json);

        /* orphans, a dependency, and a NULL host */
        plan(false, true);
        json = json_of(NULL, "qemu:///system");
        if (!json_valid(json) || !json_balanced(json))
                fail_msg("invalid JSON: %s", json);
        assert_non_null(strstr(json, "\"host\":\"\","));
        assert_non_null(strstr(json, "\"name\":\"web\",\"landing\":\"restart\",\"disruptive\":true,\"restart\":true,"
                                     "\"adopted\":false,\"depends_on\":[0],"));
        assert_non_null(strstr(json, "\"orphans\":[{\"kind\":\"vm\",\"name\":\"old\"},"));
        assert_non_null(strstr(json, "{\"kind\":\"volume\",\"name\":\"default/old\"}"));
        assert_non_null(strstr(json, "\"summary\":{\"create\":1,\"change\":1,\"delete\":0,\"disruptive\":1}}\n"));
        free(json);

        /* the empty plan */
        teardown(NULL);
        setup(NULL);
        plan(false, false);
        json = json_of("h", "test:///default");
        assert_string_equal(json, "{\"format_version\":1,\"host\":\"h\",\"connect\":\"test:///default\",\"actions\":[],"
                                  "\"orphans\":[],\"pending_restart\":[],\"attachments\":[],\"summary\":{\"create\":0,\"change\":0,\"delete\":0,\"disruptive\":0}}\n");
        assert_true(json_valid(json));
        free(json);
}

/* Validates plans against schemas/plan.schema.json with python3-jsonschema, once that schema
 * exists. */
static bool write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        if (!f)
                return false;
        bool ok = fputs(text, f) >= 0;
        return fclose(f) == 0 && ok;
}

static void test_json_schema(void **state) {
        (void) state;
        const char *schema = SRCDIR "/schemas/plan.schema.json";
        if (access(schema, R_OK) != 0) {
                print_message("skipped: %s does not exist yet\n", schema);
                skip();
        }
        const char *python = getenv("PYTHON");
        if (!python || !*python || !strcmp(python, ":"))
                python = "python3";
        char cmd[4096];
        snprintf(cmd, sizeof(cmd), "%s -c 'import jsonschema' >/dev/null 2>&1", python);
        if (system(cmd) != 0) {
                print_message("skipped: %s has no jsonschema module (apt-get install python3-jsonschema)\n", python);
                skip();
        }

        char dir[] = "/tmp/test_plan.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char paths[4][256];
        size_t n = 0;
        /* the small plan, pruned and not; a plan with every kind created; the empty plan */
        small_plan_sets();
        for (int prune = 0; prune < 2; prune++) {
                plan(prune, !prune);
                char *json = json_of("lab-host", "qemu:///system");
                snprintf(paths[n], sizeof(paths[n]), "%s/plan%zu.json", dir, n);
                assert_true(write_file(paths[n++], json));
                free(json);
        }
        teardown(NULL);
        setup(NULL);
        same_everything(&W, false);
        obj(&W, PF_R_VOLUME, "default/extra", true, false);
        plan(false, false);
        char *json = json_of("lab-host", "qemu:///system");
        snprintf(paths[n], sizeof(paths[n]), "%s/plan%zu.json", dir, n);
        assert_true(write_file(paths[n++], json));
        free(json);
        teardown(NULL);
        setup(NULL);
        plan(false, false);
        json = json_of("lab-host", "qemu:///system");
        snprintf(paths[n], sizeof(paths[n]), "%s/plan%zu.json", dir, n);
        assert_true(write_file(paths[n++], json));
        free(json);

        int len = snprintf(cmd, sizeof(cmd),
                           "%s -c 'import json, sys, jsonschema\n"
                           "schema = json.load(open(sys.argv[1]))\n"
                           "cls = jsonschema.validators.validator_for(schema)\n"
                           "cls.check_schema(schema)\n"
                           "bad = 0\n"
                           "for p in sys.argv[2:]:\n"
                           "    for e in cls(schema).iter_errors(json.load(open(p))):\n"
                           "        bad += 1\n"
                           "        print(\"%%s: %%s: %%s\" %% (p, \"/\".join(map(str, e.absolute_path)), e.message))\n"
                           "sys.exit(1 if bad else 0)' '%s'",
                           python, schema);
        for (size_t i = 0; i < n; i++)
                len += snprintf(cmd + len, sizeof(cmd) - (size_t) len, " '%s'", paths[i]);
        assert_true((size_t) len < sizeof(cmd));
        int rc = system(cmd);
        for (size_t i = 0; i < n; i++)
                unlink(paths[i]);
        rmdir(dir);
        if (rc != 0)
                fail_msg("the plans do not validate against %s", schema);
}

/* ---- duplicate keys in the field builder ---- */

static void test_fields_last_duplicate_wins(void **state) {
        (void) state;
        pf_obj *o = obj(&W, PF_R_DOMAIN, "dup", true, false);
        (void) o;
        /* enough fields that qsort does not fall back to an insertion sort */
        char key[32], value[32];
        for (int round = 0; round < 3; round++)
                for (int i = 0; i < 200; i++) {
                        snprintf(key, sizeof(key), "k%03d", (i * 37) % 200);
                        snprintf(value, sizeof(value), "r%d", round);
                        fld(key, value, PF_LAND_LIVE, 0);
                }
        seal();
        const pf_obj *d = pf_objset_find(&W, PF_R_DOMAIN, "dup");
        assert_int_equal(d->fields.n, 200);
        for (size_t i = 0; i < d->fields.n; i++) {
                snprintf(key, sizeof(key), "k%03zu", i);
                assert_string_equal(d->fields.v[i].key, key);
                assert_string_equal(d->fields.v[i].value, "r2");
        }
        assert_string_equal(pf_obj_field(d, "k123")->value, "r2");
        assert_null(pf_obj_field(d, "k200"));
}

/* ---- capacity ---- */

static pf_obj *cvm(pf_objset *s, const char *name, bool running, unsigned vcpus, uint64_t mib, uint32_t line) {
        pf_obj *o = obj(s, PF_R_DOMAIN, name, running, true);
        o->loc = (pf_loc) { .src = &SRC, .line = line, .col = 3 };
        char v[64];
        fld("running", running ? "yes" : "no", PF_LAND_LIVE, 0);
        snprintf(v, sizeof(v), "%u", vcpus);
        fld("vcpus", v, PF_LAND_RESTART, 0);
        snprintf(v, sizeof(v), "%llu KiB", (unsigned long long) mib * 1024);
        fld("memory", v, PF_LAND_RESTART, 0);
        return o;
}

static void capacity(unsigned cpus, uint64_t mib, double oc_cpu, double oc_mem) {
        seal();
        pf_host host = { .overcommit_cpu = oc_cpu, .overcommit_memory = oc_mem };
        pf_capacity cap = { .host_cpus = cpus, .host_memory_kib = mib * 1024, .host = &host };
        pf_capacity_check(&cap, &W, &H, &D);
}

static void test_capacity_cpu_in_order(void **state) {
        (void) state;
        /* declaration order, not name order: "z-big" is admitted first */
        cvm(&W, "z-big", true, 3, 1024, 10);
        cvm(&W, "stopped", false, 64, 1024, 20);        /* does not run: does not count */
        cvm(&W, "a-small", true, 2, 1024, 30);
        cvm(&W, "b-one", true, 1, 1024, 40);            /* still fits after a-small was refused */
        obj(&W, PF_R_NETWORK, "pods", true, false);     /* not a VM */
        fld("running", "yes", PF_LAND_LIVE, 0);
        fld("vcpus", "100", PF_LAND_LIVE, 0);
        fld("memory", "100 KiB", PF_LAND_LIVE, 0);
        capacity(4, 65536, 1.0, 1.0);
        assert_int_equal(D.n_errors, 1);
        assert_int_equal(D.v[0].loc.line, 30);
        assert_ptr_equal(D.v[0].loc.src, &SRC);
        assert_non_null(strstr(D.v[0].msg, "VM a-small does not fit: its 2 vCPUs would bring running VMs to 5 vCPUs, "
                                           "over the host's 4 CPUs x overcommit cpu 1 = 4"));
}

static void test_capacity_cpu_reversed(void **state) {
        (void) state;
        cvm(&W, "a-small", true, 2, 1024, 30);
        cvm(&W, "z-big", true, 3, 1024, 10);
        capacity(4, 65536, 1.0, 1.0);
        assert_int_equal(D.n_errors, 1);
        assert_int_equal(D.v[0].loc.line, 10);
        assert_non_null(strstr(D.v[0].msg, "VM z-big does not fit: its 3 vCPUs would bring running VMs to 5 vCPUs"));
}

static void test_capacity_memory(void **state) {
        (void) state;
        cvm(&W, "a", true, 1, 6144, 1);
        cvm(&W, "b", true, 1, 4096, 2);
        cvm(&W, "c", true, 1, 2048, 3);         /* exactly fills the host */
        cvm(&W, "d", true, 1, 1, 4);
        capacity(8, 8192, 1.0, 1.0);
        assert_int_equal(D.n_errors, 2);
        assert_int_equal(D.v[0].loc.line, 2);
        assert_non_null(strstr(D.v[0].msg, "VM b does not fit: its 4096 MiB of memory would bring running VMs to "
                                           "10240 MiB, over the host's 8192 MiB x overcommit memory 1 = 8192 MiB"));
        assert_int_equal(D.v[1].loc.line, 4);
        assert_non_null(strstr(D.v[1].msg, "VM d does not fit: its 1 MiB of memory would bring running VMs to 8193 MiB"));
}

static void test_capacity_live_domains(void **state) {
        (void) state;
        /* running, undeclared: counts */
        cvm(&H, "legacy", true, 2, 2048, 0);
        /* shut off, undeclared: does not */
        cvm(&H, "off", false, 16, 65536, 0);
        /* declared: counts with its declared size, once */
        cvm(&H, "a", true, 16, 65536, 0);
        cvm(&W, "a", true, 1, 1024, 1);
        cvm(&W, "b", true, 1, 1024, 2);
        cvm(&W, "c", true, 1, 1024, 3);
        /* declared stopped but running now: it will be stopped, so it does not count */
        cvm(&H, "to-stop", true, 8, 1024, 0);
        cvm(&W, "to-stop", false, 8, 1024, 4);
        capacity(4, 8192, 1.0, 1.0);
        assert_int_equal(D.n_errors, 1);
        assert_int_equal(D.v[0].loc.line, 3);
        assert_non_null(strstr(D.v[0].msg, "VM c does not fit: its 1 vCPUs would bring running VMs to 5 vCPUs"));
}

static void test_capacity_live_memory(void **state) {
        (void) state;
        cvm(&H, "legacy", true, 1, 7168, 0);
        cvm(&W, "web", true, 1, 2048, 5);
        capacity(8, 8192, 1.0, 1.0);
        assert_int_equal(D.n_errors, 1);
        assert_non_null(strstr(D.v[0].msg, "VM web does not fit: its 2048 MiB of memory would bring running VMs to "
                                           "9216 MiB"));
}

static void test_capacity_overcommit(void **state) {
        (void) state;
        char name[16];
        for (int i = 0; i < 9; i++) {
                snprintf(name, sizeof(name), "vm%d", i);
                cvm(&W, name, true, 1, 1024, (uint32_t) i + 1);
        }
        capacity(4, 16384, 2.0, 1.5);
        assert_int_equal(D.n_errors, 1);
        assert_int_equal(D.v[0].loc.line, 9);
        assert_non_null(strstr(D.v[0].msg, "VM vm8 does not fit: its 1 vCPUs would bring running VMs to 9 vCPUs, "
                                           "over the host's 4 CPUs x overcommit cpu 2 = 8"));
        /* memory: 8 x 1 GiB admitted of 16 GiB x 1.5 = 24 GiB; one 17 GiB VM more does not fit */
        cvm(&W, "huge", true, 0, 17408, 50);
        capacity(4, 16384, 2.0, 1.5);
        assert_int_equal(D.n_errors, 3);        /* vm8 again, and huge */
        assert_non_null(strstr(D.v[2].msg, "VM huge does not fit: its 17408 MiB of memory would bring running VMs to "
                                           "25600 MiB, over the host's 16384 MiB x overcommit memory 1.5 = 24576 MiB"));
}

static void test_capacity_fits(void **state) {
        (void) state;
        cvm(&W, "a", true, 2, 4096, 1);
        cvm(&W, "b", true, 2, 4096, 2);
        cvm(&H, "a", true, 2, 4096, 0);
        capacity(4, 8192, 1.0, 1.0);
        assert_int_equal(D.n, 0);
        assert_int_equal(D.n_errors, 0);
}

/* ---- a large plan ---- */

enum { N_POOLS = 20, N_VOLS = 980, N_NETS = 100, N_VMS = 900 };        /* 2000 desired objects */

static void test_large_plan(void **state) {
        (void) state;
        char name[64], value[64];
        /* desired: every VM uses one volume and two networks */
        for (int i = 0; i < N_VMS; i++) {
                snprintf(name, sizeof(name), "vm%04d", i);
                obj(&W, PF_R_DOMAIN, name, true, false);
                snprintf(value, sizeof(value), "%d", 1 + i % 4);
                fld("vcpus", value, PF_LAND_RESTART, 0);
                iface("a", "net", "virtio");
                snprintf(name, sizeof(name), "pool%02d/vol%04d", i % N_POOLS, i);
                need(PF_R_VOLUME, name);
                snprintf(name, sizeof(name), "net%03d", i % N_NETS);
                need(PF_R_NETWORK, name);
                snprintf(name, sizeof(name), "net%03d", (i + 1) % N_NETS);
                need(PF_R_NETWORK, name);
        }
        for (int i = 0; i < N_VOLS; i++) {
                snprintf(name, sizeof(name), "pool%02d/vol%04d", i % N_POOLS, i);
                obj(&W, PF_R_VOLUME, name, true, false);
                fld("capacity", "1073741824", PF_LAND_LIVE, PF_FIELD_GROW_ONLY);
                snprintf(name, sizeof(name), "pool%02d", i % N_POOLS);
                need(PF_R_POOL, name);
        }
        for (int i = 0; i < N_NETS; i++) {
                snprintf(name, sizeof(name), "net%03d", i);
                obj(&W, PF_R_NETWORK, name, true, false);
                fld("forward", "nat", PF_LAND_RECREATE, 0);
        }
        for (int i = 0; i < N_POOLS; i++) {
                snprintf(name, sizeof(name), "pool%02d", i);
                obj(&W, PF_R_POOL, name, true, false);
        }
        assert_int_equal(W.objs.n, 2000);
        /* live: the even VMs exist (every fourth with 1 vCPU too many), the first half of the
         * networks exist; 2000 owned leftovers, each leftover VM using a leftover volume */
        for (int i = 0; i < N_VMS; i += 2) {
                snprintf(name, sizeof(name), "vm%04d", i);
                obj(&H, PF_R_DOMAIN, name, true, true);
                snprintf(value, sizeof(value), "%d", 1 + i % 4 + (i % 4 == 0));
                fld("vcpus", value, PF_LAND_RESTART, 0);
                iface("a", "net", "virtio");
        }
        for (int i = 0; i < N_NETS / 2; i++) {
                snprintf(name, sizeof(name), "net%03d", i);
                obj(&H, PF_R_NETWORK, name, true, true);
                fld("forward", "nat", PF_LAND_RECREATE, 0);
        }
        for (int i = 0; i < 1000; i++) {
                snprintf(name, sizeof(name), "old%04d", i);
                obj(&H, PF_R_DOMAIN, name, i % 2, true);
                snprintf(name, sizeof(name), "oldpool/old%04d", i);
                need(PF_R_VOLUME, name);
                obj(&H, PF_R_VOLUME, name, true, true);
                need(PF_R_POOL, "oldpool");
        }
        obj(&H, PF_R_POOL, "oldpool", true, true);
        plan(true, false);

        size_t creates = N_POOLS + N_VOLS + N_NETS / 2 + N_VMS / 2;
        assert_int_equal(P.n_create, creates);
        assert_int_equal(P.n_change, N_VMS / 4);
        assert_int_equal(P.n_delete, 2001);
        assert_int_equal(P.n_disruptive, N_VMS / 4 + 500);
        assert_int_equal(D.n_errors, 0);
        /* every creation and change depends on exactly the actions of what it needs */
        for (size_t i = 0; i < P.actions.n; i++) {
                const pf_action *a = &P.actions.v[i];
                if (a->op == PF_OP_DELETE) {
                        if (a->kind == PF_R_VOLUME) {
                                assert_int_equal(a->deps.n, 1);
                                const pf_action *user = &P.actions.v[a->deps.v[0]];
                                assert_int_equal(user->kind, PF_R_DOMAIN);
                                assert_string_equal(user->name + 3, a->name + strlen("oldpool/old"));
                        } else if (a->kind == PF_R_POOL) {
                                assert_int_equal(a->deps.n, 1000);
                        } else {
                                assert_int_equal(a->deps.n, 0);
                        }
                        continue;
                }
                size_t expect = 0;
                for (size_t r = 0; r < a->want->needs.n; r++) {
                        const pf_ref *ref = &a->want->needs.v[r];
                        size_t j = act_index(PF_OP_CREATE, ref->kind, ref->name);
                        if (j == SIZE_MAX)
                                j = act_index(PF_OP_CHANGE, ref->kind, ref->name);
                        if (j != SIZE_MAX) {
                                expect++;
                                assert_true(has_dep(a, j));
                        }
                }
                assert_int_equal(a->deps.n, expect);
        }
        /* and without --prune, the leftovers are orphans */
        plan(false, false);
        assert_int_equal(P.n_delete, 0);
        assert_int_equal(P.orphans.n, 2001);
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
                T(test_json_checker),
                T(test_create_each_kind_in_order),
                T(test_create_order_many_names),
                T(test_equal_is_empty),
                T(test_changed_field),
                T(test_sparse),
                T(test_live_only_field),
                T(test_inactive_lands_live),
                T(test_recreate),
                T(test_hotplug),
                T(test_grow_only),
                T(test_grow_only_single_error),
                T(test_immutable),
                T(test_orphans_and_prune),
                T(test_delete_order_and_deps),
                T(test_delete_names_sorted),
                T(test_delete_waits_for_change_of_user),
                T(test_prune_keeps_what_is_used),
                T(test_stopping_is_disruptive),
                T(test_links_order),
                T(test_link_disruption_follows_use),
                T(test_stale_vm),
                T(test_volume_kept_while_running_vm_uses_it),
                T(test_prune_keeps_what_foreign_objects_use),
                T(test_create_deps),
                T(test_adopted),
                T(test_summary_counts),
                T(test_print_text),
                T(test_print_text_empty),
                T(test_print_volume_sizes),
                T(test_print_json),
                T(test_json_schema),
                T(test_fields_last_duplicate_wins),
                T(test_capacity_cpu_in_order),
                T(test_capacity_cpu_reversed),
                T(test_capacity_memory),
                T(test_capacity_live_domains),
                T(test_capacity_live_memory),
                T(test_capacity_overcommit),
                T(test_capacity_fits),
                T(test_large_plan),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
