/* test_values: the scalar parsers, table-driven (config/values.c, util/suggest.c). */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/values.h"
#include "util/diag.h"
#include "util/suggest.h"
#include "util/yaml_out.h"

#include <yaml.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_quantity(void **state) {
        (void) state;
        static const struct { const char *in; uint64_t bytes; const char *err; } cases[] = {
                { "1Ki", 1024, NULL },
                { "2Gi", 2ULL << 30, NULL },
                { "1.5Gi", 3ULL << 29, NULL },
                { "32GiB", 32ULL << 30, NULL },
                { "1Ti", 1ULL << 40, NULL },
                { "500M", 500000000ULL, NULL },
                { "500MB", 500000000ULL, NULL },
                { "3k", 3000, NULL },
                { "2T", 2000000000000ULL, NULL },
                { "0.5k", 500, NULL },
                { "2048", 0, "has no unit" },
                { "0Gi", 0, "greater than zero" },
                { "2Xi", 0, "unknown unit" },
                { "2 Gi", 0, "unknown unit" },
                { "Gi", 0, "not a quantity" },
                { "1.Gi", 0, "digits after the decimal point" },
                { "0.1Ki", 0, "whole number of bytes" },
                { "99999999999999999999Gi", 0, "too large" },
                { "16777216Ti", 0, "too large" },
                { "1.0000000001Gi", 0, "decimal places" },
        };
        for (size_t i = 0; i < N(cases); i++) {
                uint64_t v = 0;
                const char *err = pf_parse_quantity(cases[i].in, &v);
                if (cases[i].err) {
                        assert_non_null(err);
                        assert_non_null(strstr(err, cases[i].err));
                } else {
                        assert_null(err);
                        assert_int_equal(v, cases[i].bytes);
                }
        }
}

static void test_mac(void **state) {
        (void) state;
        static const struct { const char *in; const char *out; const char *err; } cases[] = {
                { "de:ad:00:00:be:af", "de:ad:00:00:be:af", NULL },
                { "DE-AD-00-00-BE-AF", "de:ad:00:00:be:af", NULL },
                { "52:54:00:12:34:56", "52:54:00:12:34:56", NULL },
                { "01:00:5e:00:00:01", NULL, "multicast" },
                { "ff:ff:ff:ff:ff:ff", NULL, "multicast" },
                { "00:00:00:00:00:00", NULL, "all-zero" },
                { "52:54:00-12:34:56", NULL, "not a MAC" },
                { "52:54:00:12:34", NULL, "not a MAC" },
                { "52:54:00:12:34:5g", NULL, "not a MAC" },
                { "525400123456", NULL, "not a MAC" },
        };
        for (size_t i = 0; i < N(cases); i++) {
                pf_mac m;
                char buf[64];
                const char *err = pf_parse_mac(cases[i].in, &m);
                if (cases[i].err) {
                        assert_non_null(err);
                        assert_non_null(strstr(err, cases[i].err));
                } else {
                        assert_null(err);
                        assert_string_equal(pf_mac_format(&m, buf), cases[i].out);
                }
        }
}

static void test_pci(void **state) {
        (void) state;
        pf_pci p;
        assert_null(pf_parse_pci("0000:81:00.1", &p));
        assert_int_equal(p.domain, 0);
        assert_int_equal(p.bus, 0x81);
        assert_int_equal(p.slot, 0);
        assert_int_equal(p.function, 1);
        assert_null(pf_parse_pci("abcd:ef:1f.7", &p));
        assert_int_equal(p.domain, 0xabcd);
        assert_int_equal(p.slot, 0x1f);
        assert_non_null(strstr(pf_parse_pci("0000:00:20.0", &p), "slot"));
        assert_non_null(strstr(pf_parse_pci("0000:00:03.8", &p), "function"));
        assert_non_null(strstr(pf_parse_pci("00:03.0", &p), "not a PCI"));
        assert_non_null(strstr(pf_parse_pci("0000:00:03:0", &p), "not a PCI"));
}

static void test_cidr(void **state) {
        (void) state;
        pf_cidr c;
        char buf[64];
        assert_null(pf_parse_cidr("10.20.0.0/24", true, &c));
        assert_string_equal(pf_cidr_format(&c, buf), "10.20.0.0/24");
        assert_non_null(strstr(pf_parse_cidr("10.20.0.1/24", true, &c), "host bits"));
        assert_null(pf_parse_cidr("10.20.0.1/24", false, &c));
        assert_string_equal(pf_cidr_format(&c, buf), "10.20.0.1/24");
        pf_cidr n = pf_cidr_network(&c);
        assert_string_equal(pf_cidr_format(&n, buf), "10.20.0.0/24");
        assert_null(pf_parse_cidr("fd00:1::/64", true, &c));
        assert_int_equal(c.ip.family, AF_INET6);
        assert_non_null(strstr(pf_parse_cidr("10.0.0.0/33", true, &c), "longer than 32"));
        assert_non_null(strstr(pf_parse_cidr("fd00::/129", true, &c), "longer than 128"));
        assert_non_null(pf_parse_cidr("10.0.0.0", true, &c));
        assert_non_null(pf_parse_cidr("10.0.0.0/", true, &c));
        assert_non_null(pf_parse_cidr("10.0.0/8", true, &c));
        assert_non_null(pf_parse_cidr("10.0.0.0/8x", true, &c));

        pf_ip ip;
        pf_cidr net;
        assert_null(pf_parse_cidr("10.20.0.0/24", true, &net));
        assert_null(pf_parse_ip("10.20.0.255", &ip));
        assert_true(pf_ip_in_cidr(&ip, &net));
        assert_null(pf_parse_ip("10.20.1.0", &ip));
        assert_false(pf_ip_in_cidr(&ip, &net));
        assert_null(pf_parse_ip("fd00::1", &ip));
        assert_false(pf_ip_in_cidr(&ip, &net));
        assert_non_null(pf_parse_ip("10.20.0.256", &ip));
        assert_non_null(pf_parse_ip("fd00:::1", &ip));
}

static void test_range(void **state) {
        (void) state;
        pf_ip_range r;
        char a[64], b[64];
        assert_null(pf_parse_ip_range("10.20.0.1-10.20.0.20", &r));
        assert_string_equal(pf_ip_format(&r.start, a), "10.20.0.1");
        assert_string_equal(pf_ip_format(&r.end, b), "10.20.0.20");
        assert_null(pf_parse_ip_range("10.20.0.254", &r));
        assert_int_equal(pf_ip_cmp(&r.start, &r.end), 0);
        assert_null(pf_parse_ip_range("fd00::1-fd00::ff", &r));
        assert_non_null(strstr(pf_parse_ip_range("10.20.0.9-10.20.0.1", &r), "ends before"));
        assert_non_null(strstr(pf_parse_ip_range("10.20.0.1-fd00::1", &r), "mixes"));
        assert_non_null(pf_parse_ip_range("10.20.0.1-", &r));
}

static void test_names(void **state) {
        (void) state;
        static const struct { const char *s; bool ifname_ok, name_ok; } cases[] = {
                { "eno1", true, true },
                { "br-pxe", true, true },
                { "virbr1", true, true },
                { "a234567890123456", false, true },    /* 16 bytes */
                { "a23456789012345", true, true },      /* 15 bytes */
                { "eth0/1", false, false },
                { "eth 0", false, false },
                { ".", false, false },
                { "..", false, false },
                { "", false, false },
                { "_x", true, false },
                { "web1.example", true, true },
                { "eth0:1", false, false },
        };
        for (size_t i = 0; i < N(cases); i++) {
                const char *s = cases[i].s;
                assert_true((pf_check_ifname(s, strlen(s)) == NULL) == cases[i].ifname_ok);
                assert_true((pf_check_name(s, strlen(s)) == NULL) == cases[i].name_ok);
        }
        char long_name[65];
        memset(long_name, 'a', 64);
        long_name[64] = '\0';
        assert_non_null(pf_check_name(long_name, 64));
        assert_null(pf_check_name(long_name, 63));
        assert_null(pf_check_host_or_ip("tftp.example.com", 16));
        assert_null(pf_check_host_or_ip("10.20.0.1", 9));
        assert_null(pf_check_host_or_ip("fd00::1", 7));
        assert_non_null(pf_check_host_or_ip("-bad.example", 12));
        assert_non_null(pf_check_host_or_ip("a..b", 4));
}

static void test_suggest(void **state) {
        (void) state;
        static const char *const keys[] = { "macAddress", "pciAddress", "bootOrder", "model", "name", NULL };
        assert_string_equal(pf_suggest("macAdress", keys, 6), "macAddress");
        assert_string_equal(pf_suggest("macaddress", keys, 6), "macAddress");
        assert_string_equal(pf_suggest("bootorder", keys, 6), "bootOrder");
        assert_string_equal(pf_suggest("modle", keys, 6), "model");
        assert_null(pf_suggest("completely", keys, 6));
        assert_null(pf_suggest("", keys, 6));
        static const char *const fwd[] = { "nat", "route", "open", "none", "bridge" };
        assert_string_equal(pf_suggest("nta", fwd, 5), "nat");
        assert_string_equal(pf_suggest("brigde", fwd, 5), "bridge");
        assert_null(pf_suggest("vepa2x", fwd, 5));
}

static void test_quote(void **state) {
        (void) state;
        char buf[PF_QUOTE_MAX];
        assert_string_equal(pf_quote(buf, sizeof(buf), "web1", 4), "\"web1\"");
        assert_string_equal(pf_quote(buf, sizeof(buf), "a\"b\n", 4), "\"a\\\"b\\x0a\"");
        char big[100000];
        memset(big, 'x', sizeof(big));
        pf_quote(buf, sizeof(buf), big, sizeof(big));
        assert_true(strlen(buf) < 80);
        assert_non_null(strstr(buf, "(100000 bytes)"));
}

/* Every scalar of a YAML text, in order, as libyaml reads it back (the reader podform uses). */
static char **read_back_scalars(const char *text, size_t *n) {
        yaml_parser_t p;
        assert_true(yaml_parser_initialize(&p));
        yaml_parser_set_input_string(&p, (const unsigned char *) text, strlen(text));
        char **v = NULL;
        *n = 0;
        for (;;) {
                yaml_event_t e;
                if (!yaml_parser_parse(&p, &e))
                        fail_msg("the YAML does not read back: %s at line %zu:\n%s", p.problem, p.problem_mark.line + 1, text);
                yaml_event_type_t type = e.type;
                if (type == YAML_SCALAR_EVENT) {
                        v = realloc(v, (*n + 1) * sizeof(*v));
                        v[(*n)++] = strndup((const char *) e.data.scalar.value, e.data.scalar.length);
                }
                yaml_event_delete(&e);
                if (type == YAML_STREAM_END_EVENT)
                        break;
        }
        yaml_parser_delete(&p);
        return v;
}

static char *written(pf_yaml_out *y, char **text, size_t *len) {
        FILE *f = open_memstream(text, len);
        y->f = f;
        pf_yaml_out_finish(y);
        fclose(f);
        return *text;
}

/* What `podform show` writes reads back as written: strings that YAML would type (booleans,
 * numbers, null, a MAC of digits that YAML 1.1 reads as sexagesimal) are quoted, plain ones are
 * not, controls and separators are escaped, and comments keep their indentation on every line. */
static void test_yaml_out(void **state) {
        (void) state;
        char *text = NULL;
        size_t len = 0;
        pf_yaml_out y;
        pf_yaml_out_init(&y, NULL, PF_YAML_OUT_YAML);
        pf_yaml_aside(&y, "before all");
        pf_yaml_document(&y, "first");
        pf_yaml_map(&y, "spec");
        static const char *const strings[] = { "br0", "yes", "No", "null", "~", "", "1500", "1e5", "0x10",
                                               "52:54:00:10:00:02", "a b", "-x", "say \"hi\"\n", "fd00::1/64",
                                               "10.0.0.1/24", "pxelinux.0", ".hidden", "caf\xc3\xa9", "c1\xc2\x85",
                                               "ls\xe2\x80\xa8", "tab\t", "0b1", "2024-01-01", "1_000", ".inf" };
        size_t n_strings = sizeof(strings) / sizeof(strings[0]);
        for (size_t i = 0; i < n_strings; i++)
                pf_yaml_scalar(&y, "s", PF_YAML_STR, strings[i]);
        pf_yaml_scalar(&y, "n", PF_YAML_NUM, "1500");
        pf_yaml_scalar(&y, "b", PF_YAML_BOOL, "false");
        static const char *const items[] = { "eno1", "on" };
        pf_yaml_list(&y, "ports", PF_YAML_STR, items, 2);
        pf_yaml_map(&y, "bridge");
        pf_yaml_end(&y);
        pf_yaml_seq(&y, "hosts");
        pf_yaml_item(&y);
        pf_yaml_comment(&y, "above the dash");
        pf_yaml_scalar(&y, "ip", PF_YAML_STR, "10.0.0.9");
        pf_yaml_map(&y, "boot");
        pf_yaml_scalar(&y, "file", PF_YAML_STR, "x");
        pf_yaml_end(&y);
        pf_yaml_end(&y);
        pf_yaml_item(&y);
        pf_yaml_end(&y);
        pf_yaml_end(&y);
        pf_yaml_comment(&y, "two\nlines\r");
        pf_yaml_end(&y);
        pf_yaml_document(&y, NULL);
        pf_yaml_scalar(&y, "kind", PF_YAML_STR, "Bridge");
        pf_yaml_aside(&y, "between");
        pf_yaml_document(&y, NULL);
        pf_yaml_seq(&y, "empty");
        pf_yaml_end(&y);
        written(&y, &text, &len);
        assert_string_equal(text,
                "# before all\n# first\nspec:\n  s: br0\n  s: \"yes\"\n  s: \"No\"\n  s: \"null\"\n  s: \"~\"\n  s: \"\"\n"
                "  s: \"1500\"\n  s: \"1e5\"\n  s: \"0x10\"\n  s: \"52:54:00:10:00:02\"\n  s: \"a b\"\n"
                "  s: \"-x\"\n  s: \"say \\\"hi\\\"\\u000a\"\n  s: \"fd00::1/64\"\n  s: 10.0.0.1/24\n"
                "  s: pxelinux.0\n  s: \".hidden\"\n  s: \"caf\xc3\xa9\"\n  s: \"c1\\u0085\"\n  s: \"ls\\u2028\"\n"
                "  s: \"tab\\u0009\"\n  s: \"0b1\"\n  s: \"2024-01-01\"\n  s: \"1_000\"\n  s: \".inf\"\n  n: 1500\n  b: false\n  ports: [eno1, \"on\"]\n  bridge: {}\n  hosts:\n"
                "      # above the dash\n    - ip: 10.0.0.9\n      boot:\n        file: x\n    - {}\n"
                "  # two\n  # lines\\u000d\n---\nkind: Bridge\n---\n# between\nempty: []\n");
        /* and libyaml reads every string back as it was given */
        size_t n = 0;
        char **back = read_back_scalars(text, &n);
        assert_true(n > n_strings + 1);
        for (size_t i = 0; i < n_strings; i++) {
                assert_string_equal(back[1 + 2 * i], "s");
                assert_string_equal(back[2 + 2 * i], strings[i]);
        }
        for (size_t i = 0; i < n; i++)
                free(back[i]);
        free(back);
        free(text);
}

/* The JSON form: one object, the documents under "resources", every comment under "comments"
 * with the resource and the path it was written at. */
static void test_yaml_out_json(void **state) {
        (void) state;
        char *text = NULL;
        size_t len = 0;
        pf_yaml_out y;
        pf_yaml_out_init(&y, NULL, PF_YAML_OUT_JSON);
        pf_yaml_aside(&y, "host");
        pf_yaml_document(&y, "head");
        pf_yaml_scalar(&y, "kind", PF_YAML_STR, "Network");
        pf_yaml_map(&y, "metadata");
        pf_yaml_scalar(&y, "name", PF_YAML_STR, "n\xff\"1");
        pf_yaml_end(&y);
        pf_yaml_map(&y, "spec");
        pf_yaml_scalar(&y, "mtu", PF_YAML_NUM, "9000");
        pf_yaml_seq(&y, "ips");
        pf_yaml_item(&y);
        pf_yaml_comment(&y, "in an item");
        pf_yaml_scalar(&y, "active", PF_YAML_BOOL, "true");
        pf_yaml_end(&y);
        pf_yaml_end(&y);
        static const char *const items[] = { "a" };
        pf_yaml_list(&y, "l", PF_YAML_STR, items, 1);
        pf_yaml_map(&y, "bridge");
        pf_yaml_end(&y);
        pf_yaml_end(&y);
        written(&y, &text, &len);
        assert_string_equal(text,
                "{\n  \"resources\": [\n    {\n      \"kind\": \"Network\",\n      \"metadata\": {\n"
                "        \"name\": \"n\\ufffd\\\"1\"\n      },\n      \"spec\": {\n        \"mtu\": 9000,\n"
                "        \"ips\": [\n          {\n            \"active\": true\n          }\n        ],\n"
                "        \"l\": [\"a\"],\n        \"bridge\": {}\n      }\n    }\n  ],\n  \"comments\": [\n"
                "    {\"text\": \"host\"},\n    {\"resource\": \"Network/n\\ufffd\\\"1\", \"text\": \"head\"},\n"
                "    {\"resource\": \"Network/n\\ufffd\\\"1\", \"path\": \"spec.ips[0]\", \"text\": \"in an item\"}\n  ]\n}\n");
        free(text);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quantity), cmocka_unit_test(test_mac), cmocka_unit_test(test_pci),
                cmocka_unit_test(test_cidr), cmocka_unit_test(test_range), cmocka_unit_test(test_names),
                cmocka_unit_test(test_suggest), cmocka_unit_test(test_quote), cmocka_unit_test(test_yaml_out),
                cmocka_unit_test(test_yaml_out_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
