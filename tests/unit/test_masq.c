/* test_masq: the addresses of podform's NAT network (resolve/masq.c), table-driven: derived from
 * the MAC alone, the same run after run and whatever else is declared, a live one kept, a
 * collision moved to the next free address, a full range an error at the interface. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/values.h"
#include "resolve/masq.h"
#include "util/diag.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { MAX_NICS = 8 };

typedef struct nic_case { const char *vm, *mac, *live, *want; } nic_case;

typedef struct masq_case {
        const char *name;
        const char *range;
        nic_case nics[MAX_NICS];
        const char *error;              /* a substring of the one error, or NULL for none */
} masq_case;

static bool live_of(void *ud, const pf_mac *mac, pf_ip *ret) {
        const masq_case *c = ud;
        char m[32];
        pf_mac_format(mac, m);
        for (size_t i = 0; i < MAX_NICS && c->nics[i].vm; i++)
                if (c->nics[i].live && !strcmp(c->nics[i].mac, m))
                        return !pf_parse_ip(c->nics[i].live, ret);
        return false;
}

/* The derived offsets are FNV-1a of the six MAC bytes modulo the 253 guest addresses of a /24,
 * plus 2 (computed apart, in Python): 52:54:00:00:00:01 is 10.0.2.78, :02 is 10.0.2.88. */
static const masq_case cases[] = {
        { "derived from the MAC", "10.0.2.0/24",
          { { "a", "52:54:00:00:00:01", NULL, "10.0.2.78" }, { "b", "52:54:00:00:00:02", NULL, "10.0.2.88" } }, NULL },
        { "another VM beside them changes neither", "10.0.2.0/24",
          { { "a", "52:54:00:00:00:01", NULL, "10.0.2.78" }, { "aa", "52:54:00:00:00:99", NULL, NULL },
            { "b", "52:54:00:00:00:02", NULL, "10.0.2.88" } }, NULL },
        { "a live address is kept", "10.0.2.0/24",
          { { "a", "52:54:00:00:00:01", "10.0.2.200", "10.0.2.200" } }, NULL },
        { "a live address outside the range is not", "10.0.2.0/24",
          { { "a", "52:54:00:00:00:01", "10.9.9.9", "10.0.2.78" } }, NULL },
        { "a live address that is the gateway is not", "10.0.2.0/24",
          { { "a", "52:54:00:00:00:01", "10.0.2.1", "10.0.2.78" } }, NULL },
        { "a derived address a live one holds moves to the next", "10.0.2.0/24",
          { { "a", "52:54:00:00:00:01", NULL, "10.0.2.79" }, { "z", "52:54:00:00:00:02", "10.0.2.78", "10.0.2.78" } }, NULL },
        { "a /29 holds five guests", "10.5.0.8/29",
          { { "a", "52:54:00:00:00:01", NULL, "*" }, { "b", "52:54:00:00:00:02", NULL, "*" },
            { "c", "52:54:00:00:00:03", NULL, "*" }, { "d", "52:54:00:00:00:04", NULL, "*" },
            { "e", "52:54:00:00:00:05", NULL, "*" } }, NULL },
        { "but not six", "10.5.0.8/29",
          { { "a", "52:54:00:00:00:01", NULL, "*" }, { "b", "52:54:00:00:00:02", NULL, "*" },
            { "c", "52:54:00:00:00:03", NULL, "*" }, { "d", "52:54:00:00:00:04", NULL, "*" },
            { "e", "52:54:00:00:00:05", NULL, "*" }, { "f", "52:54:00:00:00:06", NULL, NULL } },
          "interface 'nic' of VM f: podform's NAT network 10.5.0.8/29 has no address left" },
};

static void run_case(const masq_case *c) {
        pf_cidr range;
        assert_null(pf_parse_cidr(c->range, true, &range));
        pf_vm vms[MAX_NICS] = { 0 };
        pf_iface ifaces[MAX_NICS] = { 0 };
        pf_masq m = { 0 };
        size_t n = 0;
        for (; n < MAX_NICS && c->nics[n].vm; n++) {
                vms[n].meta.name = c->nics[n].vm;
                ifaces[n].name = "nic";
                ifaces[n].loc = (pf_loc) { NULL, (uint32_t) n + 1, 1 };
                pf_mac mac;
                assert_null(pf_parse_mac(c->nics[n].mac, &mac));
                pf_masq_add(&m, &vms[n], &ifaces[n], &mac);
        }
        pf_diags d = { 0 };
        pf_masq_assign(&m, &range, live_of, (void *) c, NULL, 0, &d);
        if (c->error) {
                if (d.n_errors != 1 || !strstr(d.v[0].msg, c->error))
                        fail_msg("%s: wanted one error with \"%s\", got %zu%s%s", c->name, c->error, d.n_errors,
                                 d.n ? ": " : "", d.n ? d.v[0].msg : "");
        } else if (d.n_errors) {
                fail_msg("%s: unexpected error: %s", c->name, d.v[0].msg);
        }
        assert_int_equal(m.n, n);
        pf_ip gw = pf_masq_gateway(&range);
        for (size_t i = 0; i < m.n; i++) {
                const nic_case *want = NULL;
                for (size_t j = 0; j < n; j++)
                        if (!strcmp(c->nics[j].vm, m.v[i].vm->meta.name))
                                want = &c->nics[j];
                assert_non_null(want);
                if (i > 0 && strcmp(m.v[i - 1].vm->meta.name, m.v[i].vm->meta.name) >= 0)
                        fail_msg("%s: not sorted by VM", c->name);
                char got[64];
                pf_ip_format(&m.v[i].ip, got);
                if (!want->want)
                        continue;
                if (!strcmp(want->want, "*")) {         /* some guest address of the range, none twice */
                        if (!pf_ip_in_cidr(&m.v[i].ip, &range) || !pf_ip_cmp(&m.v[i].ip, &gw) ||
                            !pf_ip_cmp(&m.v[i].ip, &range.ip))
                                fail_msg("%s: VM %s got %s, no guest address of %s", c->name, want->vm, got, c->range);
                        for (size_t j = 0; j < i; j++)
                                if (!pf_ip_cmp(&m.v[i].ip, &m.v[j].ip))
                                        fail_msg("%s: %s given twice", c->name, got);
                        continue;
                }
                if (strcmp(got, want->want))
                        fail_msg("%s: VM %s got %s, wanted %s", c->name, want->vm, got, want->want);
        }
        pf_diag_free(&d);
        pf_masq_free(&m);
}

static void test_addresses(void **state) {
        (void) state;
        for (size_t i = 0; i < N(cases); i++)
                run_case(&cases[i]);
}

/* The same MACs in another order: the same addresses (the order of documents is no input). */
static void test_order_is_no_input(void **state) {
        (void) state;
        masq_case fwd = cases[0], rev = cases[0];
        rev.nics[0] = fwd.nics[1];
        rev.nics[1] = fwd.nics[0];
        run_case(&fwd);
        run_case(&rev);
}

/* Addresses kept for VMs that stay on the host undeclared are given to no declared NIC: with
 * four of a /29's five guest addresses kept, the one NIC gets the fifth, whatever its hash;
 * with all five kept, it is an error. */
static void test_kept_addresses(void **state) {
        (void) state;
        pf_cidr range;
        assert_null(pf_parse_cidr("10.5.0.8/29", true, &range));
        pf_ip kept[5];
        const char *text[5] = { "10.5.0.10", "10.5.0.11", "10.5.0.12", "10.5.0.13", "10.5.0.14" };
        for (size_t i = 0; i < 5; i++)
                assert_null(pf_parse_ip(text[i], &kept[i]));
        for (size_t k = 0; k < 5; k++) {        /* each address in turn is the free one */
                pf_ip four[4];
                for (size_t i = 0, j = 0; i < 5; i++)
                        if (i != k)
                                four[j++] = kept[i];
                pf_vm vm = { .meta.name = "new" };
                pf_iface iface = { .name = "nic", .loc = { NULL, 1, 1 } };
                pf_mac mac;
                assert_null(pf_parse_mac("52:54:00:00:00:07", &mac));
                pf_masq m = { 0 };
                pf_masq_add(&m, &vm, &iface, &mac);
                pf_diags d = { 0 };
                pf_masq_assign(&m, &range, NULL, NULL, four, 4, &d);
                assert_int_equal(d.n_errors, 0);
                char got[64];
                assert_string_equal(pf_ip_format(&m.v[0].ip, got), text[k]);
                pf_masq_assign(&m, &range, NULL, NULL, kept, 5, &d);
                assert_int_equal(d.n_errors, 1);
                assert_non_null(strstr(d.v[0].msg, "no address left"));
                pf_diag_free(&d);
                pf_masq_free(&m);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_addresses),
                cmocka_unit_test(test_order_is_no_input),
                cmocka_unit_test(test_kept_addresses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
