/* test_plan: what the data cases of test_plan_data (tests/data/plan/) cannot say well: the
 * capacity check, the field builder's duplicate keys, and a plan of 2000 desired objects whose
 * every dependency is checked. Object sets are built by hand. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/capacity.h"
#include "engine/obj.h"
#include "engine/plan.h"

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
        pf_field_add(&b_fields, PF_LAND_LIVE, PF_FIELD_HOTPLUG, source, "iface[%s].source", name);
        pf_field_add(&b_fields, PF_LAND_RESTART, PF_FIELD_HOTPLUG, "52:54:00:00:00:01", "iface[%s].mac", name);
        pf_field_add(&b_fields, PF_LAND_RESTART, PF_FIELD_HOTPLUG, model, "iface[%s].model", name);
}

static void seal(void) {
        b_flush();
        pf_objset_index(&W);
        pf_objset_index(&H);
}

static void plan(bool prune, bool allow_restart) {
        seal();
        if (P_built)
                pf_plan_free(&P);
        pf_plan_opts o = { .prune = prune, .allow_restart = allow_restart };
        pf_plan_build(&P, &W, &H, &o, &D);
        P_built = true;
}

static size_t act_index(pf_op op, pf_rkind kind, const char *name) {
        for (size_t i = 0; i < P.actions.n; i++)
                if (P.actions.v[i].op == op && P.actions.v[i].kind == kind && !strcmp(P.actions.v[i].name, name))
                        return i;
        return SIZE_MAX;
}

static bool has_dep(const pf_action *a, size_t j) {
        for (size_t d = 0; d < a->deps.n; d++)
                if (a->deps.v[d] == j)
                        return true;
        return false;
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

/* ---- whether a desired object's fields match the live one's, as the plan compares them ---- */

static void test_fields_match(void **state) {
        (void) state;
        obj(&W, PF_R_DOMAIN, "same", true, true);
        fld("memory", "262144 KiB", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "same", true, true);
        fld("machine", "pc-i440fx-7.2", PF_LAND_RESTART, PF_FIELD_SPARSE);   /* libvirt's, unasked */
        fld("memory", "262144 KiB", PF_LAND_RESTART, 0);
        obj(&W, PF_R_DOMAIN, "other", true, true);
        fld("memory", "524288 KiB", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "other", true, true);
        fld("memory", "262144 KiB", PF_LAND_RESTART, 0);
        obj(&W, PF_R_DOMAIN, "more", true, true);
        fld("memory", "262144 KiB", PF_LAND_RESTART, 0);
        fld("vcpus", "2", PF_LAND_RESTART, 0);
        obj(&H, PF_R_DOMAIN, "more", true, true);
        fld("memory", "262144 KiB", PF_LAND_RESTART, 0);
        obj(&W, PF_R_DOMAIN, "fewer", true, true);
        obj(&H, PF_R_DOMAIN, "fewer", true, true);
        fld("serial", "pty", PF_LAND_RESTART, 0);
        seal();
        static const struct { const char *name; bool match; } cases[] = {
                { "same", true }, { "other", false }, { "more", false }, { "fewer", false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const pf_obj *w = pf_objset_find(&W, PF_R_DOMAIN, cases[i].name), *h = pf_objset_find(&H, PF_R_DOMAIN, cases[i].name);
                assert_int_equal(pf_obj_fields_match(w, h), cases[i].match);
        }
        /* it says what the plan finds: no action exactly where they match */
        plan(false, false);
        assert_int_equal(act_index(PF_OP_CHANGE, PF_R_DOMAIN, "same"), SIZE_MAX);
        assert_true(act_index(PF_OP_CHANGE, PF_R_DOMAIN, "other") != SIZE_MAX);
        assert_true(act_index(PF_OP_CHANGE, PF_R_DOMAIN, "more") != SIZE_MAX);
        assert_true(act_index(PF_OP_CHANGE, PF_R_DOMAIN, "fewer") != SIZE_MAX);
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
                T(test_fields_last_duplicate_wins),
                T(test_fields_match),
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
