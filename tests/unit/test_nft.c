/* test_nft: what the nftables transport writes (nft/nft.c), without the kernel: the text of a
 * batch, byte for byte, and every value that could be read as nft syntax refused before
 * anything runs (tests/integration/masquerade.sh runs real batches, in a namespace). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/values.h"
#include "nft/nft.h"

static pf_ip ip(const char *s) {
        pf_ip v;
        assert_null(pf_parse_ip(s, &v));
        return v;
}

static void test_batch_text(void **state) {
        (void) state;
        pf_nft_batch b;
        pf_nft_batch_init(&b);
        pf_cidr range;
        assert_null(pf_parse_cidr("10.0.2.0/24", true, &range));
        pf_ip guest = ip("10.0.2.78");
        pf_nft_add_base(&b);
        pf_nft_add_masquerade(&b, "web1/default", &guest, &range);
        pf_nft_add_dnat(&b, "prerouting", "web1/default", PF_PROTO_TCP, 8080, &guest);
        pf_nft_add_dnat(&b, "output", "web1/default", PF_PROTO_UDP, 53, &guest);
        pf_nft_delete_table(&b);
        assert_null(b.bad);
        assert_string_equal(b.text,
                "add table ip podform\n"
                "add chain ip podform prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
                "add chain ip podform output { type nat hook output priority -100; policy accept; }\n"
                "add chain ip podform postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
                "add rule ip podform postrouting ip saddr 10.0.2.78 ip daddr != { 10.0.2.0/24, 224.0.0.0/24, "
                "255.255.255.255 } masquerade comment \"web1/default\"\n"
                "add rule ip podform prerouting fib daddr type local tcp dport 8080 dnat to 10.0.2.78:8080 comment "
                "\"web1/default\"\n"
                "add rule ip podform output ip daddr != 127.0.0.0/8 fib daddr type local udp dport 53 dnat to 10.0.2.78:53 comment "
                "\"web1/default\"\n"
                "delete table ip podform\n");
        pf_nft_batch_free(&b);
}

/* Each bad value: the batch is refused, by pf_nft_run, before it reaches libnftables. */
static void test_refused(void **state) {
        (void) state;
        static const struct { const char *comment, *chain, *addr; unsigned port; const char *why; } cases[] = {
                { "web1/default\"; flush ruleset; \"", "prerouting", "10.0.2.78", 80, "holds characters" },
                { "web1 default", "prerouting", "10.0.2.78", 80, "holds characters" },
                { "", "prerouting", "10.0.2.78", 80, "holds characters" },
                { "web1/default", "input", "10.0.2.78", 80, "no chain 'input'" },
                { "web1/default", "prerouting", "fd00::2", 80, "IPv4 only" },
                { "web1/default", "prerouting", "10.0.2.78", 0, "outside 1..65535" },
                { "web1/default", "prerouting", "10.0.2.78", 65536, "outside 1..65535" },
        };
        char *err = NULL;
        pf_nft *n = pf_nft_open(&err);
        assert_non_null(n);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                pf_nft_batch b;
                pf_nft_batch_init(&b);
                pf_ip a = ip(cases[i].addr);
                pf_nft_add_dnat(&b, cases[i].chain, cases[i].comment, PF_PROTO_TCP, cases[i].port, &a);
                if (b.text)
                        fail_msg("case %zu: wrote \"%s\"", i, b.text);
                assert_int_equal(pf_nft_run(n, &b, &err), -1);
                if (!strstr(err, cases[i].why))
                        fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].why);
                free(err);
                err = NULL;
                pf_nft_batch_free(&b);
        }
        assert_int_equal(pf_nft_mutations(n), 0);
        pf_nft_close(n);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_batch_text),
                cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
