/* test_render: what the golden documents of test_render_data (tests/data/render/) cannot
 * show. MACs are stable, unique and respect explicit, live and Macvtap ones (properties over
 * many inputs, and pinned derivations); the metadata's hash covers the rest of the document;
 * the schema check rejects a real misspelling; text is escaped; a Network's own bootp wins over
 * one the rules could never pass. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "config/load.h"
#include "config/validate.h"
#include "run/reconcile.h"
#include "config/values.h"
#include "libvirt/render.h"
#include "resolve/attach.h"
#include "rng.h"

#define HDR(kind, name) "apiVersion: podform/v1\nkind: " kind "\nmetadata: {name: " name "}\n"

/* ---- schemas ---- */

static int group_setup(void **state) {
        (void) state;
        return pf_rng_load();
}

static int group_teardown(void **state) {
        (void) state;
        pf_rng_free();
        xmlCleanupParser();
        return 0;
}

static void assert_schema_valid(xmlDocPtr doc, int which) {
        assert_non_null(doc);
        int rc = pf_rng_validate(doc, which);
        if (rc != 0) {
                char *s = pf_xml_dump(doc);
                fprintf(stderr, "%s", s);
                free(s);
                fail_msg("document does not validate against libvirt's schema (rc %d)", rc);
        }
}

/* ---- XPath ---- */

static xmlXPathObjectPtr xp_eval(xmlDocPtr doc, const char *expr) {
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        assert_non_null(ctx);
        assert_int_equal(xmlXPathRegisterNs(ctx, BAD_CAST "podform", BAD_CAST PF_XMLNS), 0);
        xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
        xmlXPathFreeContext(ctx);
        if (!o)
                fail_msg("bad XPath %s", expr);
        return o;
}

static int xp_count(xmlDocPtr doc, const char *expr) {
        char buf[512];
        snprintf(buf, sizeof(buf), "count(%s)", expr);
        xmlXPathObjectPtr o = xp_eval(doc, buf);
        int n = (int) o->floatval;
        xmlXPathFreeObject(o);
        return n;
}

/* The string value of expr ("" when it selects nothing), into a static buffer. */
static const char *xp_str(xmlDocPtr doc, const char *expr) {
        static char out[4][256];
        static int k;
        char buf[512];
        snprintf(buf, sizeof(buf), "string(%s)", expr);
        xmlXPathObjectPtr o = xp_eval(doc, buf);
        char *s = out[k++ % 4];
        snprintf(s, sizeof(out[0]), "%s", o->stringval ? (const char *) o->stringval : "");
        xmlXPathFreeObject(o);
        return s;
}

#define assert_xp(doc, expr, want) do {                                                          \
        const char *got_ = xp_str((doc), (expr));                                               \
        if (strcmp(got_, (want)) != 0) {                                                        \
                char *dump_ = pf_xml_dump(doc);                                                 \
                fprintf(stderr, "%s", dump_);                                                   \
                free(dump_);                                                                    \
                fail_msg("%s: got \"%s\", want \"%s\"", (expr), got_, (want));                  \
        }                                                                                       \
} while (0)

/* ---- configurations and renderers ---- */

typedef struct env_data {
        const char *live_mac_vm, *live_mac_iface, *live_mac;    /* one live NIC */
        const char *live_net;                                   /* one live libvirt network */
        const char *pci_ifname;                                 /* one host NIC that is a PCI device */
        pf_pci pci;
} env_data;

static const char *cb_live_mac(void *ud, const char *vm, const char *iface) {
        const env_data *e = ud;
        if (e->live_mac && !strcmp(vm, e->live_mac_vm) && !strcmp(iface, e->live_mac_iface))
                return e->live_mac;
        return NULL;
}

static bool cb_live_network(void *ud, const char *name) {
        const env_data *e = ud;
        return e->live_net && !strcmp(name, e->live_net);
}

static bool cb_host_pci(void *ud, const char *ifname, pf_pci *ret) {
        const env_data *e = ud;
        if (!e->pci_ifname || strcmp(ifname, e->pci_ifname))
                return false;
        *ret = e->pci;
        return true;
}

typedef struct fixture {
        pf_config c;
        pf_host host;
        env_data data;
        pf_render_env env;
        pf_renderer *r;
        pf_diags d;
} fixture;

/* Load text that must validate; a renderer for host kvm01 with the callbacks of `data`. */
static fixture *fx_new(const char *text, const env_data *data, const char *host_name) {
        fixture *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        pf_config_init(&f->c);
        pf_config_load_buffer(&f->c, "inline.yaml", text, strlen(text));
        pf_run_check(&f->c);
        if (f->c.diags.n_errors) {
                pf_diag_sort(&f->c.diags);
                pf_diag_print(&f->c.diags, stderr, false);
                fail_msg("expected a valid configuration, got %zu errors", f->c.diags.n_errors);
        }
        if (f->c.model.hosts.n)
                f->host = f->c.model.hosts.v[0];
        else
                pf_host_defaults(&f->host);
        if (data)
                f->data = *data;
        f->env = (pf_render_env) { .host_name = host_name ? host_name : "kvm01", .host = &f->host,
                                   .model = &f->c.model, .live_mac = cb_live_mac,
                                   .live_network = cb_live_network, .host_pci = cb_host_pci, .ud = &f->data };
        f->r = pf_renderer_new(&f->env);
        return f;
}

static void fx_free(fixture *f) {
        pf_renderer_free(f->r);
        pf_diag_free(&f->d);
        pf_config_free(&f->c);
        free(f);
}

static const pf_vm *vm_named(const fixture *f, const char *name) {
        for (size_t i = 0; i < f->c.model.vms.n; i++)
                if (!strcmp(f->c.model.vms.v[i].meta.name, name))
                        return &f->c.model.vms.v[i];
        fail_msg("no VirtualMachine %s", name);
        return NULL;
}

static const pf_network *net_named(const fixture *f, const char *name) {
        for (size_t i = 0; i < f->c.model.networks.n; i++)
                if (!strcmp(f->c.model.networks.v[i].meta.name, name))
                        return &f->c.model.networks.v[i];
        fail_msg("no Network %s", name);
        return NULL;
}

/* Render a VM that must render, and check it against domain.rng. */
static xmlDocPtr render_ok(fixture *f, const char *vm) {
        xmlDocPtr doc = pf_render_domain(f->r, vm_named(f, vm), &f->d);
        if (!doc) {
                pf_diag_sort(&f->d);
                pf_diag_print(&f->d, stderr, false);
                fail_msg("VM %s did not render", vm);
        }
        assert_int_equal(f->d.n_errors, 0);
        assert_schema_valid(doc, RNG_DOMAIN);
        return doc;
}

static const char *mac_str(const pf_mac *m) {
        static char buf[4][64];
        static int k;
        return pf_mac_format(m, buf[k++ % 4]);
}


/* ---- what a golden file cannot show (tests/data/render/ has the documents) ---- */

static void test_volume_escaped(void **state) {
        (void) state;
        /* A name no configuration can give: text is escaped, not spliced. */
        xmlDocPtr doc = pf_render_volume("a&b", 1, PF_DISK_RAW);
        assert_schema_valid(doc, RNG_VOLUME);
        assert_xp(doc, "/volume/name", "a&b");
        char *s = pf_xml_dump(doc);
        assert_non_null(strstr(s, "<name>a&amp;b</name>"));
        assert_null(strstr(s, "<?xml"));
        free(s);
        xmlFreeDoc(doc);
}

static void test_disk_pool(void **state) {
        (void) state;
        fixture *f = fx_new(HDR("Host", "kvm01") "spec: {defaultStoragePool: pool1}\n", NULL, NULL);
        pf_arena a = { 0 };
        assert_string_equal(pf_volume_name(&a, "web1", "root"), "web1-root");
        pf_arena_free(&a);
        pf_disk d = { .name = "x" };
        assert_string_equal(pf_disk_pool(&f->env, &d), "pool1");
        d.pool = "pool2";
        assert_string_equal(pf_disk_pool(&f->env, &d), "pool2");
        fx_free(f);
}

static const char ONEVM[] =
        HDR("VirtualMachine", "a")
        "spec:\n  domain: {devices: {interfaces: [{name: pt, macvtap: {mode: passthru}}]}}\n"
        "  networks: [{name: pt, host: {interface: eno4}}]\n";

static void test_domain_hash(void **state) {
        (void) state;
        /* The metadata's hash is FNV-1a of the document without the metadata: any change of
         * what podform renders changes it (the golden files only pin its value). */
        fixture *f = fx_new(ONEVM, NULL, NULL);
        xmlDocPtr doc = render_ok(f, "a");
        assert_xp(doc, "name(/domain/*[2])", "metadata");
        const char *hash = xp_str(doc, "/domain/metadata/podform:vm/@hash");
        assert_int_equal(strlen(hash), 16);
        char want[32];
        snprintf(want, sizeof(want), "%s", hash);
        xmlNodePtr md = xmlDocGetRootElement(doc)->children->next;
        xmlUnlinkNode(md);
        xmlFreeNode(md);
        char *text = pf_xml_dump(doc);
        uint64_t h = 0xcbf29ce484222325ULL;
        for (const char *p = text; *p; p++)
                h = (h ^ (unsigned char) *p) * 0x100000001b3ULL;
        free(text);
        char got[32];
        snprintf(got, sizeof(got), "%016llx", (unsigned long long) h);
        assert_string_equal(got, want);
        xmlFreeDoc(doc);
        fx_free(f);
}

static void quiet(void *ctx, xmlErrorPtr err) {
        (void) ctx, (void) err;
}

/* The schema check can fail: the spellings it guards are real (a negative control). */
static void test_schema_rejects(void **state) {
        (void) state;
        fixture *f = fx_new(ONEVM, NULL, NULL);
        xmlDocPtr doc = render_ok(f, "a");
        xmlXPathObjectPtr o = xp_eval(doc, "//interface[@type='direct'][source/@dev='eno4']/source");
        assert_int_equal(o->nodesetval ? o->nodesetval->nodeNr : 0, 1);
        xmlSetProp(o->nodesetval->nodeTab[0], BAD_CAST "mode", BAD_CAST "passthru");     /* podform's spelling */
        xmlXPathFreeObject(o);
        xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(pf_rng(RNG_DOMAIN));
        xmlRelaxNGSetValidStructuredErrors(v, quiet, NULL);
        assert_int_not_equal(xmlRelaxNGValidateDoc(v, doc), 0);
        xmlRelaxNGFreeValidCtxt(v);
        xmlFreeDoc(doc);
        fx_free(f);
}

static void test_network_own_bootp_wins(void **state) {
        (void) state;
        /* Whatever the interfaces ask, a Network's own bootp wins (the rules refuse a conflict,
         * so no configuration reaches the renderer with one). */
        static const char text[] =
                HDR("Network", "own")
                "spec:\n  forward: nat\n  ips:\n    - address: 192.168.14.1\n      prefix: 24\n"
                "      dhcp: {bootp: {file: ipxe.efi, server: 192.168.14.2}}\n";
        fixture *f = fx_new(text, NULL, NULL);
        const pf_network *own = net_named(f, "own");
        pf_bootp other = { .network = own, .ip_index = 0, .file = "other.efi", .server = "192.168.14.9" };
        xmlDocPtr doc = pf_render_network_bootp(own, &other);
        assert_schema_valid(doc, RNG_NETWORK);
        assert_xp(doc, "/network/ip/dhcp/bootp/@file", "ipxe.efi");
        assert_xp(doc, "/network/ip/dhcp/bootp/@server", "192.168.14.2");
        assert_int_equal(xp_count(doc, "//bootp"), 1);
        xmlFreeDoc(doc);
        fx_free(f);
}

/* ---- MACs ---- */

static const char *iface_mac(fixture *f, const char *vm, const char *iface) {
        static char out[4][64];
        static int k;
        xmlDocPtr doc = render_ok(f, vm);
        char x[200];
        snprintf(x, sizeof(x), "/domain/metadata/podform:vm/podform:interface[@name='%s']/@mac", iface);
        char *s = out[k++ % 4];
        snprintf(s, sizeof(out[0]), "%s", xp_str(doc, x));
        snprintf(x, sizeof(x), "/domain/devices/interface[mac/@address='%s']", s);
        assert_int_equal(xp_count(doc, x), 1);
        xmlFreeDoc(doc);
        return s;
}

static const char MACVMS[] =
        HDR("Network", "n") "spec: {forward: nat}\n---\n"
        HDR("VirtualMachine", "a")
        "spec:\n  domain: {devices: {interfaces: [{name: eth0, bridge: {}}, {name: eth1, bridge: {}}]}}\n"
        "  networks: [{name: eth0, network: n}, {name: eth1, network: n}]\n---\n"
        HDR("VirtualMachine", "b")
        "spec:\n  domain: {devices: {interfaces: [{name: eth0, bridge: {}}, {name: fixed, bridge: {}, macAddress: \"52:54:00:12:34:56\"}]}}\n"
        "  networks: [{name: eth0, network: n}, {name: fixed, network: n}]\n";

static void test_mac_stable(void **state) {
        (void) state;
        fixture *f1 = fx_new(MACVMS, NULL, "kvm01"), *f2 = fx_new(MACVMS, NULL, "kvm01");
        fixture *g = fx_new(MACVMS, NULL, "kvm02");
        char a0[32], a1[32], b0[32];
        snprintf(a0, sizeof(a0), "%s", iface_mac(f1, "a", "eth0"));
        snprintf(a1, sizeof(a1), "%s", iface_mac(f1, "a", "eth1"));
        snprintf(b0, sizeof(b0), "%s", iface_mac(f1, "b", "eth0"));
        /* The same inputs give the same MACs, from another renderer and another load. */
        assert_string_equal(iface_mac(f2, "a", "eth0"), a0);
        assert_string_equal(iface_mac(f2, "a", "eth1"), a1);
        assert_string_equal(iface_mac(f1, "a", "eth0"), a0);
        /* They are the derived ones (no collision here), and differ by interface, VM, host. */
        pf_mac m;
        pf_derive_mac("kvm01", "a", "eth0", 0, &m);
        assert_string_equal(mac_str(&m), a0);
        assert_string_equal(strncmp(a0, "52:54:00:", 9) ? "" : "ok", "ok");
        assert_string_equal(strncmp(b0, "52:54:00:", 9) ? "" : "ok", "ok");
        assert_string_not_equal(a0, a1);
        assert_string_not_equal(a0, b0);
        assert_string_not_equal(iface_mac(g, "a", "eth0"), a0);
        pf_mac x, y;
        pf_derive_mac("kvm02", "a", "eth0", 0, &x);
        assert_string_equal(iface_mac(g, "a", "eth0"), mac_str(&x));
        /* Explicit wins. */
        assert_string_equal(iface_mac(f1, "b", "fixed"), "52:54:00:12:34:56");
        /* The derivation itself: deterministic, attempts differ, locally administered unicast. */
        pf_derive_mac("kvm01", "a", "eth0", 0, &x);
        pf_derive_mac("kvm01", "a", "eth0", 0, &y);
        assert_memory_equal(&x, &y, sizeof(x));
        pf_derive_mac("kvm01", "a", "eth0", 1, &y);
        assert_memory_not_equal(&x, &y, sizeof(x));
        assert_int_equal(y.b[0], 0x52);
        assert_int_equal(y.b[1], 0x54);
        assert_int_equal(y.b[2], 0x00);
        /* Pinned values (computed independently): a change of the derivation would change the
         * MAC of every VM created by an earlier release, so it must be deliberate. */
        pf_derive_mac("kvm01", "web1", "default", 0, &x);
        assert_string_equal(mac_str(&x), "52:54:00:74:7f:15");
        pf_derive_mac("kvm01", "web1", "default", 1, &x);
        assert_string_equal(mac_str(&x), "52:54:00:b1:3c:40");
        pf_derive_mac("kvm01", "web1", "default", 12, &x);
        assert_string_equal(mac_str(&x), "52:54:00:d0:ba:ee");
        /* Field boundaries count: "ab"+"c" is not "a"+"bc". */
        pf_derive_mac("h", "ab", "c", 0, &x);
        pf_derive_mac("h", "a", "bc", 0, &y);
        assert_memory_not_equal(&x, &y, sizeof(x));
        fx_free(f1);
        fx_free(f2);
        fx_free(g);
}

static void test_mac_live(void **state) {
        (void) state;
        /* A live NIC keeps its MAC; explicit still wins over live. */
        env_data live = { .live_mac_vm = "a", .live_mac_iface = "eth1", .live_mac = "52:54:00:aa:bb:cc" };
        fixture *f = fx_new(MACVMS, &live, NULL);
        assert_string_equal(iface_mac(f, "a", "eth1"), "52:54:00:aa:bb:cc");
        pf_mac m;
        pf_derive_mac("kvm01", "a", "eth0", 0, &m);
        assert_string_equal(iface_mac(f, "a", "eth0"), mac_str(&m));
        fx_free(f);
        env_data live2 = { .live_mac_vm = "b", .live_mac_iface = "fixed", .live_mac = "52:54:00:aa:bb:cc" };
        f = fx_new(MACVMS, &live2, NULL);
        assert_string_equal(iface_mac(f, "b", "fixed"), "52:54:00:12:34:56");
        fx_free(f);
        /* A live MAC that does not parse is ignored: derivation applies. */
        env_data bad = { .live_mac_vm = "a", .live_mac_iface = "eth0", .live_mac = "garbage" };
        f = fx_new(MACVMS, &bad, NULL);
        assert_string_equal(iface_mac(f, "a", "eth0"), mac_str(&m));
        fx_free(f);

        /* A live MAC of a later VM that equals an earlier VM's derived MAC moves the derived
         * one: fixed MACs are taken before anything is derived. */
        char s[64];
        pf_mac_format(&m, s);
        env_data steal = { .live_mac_vm = "b", .live_mac_iface = "eth0", .live_mac = s };
        f = fx_new(MACVMS, &steal, NULL);
        pf_mac m1;
        pf_derive_mac("kvm01", "a", "eth0", 1, &m1);
        assert_string_equal(iface_mac(f, "b", "eth0"), s);
        assert_string_equal(iface_mac(f, "a", "eth0"), mac_str(&m1));
        fx_free(f);
}

static void test_mac_macvtap(void **state) {
        (void) state;
        /* An interface on a Macvtap resource takes the Macvtap's MAC: a macvtap passes only
         * frames for its own MAC. Even a live MAC recorded earlier gives way to it. */
        static const char yaml[] =
                "apiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: mvt0}\n"
                "spec: {parent: eno2, macAddress: \"52:54:00:1e:00:02\"}\n---\n"
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: a}\n"
                "spec:\n  domain:\n    memory: 1Gi\n    devices:\n"
                "      interfaces: [{name: tap, macvtap: {}}, {name: eth0, bridge: {}}]\n"
                "  networks: [{name: tap, macvtap: mvt0}, {name: eth0, network: lab}]\n";
        env_data live = { .live_mac_vm = "a", .live_mac_iface = "tap", .live_mac = "52:54:00:aa:bb:cc" };
        fixture *f = fx_new(yaml, &live, NULL);
        assert_string_equal(iface_mac(f, "a", "tap"), "52:54:00:1e:00:02");
        pf_mac m;
        pf_derive_mac("kvm01", "a", "eth0", 0, &m);
        assert_string_equal(iface_mac(f, "a", "eth0"), mac_str(&m));
        /* and the Macvtap shares it with the interface, whichever declares it */
        const pf_model *model = &f->c.model;
        const pf_iface *user = NULL;
        const pf_mac *shared = pf_macvtap_mac(model, &model->macvtaps.v[0], &user);
        assert_non_null(shared);
        assert_non_null(user);
        assert_string_equal(user->name, "tap");
        assert_string_equal(mac_str(shared), "52:54:00:1e:00:02");
        fx_free(f);

        /* the other way round: the interface declares it, the Macvtap takes it */
        static const char yaml2[] =
                "apiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: mvt0}\nspec: {parent: eno2}\n---\n"
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: a}\n"
                "spec:\n  domain:\n    memory: 1Gi\n    devices:\n"
                "      interfaces: [{name: tap, macvtap: {}, macAddress: \"52:54:00:1e:00:07\"}]\n"
                "  networks: [{name: tap, macvtap: mvt0}]\n";
        f = fx_new(yaml2, NULL, NULL);
        assert_string_equal(iface_mac(f, "a", "tap"), "52:54:00:1e:00:07");
        model = &f->c.model;
        shared = pf_macvtap_mac(model, &model->macvtaps.v[0], &user);
        assert_non_null(shared);
        assert_ptr_equal(shared, &model->vms.v[0].interfaces.v[0].mac_address);
        assert_string_equal(mac_str(shared), "52:54:00:1e:00:07");
        /* and neither declaring one: nothing to share */
        static const char yaml3[] =
                "apiVersion: podform/v1\nkind: Macvtap\nmetadata: {name: mvt0}\nspec: {parent: eno2}\n---\n"
                "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: a}\n"
                "spec:\n  domain:\n    memory: 1Gi\n    devices:\n"
                "      interfaces: [{name: tap, macvtap: {}}]\n"
                "  networks: [{name: tap, macvtap: mvt0}]\n";
        fx_free(f);
        f = fx_new(yaml3, NULL, NULL);
        model = &f->c.model;
        assert_null(pf_macvtap_mac(model, &model->macvtaps.v[0], &user));
        assert_non_null(user);
        fx_free(f);
}

static int u64_cmp(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static void test_mac_collisions(void **state) {
        (void) state;
        /* An explicit MAC equal to a derived one: the derived one moves to attempt 1. */
        pf_mac m0, m1;
        pf_derive_mac("kvm01", "a", "eth0", 0, &m0);
        pf_derive_mac("kvm01", "a", "eth0", 1, &m1);
        char text[2048];
        snprintf(text, sizeof(text),
                 HDR("Network", "n") "spec: {forward: nat}\n---\n"
                 HDR("VirtualMachine", "a")
                 "spec:\n  domain: {devices: {interfaces: [{name: eth0, bridge: {}}]}}\n"
                 "  networks: [{name: eth0, network: n}]\n---\n"
                 HDR("VirtualMachine", "b")
                 "spec:\n  domain: {devices: {interfaces: [{name: eth0, bridge: {}, macAddress: \"%s\"}]}}\n"
                 "  networks: [{name: eth0, network: n}]\n", mac_str(&m0));
        fixture *f = fx_new(text, NULL, NULL);
        assert_string_equal(iface_mac(f, "b", "eth0"), mac_str(&m0));
        assert_string_equal(iface_mac(f, "a", "eth0"), mac_str(&m1));
        fx_free(f);

        /* Two interfaces whose first derived MACs collide: find such a pair of names (24 bits:
         * tens of thousands of names hold a few pairs), then the one declared second gets
         * attempt 1. */
        enum { N = 60000 };
        uint64_t *keys = calloc(N, sizeof(*keys));
        assert_non_null(keys);
        for (int i = 0; i < N; i++) {
                char name[16];
                snprintf(name, sizeof(name), "n%d", i);
                pf_mac m;
                pf_derive_mac("kvm01", "c", name, 0, &m);
                keys[i] = ((uint64_t) m.b[3] << 16 | (uint64_t) m.b[4] << 8 | m.b[5]) << 32 | (uint64_t) i;
        }
        qsort(keys, N, sizeof(*keys), u64_cmp);
        int first = -1, second = -1;
        for (int i = 1; i < N && second < 0; i++)
                if (keys[i] >> 32 == keys[i - 1] >> 32) {
                        first = (int) (keys[i - 1] & 0xffffffff);
                        second = (int) (keys[i] & 0xffffffff);
                }
        free(keys);
        assert_true(second > first && first >= 0);
        snprintf(text, sizeof(text),
                 HDR("Network", "n") "spec: {forward: nat}\n---\n"
                 HDR("VirtualMachine", "c")
                 "spec:\n  domain: {devices: {interfaces: [{name: n%d, bridge: {}}, {name: n%d, bridge: {}}]}}\n"
                 "  networks: [{name: n%d, network: n}, {name: n%d, network: n}]\n", first, second, first, second);
        f = fx_new(text, NULL, NULL);
        char n1[16], n2[16];
        snprintf(n1, sizeof(n1), "n%d", first);
        snprintf(n2, sizeof(n2), "n%d", second);
        pf_derive_mac("kvm01", "c", n1, 0, &m0);
        pf_derive_mac("kvm01", "c", n2, 0, &m1);
        assert_memory_equal(&m0, &m1, sizeof(m0));      /* the collision is real */
        pf_derive_mac("kvm01", "c", n2, 1, &m1);
        assert_string_equal(iface_mac(f, "c", n1), mac_str(&m0));
        assert_string_equal(iface_mac(f, "c", n2), mac_str(&m1));
        fx_free(f);
}

static int str_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

static void test_mac_many(void **state) {
        (void) state;
        /* 500 VMs x 3 NICs: every MAC distinct, and fast enough to be a unit test. */
        size_t cap = 600 * 1024, len = 0;
        char *text = malloc(cap);
        assert_non_null(text);
        len += (size_t) snprintf(text + len, cap - len, HDR("Network", "n") "spec: {forward: nat}\n");
        for (int i = 0; i < 500; i++)
                len += (size_t) snprintf(text + len, cap - len,
                                         "---\n" HDR("VirtualMachine", "vm%d")
                                         "spec:\n  domain: {devices: {interfaces: [{name: a, bridge: {}}, {name: b, bridge: {}}, {name: c, bridge: {}}]}}\n"
                                         "  networks: [{name: a, network: n}, {name: b, network: n}, {name: c, network: n}]\n", i);
        assert_true(len < cap);
        fixture *f = fx_new(text, NULL, NULL);
        free(text);
        char (*macs)[24] = calloc(1500, sizeof(*macs));
        assert_non_null(macs);
        size_t n = 0;
        for (size_t v = 0; v < f->c.model.vms.n; v++) {
                xmlDocPtr doc = pf_render_domain(f->r, &f->c.model.vms.v[v], &f->d);
                assert_non_null(doc);
                for (int k = 1; k <= 3; k++) {
                        char x[80];
                        snprintf(x, sizeof(x), "/domain/devices/interface[%d]/mac/@address", k);
                        snprintf(macs[n++], sizeof(macs[0]), "%s", xp_str(doc, x));
                }
                xmlFreeDoc(doc);
        }
        assert_int_equal(n, 1500);
        qsort(macs, n, sizeof(macs[0]), str_cmp);
        for (size_t i = 1; i < n; i++)
                assert_string_not_equal(macs[i - 1], macs[i]);
        free(macs);
        fx_free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_volume_escaped), cmocka_unit_test(test_disk_pool),
                cmocka_unit_test(test_domain_hash), cmocka_unit_test(test_schema_rejects),
                cmocka_unit_test(test_network_own_bootp_wins),
                cmocka_unit_test(test_mac_stable), cmocka_unit_test(test_mac_live), cmocka_unit_test(test_mac_macvtap),
                cmocka_unit_test(test_mac_collisions), cmocka_unit_test(test_mac_many),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
