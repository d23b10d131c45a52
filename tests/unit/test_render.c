/* test_render: the libvirt XML of networks, pools, volumes and domains validates against
 * libvirt's own RelaxNG schemas and says what the configuration means (XPath checks); MACs are
 * stable, unique and respect explicit and live ones; interfaces the rules of spec 3.1/3.2 place
 * (resolve/attach.h) render where the rules put them, and the boot options of 3.4 land in the
 * Network's <dhcp>; what this release cannot render is an error at the right line and column. */
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

#define SCHEMAS "/usr/share/libvirt/schemas/"
#define HDR(kind, name) "apiVersion: podform/v1\nkind: " kind "\nmetadata: {name: " name "}\n"

/* ---- schemas ---- */

enum { RNG_NETWORK, RNG_DOMAIN, RNG_POOL, RNG_VOLUME, RNG_MAX };
static xmlRelaxNGPtr schemas[RNG_MAX];

static xmlRelaxNGPtr load_schema(const char *path) {
        xmlRelaxNGParserCtxtPtr p = xmlRelaxNGNewParserCtxt(path);
        if (!p)
                return NULL;
        xmlRelaxNGPtr s = xmlRelaxNGParse(p);
        xmlRelaxNGFreeParserCtxt(p);
        return s;
}

static int group_setup(void **state) {
        (void) state;
        static const char *const files[RNG_MAX] = {
                [RNG_NETWORK] = SCHEMAS "network.rng", [RNG_DOMAIN] = SCHEMAS "domain.rng",
                [RNG_POOL] = SCHEMAS "storagepool.rng", [RNG_VOLUME] = SCHEMAS "storagevol.rng",
        };
        for (int i = 0; i < RNG_MAX; i++)
                if (!(schemas[i] = load_schema(files[i]))) {
                        fprintf(stderr, "cannot load %s\n", files[i]);
                        return -1;
                }
        return 0;
}

static int group_teardown(void **state) {
        (void) state;
        for (int i = 0; i < RNG_MAX; i++)
                xmlRelaxNGFree(schemas[i]);
        xmlCleanupParser();
        return 0;
}

static void assert_schema_valid(xmlDocPtr doc, int which) {
        assert_non_null(doc);
        xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schemas[which]);
        assert_non_null(v);
        int rc = xmlRelaxNGValidateDoc(v, doc);
        xmlRelaxNGFreeValidCtxt(v);
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
        pf_attach_result attach;        /* fx_attach: what env.attach points to */
        pf_diags attach_d;              /* and the rules' errors */
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
        pf_attach_free(&f->attach);
        pf_diag_free(&f->attach_d);
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

static xmlDocPtr render_net_ok(fixture *f, const char *name) {
        xmlDocPtr doc = pf_render_network(net_named(f, name));
        assert_schema_valid(doc, RNG_NETWORK);
        return doc;
}

/* ---- the rules of spec 3.1/3.2 (resolve/attach.h) ---- */

/* A host link of the facts, and its kind ("bridge", "device", ...). */
typedef struct link_fact { const char *name, *kind; } link_fact;

static const char *cb_link_kind(void *ud, const char *ifname) {
        for (const link_fact *l = ud; l && l->name; l++)
                if (!strcmp(l->name, ifname))
                        return l->kind;
        return NULL;
}

/* Run the rules on f's configuration with live networks `nets` and host links `links` (ended
 * by a NULL name); from now on the renderer places interfaces where they say. */
static void fx_attach(fixture *f, const pf_net_fact *nets, size_t n_nets, const link_fact *links) {
        pf_attach_facts facts = { .networks = nets, .n_networks = n_nets, .link_kind = cb_link_kind,
                                  .ud = (void *) links };
        pf_attach_free(&f->attach);
        pf_attach_resolve(&f->c.model, &f->host, &facts, &f->attach, &f->attach_d);
        f->env.attach = &f->attach;
}

/* The same, where the rules must place every interface without an error. */
static void fx_attach_ok(fixture *f, const pf_net_fact *nets, size_t n_nets, const link_fact *links) {
        fx_attach(f, nets, n_nets, links);
        if (f->attach_d.n_errors) {
                pf_diag_sort(&f->attach_d);
                pf_diag_print(&f->attach_d, stderr, false);
                fail_msg("the rules failed with %zu errors", f->attach_d.n_errors);
        }
}

/* Line and column (1-based) of the first `needle` in text: where the loader puts a location. */
static void pos_of(const char *text, const char *needle, uint32_t *line, uint32_t *col) {
        const char *p = strstr(text, needle);
        if (!p)
                fail_msg("test bug: %s not in the text", needle);
        *line = 1;
        const char *bol = text;
        for (const char *q = text; q < p; q++)
                if (*q == '\n') {
                        (*line)++;
                        bol = q + 1;
                }
        *col = (uint32_t) (p - bol) + 1;
}

/* Some error of d contains `msg` and is at the position of `needle` in text. */
static void assert_error_at(const pf_diags *d, const char *text, const char *needle, const char *msg) {
        uint32_t line, col;
        pos_of(text, needle, &line, &col);
        for (size_t i = 0; i < d->n; i++)
                if (d->v[i].severity == PF_ERROR && strstr(d->v[i].msg, msg) && d->v[i].loc.line == line &&
                    d->v[i].loc.col == col) {
                        assert_non_null(d->v[i].loc.src);
                        assert_string_equal(d->v[i].loc.src->path, "inline.yaml");
                        return;
                }
        for (size_t i = 0; i < d->n; i++)
                fprintf(stderr, "  have: %u:%u %s\n", d->v[i].loc.line, d->v[i].loc.col, d->v[i].msg);
        fail_msg("no error containing \"%s\" at %u:%u (%s)", msg, line, col, needle);
}

/* Diagnostic number i is exactly msg, at the position of `needle` in text. */
static void assert_diag_at(const pf_diags *d, size_t i, const char *text, const char *needle, const char *msg) {
        uint32_t line, col;
        pos_of(text, needle, &line, &col);
        assert_true(i < d->n);
        assert_string_equal(d->v[i].msg, msg);
        assert_int_equal(d->v[i].loc.line, line);
        assert_int_equal(d->v[i].loc.col, col);
}

static const char *mac_str(const pf_mac *m) {
        static char buf[4][64];
        static int k;
        return pf_mac_format(m, buf[k++ % 4]);
}

/* ---- networks, pools, volumes ---- */

static const char NETWORKS[] =
        HDR("Network", "natnet")
        "spec:\n"
        "  forward: nat\n"
        "  nat: {ports: {start: 1024, end: 65535}}\n"
        "  bridge: {name: virbr10, stp: true, delay: 2}\n"
        "  mtu: 9000\n"
        "  domain: example.test\n"
        "  ips:\n"
        "    - address: 192.168.50.1\n"
        "      prefix: 24\n"
        "      dhcp:\n"
        "        ranges: [{start: 192.168.50.100, end: 192.168.50.200}, {start: 192.168.50.210, end: 192.168.50.220}]\n"
        "        hosts:\n"
        "          - {mac: \"52:54:00:00:00:01\", ip: 192.168.50.10, name: web1}\n"
        "          - {ip: 192.168.50.11, name: db1}\n"
        "          - {mac: \"52:54:00:00:00:02\", ip: 192.168.50.12}\n"
        "        bootp: {file: pxelinux.0, server: 192.168.50.1}\n"
        "    - address: \"fd00:50::1\"\n"
        "      prefix: 64\n"
        "      dhcp:\n"
        "        ranges: [{start: \"fd00:50::100\", end: \"fd00:50::1ff\"}]\n"
        "        hosts: [{ip: \"fd00:50::10\", name: web1}]\n"
        "---\n" HDR("Network", "routed")
        "spec:\n  forward: route\n  bridge: {name: virbr11}\n  ips: [{address: 10.1.0.1, prefix: 16}]\n"
        "---\n" HDR("Network", "opennet")
        "spec:\n  forward: open\n  ips: [{address: 10.2.0.1, prefix: 16}]\n"
        "---\n" HDR("Network", "isolated")
        "spec:\n  forward: none\n  autostart: false\n"
        "---\n" HDR("Network", "hostbridge")
        "spec:\n  forward: bridge\n  bridge: {name: br0}\n"
        "---\n" HDR("Network", "macvtapnet")
        "spec:\n  forward: bridge\n  interfaces: [eno1, eno2]\n"
        "---\n" HDR("Network", "priv")
        "spec:\n  forward: private\n  interfaces: [eno3]\n"
        "---\n" HDR("Network", "vepanet")
        "spec:\n  forward: vepa\n  interfaces: [eno4]\n"
        "---\n" HDR("Network", "pt")
        "spec:\n  forward: passthrough\n  interfaces: [enp129s0f0]\n"
        "---\n" HDR("StoragePool", "pool1")
        "spec: {type: dir, path: /var/lib/libvirt/images/pool1}\n";

static void test_network_nat(void **state) {
        (void) state;
        fixture *f = fx_new(NETWORKS, NULL, NULL);
        xmlDocPtr doc = render_net_ok(f, "natnet");
        assert_xp(doc, "/network/name", "natnet");
        assert_xp(doc, "/network/forward/@mode", "nat");
        assert_xp(doc, "/network/forward/nat/port/@start", "1024");
        assert_xp(doc, "/network/forward/nat/port/@end", "65535");
        assert_xp(doc, "/network/bridge/@name", "virbr10");
        assert_xp(doc, "/network/bridge/@stp", "on");
        assert_xp(doc, "/network/bridge/@delay", "2");
        assert_xp(doc, "/network/mtu/@size", "9000");
        assert_xp(doc, "/network/domain/@name", "example.test");
        assert_int_equal(xp_count(doc, "/network/ip"), 2);
        assert_xp(doc, "/network/ip[1]/@address", "192.168.50.1");
        assert_xp(doc, "/network/ip[1]/@prefix", "24");
        assert_int_equal(xp_count(doc, "/network/ip[1]/@family"), 0);
        assert_int_equal(xp_count(doc, "/network/ip[1]/dhcp/range"), 2);
        assert_xp(doc, "/network/ip[1]/dhcp/range[2]/@start", "192.168.50.210");
        assert_xp(doc, "/network/ip[1]/dhcp/range[2]/@end", "192.168.50.220");
        assert_int_equal(xp_count(doc, "/network/ip[1]/dhcp/host"), 3);
        assert_xp(doc, "/network/ip[1]/dhcp/host[1]/@mac", "52:54:00:00:00:01");
        assert_xp(doc, "/network/ip[1]/dhcp/host[1]/@name", "web1");
        assert_int_equal(xp_count(doc, "/network/ip[1]/dhcp/host[2]/@mac"), 0);
        assert_xp(doc, "/network/ip[1]/dhcp/host[2]/@ip", "192.168.50.11");
        assert_int_equal(xp_count(doc, "/network/ip[1]/dhcp/host[3]/@name"), 0);
        assert_xp(doc, "/network/ip[1]/dhcp/bootp/@file", "pxelinux.0");
        assert_xp(doc, "/network/ip[1]/dhcp/bootp/@server", "192.168.50.1");
        assert_xp(doc, "/network/ip[2]/@family", "ipv6");
        assert_xp(doc, "/network/ip[2]/@address", "fd00:50::1");
        assert_xp(doc, "/network/ip[2]/@prefix", "64");
        assert_xp(doc, "/network/ip[2]/dhcp/range/@end", "fd00:50::1ff");
        assert_xp(doc, "/network/ip[2]/dhcp/host/@name", "web1");
        /* Element order as the extractor expects it. */
        assert_xp(doc, "name(/network/*[2])", "forward");
        assert_xp(doc, "name(/network/*[3])", "bridge");
        assert_xp(doc, "name(/network/*[4])", "mtu");
        assert_xp(doc, "name(/network/*[5])", "domain");
        assert_xp(doc, "name(/network/*[6])", "ip");
        /* Runtime state is not part of the definition. */
        assert_int_equal(xp_count(doc, "//autostart"), 0);
        xmlFreeDoc(doc);
        fx_free(f);
}

static void test_network_modes(void **state) {
        (void) state;
        fixture *f = fx_new(NETWORKS, NULL, NULL);
        xmlDocPtr doc = render_net_ok(f, "routed");
        assert_xp(doc, "/network/forward/@mode", "route");
        assert_int_equal(xp_count(doc, "/network/forward/nat"), 0);
        assert_xp(doc, "/network/bridge/@name", "virbr11");
        assert_xp(doc, "/network/bridge/@stp", "on");           /* default */
        assert_xp(doc, "/network/bridge/@delay", "0");
        assert_int_equal(xp_count(doc, "/network/mtu | /network/domain | /network/ip/dhcp"), 0);
        xmlFreeDoc(doc);

        doc = render_net_ok(f, "opennet");
        assert_xp(doc, "/network/forward/@mode", "open");
        assert_int_equal(xp_count(doc, "/network/bridge/@name"), 0);
        assert_xp(doc, "/network/bridge/@stp", "on");
        xmlFreeDoc(doc);

        doc = render_net_ok(f, "isolated");
        assert_int_equal(xp_count(doc, "/network/forward"), 0);
        assert_int_equal(xp_count(doc, "/network/bridge"), 1);
        assert_xp(doc, "/network/bridge/@delay", "0");
        xmlFreeDoc(doc);

        doc = render_net_ok(f, "hostbridge");
        assert_xp(doc, "/network/forward/@mode", "bridge");
        assert_xp(doc, "/network/bridge/@name", "br0");
        assert_int_equal(xp_count(doc, "/network/bridge/@stp | /network/bridge/@delay"), 0);
        xmlFreeDoc(doc);

        doc = render_net_ok(f, "macvtapnet");
        assert_xp(doc, "/network/forward/@mode", "bridge");
        assert_int_equal(xp_count(doc, "/network/bridge"), 0);
        assert_int_equal(xp_count(doc, "/network/forward/interface"), 2);
        assert_xp(doc, "/network/forward/interface[2]/@dev", "eno2");
        xmlFreeDoc(doc);

        static const char *const modes[][3] = {
                { "priv", "private", "eno3" }, { "vepanet", "vepa", "eno4" }, { "pt", "passthrough", "enp129s0f0" },
        };
        for (size_t i = 0; i < 3; i++) {
                doc = render_net_ok(f, modes[i][0]);
                assert_xp(doc, "/network/forward/@mode", modes[i][1]);
                assert_xp(doc, "/network/forward/interface/@dev", modes[i][2]);
                assert_int_equal(xp_count(doc, "/network/bridge"), 0);
                xmlFreeDoc(doc);
        }
        fx_free(f);
}

static void test_network_maas(void **state) {
        (void) state;
        pf_config c;
        pf_config_init(&c);
        pf_config_load_path(&c, SRCDIR "/examples/maas-network.yaml");
        pf_run_check(&c);
        assert_int_equal(c.diags.n_errors, 0);
        xmlDocPtr doc = pf_render_network(&c.model.networks.v[0]);
        assert_schema_valid(doc, RNG_NETWORK);
        assert_xp(doc, "/network/name", "maas");
        assert_xp(doc, "/network/forward/@mode", "nat");
        assert_xp(doc, "/network/forward/nat/port/@start", "1024");
        assert_xp(doc, "/network/bridge/@name", "virbr1");
        assert_xp(doc, "/network/bridge/@stp", "off");
        assert_xp(doc, "/network/bridge/@delay", "0");
        assert_xp(doc, "/network/domain/@name", "testnet");
        assert_xp(doc, "/network/ip/@address", "172.16.99.1");
        assert_int_equal(xp_count(doc, "//dhcp"), 0);          /* MAAS serves DHCP, not libvirt */
        char *s = pf_xml_dump(doc);
        assert_null(strstr(s, "<?xml"));
        assert_int_equal(strncmp(s, "<network>\n  <name>maas</name>\n", 30), 0);
        free(s);
        xmlFreeDoc(doc);
        pf_config_free(&c);
}

static void test_pool_and_volumes(void **state) {
        (void) state;
        fixture *f = fx_new(NETWORKS, NULL, NULL);
        xmlDocPtr doc = pf_render_pool(&f->c.model.pools.v[0]);
        assert_schema_valid(doc, RNG_POOL);
        assert_xp(doc, "/pool/@type", "dir");
        assert_xp(doc, "/pool/name", "pool1");
        assert_xp(doc, "/pool/target/path", "/var/lib/libvirt/images/pool1");
        xmlFreeDoc(doc);

        doc = pf_render_volume("web1-root", 34359738368ULL, PF_DISK_QCOW2);
        assert_schema_valid(doc, RNG_VOLUME);
        assert_xp(doc, "/volume/name", "web1-root");
        assert_xp(doc, "/volume/capacity", "34359738368");
        assert_xp(doc, "/volume/capacity/@unit", "bytes");
        assert_xp(doc, "/volume/target/format/@type", "qcow2");
        xmlFreeDoc(doc);
        doc = pf_render_volume("a&b", 1, PF_DISK_RAW);         /* text is escaped, not spliced */
        assert_schema_valid(doc, RNG_VOLUME);
        assert_xp(doc, "/volume/name", "a&b");
        assert_xp(doc, "/volume/target/format/@type", "raw");
        xmlFreeDoc(doc);

        pf_arena a = { 0 };
        assert_string_equal(pf_volume_name(&a, "web1", "root"), "web1-root");
        pf_arena_free(&a);
        pf_disk d = { .name = "x" };
        assert_string_equal(pf_disk_pool(&f->env, &d), "default");
        d.pool = "pool1";
        assert_string_equal(pf_disk_pool(&f->env, &d), "pool1");
        fx_free(f);
}

/* ---- domains ---- */

static const char VMS[] =
        HDR("Host", "kvm01") "spec: {defaultStoragePool: pool1}\n"
        "---\n" HDR("Network", "natnet") "spec: {forward: nat}\n"
        "---\n" HDR("Macvtap", "mvt-web") "spec: {parent: eno2}\n"
        "---\n" HDR("VirtualMachine", "allnics")
        "spec:\n"
        "  domain:\n"
        "    machine: q35\n"
        "    cpu: {cores: 4, sockets: 1}\n"
        "    memory: 1G\n"
        "    devices:\n"
        "      networkInterfaceMultiqueue: true\n"
        "      disks:\n"
        "        - {name: root, size: 20Gi}\n"
        "        - {name: data, size: 100Gi, pool: pool2, format: raw, bus: sata}\n"
        "        - {name: logs, size: 1Gi, bus: scsi}\n"
        "        - {name: old, size: 1Gi, bus: ide}\n"
        "        - {name: scratch, size: 1Gi}\n"
        "      interfaces:\n"
        "        - {name: net, bridge: {}, pciAddress: \"0000:00:0a.0\"}\n"
        "        - {name: hostbr, bridge: {}, model: e1000}\n"
        "        - {name: mnet, bridge: {}, model: e1000e}\n"
        "        - {name: mlive, bridge: {}}\n"
        "        - {name: mbr, bridge: {}, model: ne2k_pci}\n"
        "        - {name: dir, macvtap: {}, model: pcnet}\n"
        "        - {name: dirv, macvtap: {mode: vepa}, model: rtl8139}\n"
        "        - {name: dirp, macvtap: {mode: passthru}}\n"
        "        - {name: tap, macvtap: {}}\n"
        "        - {name: sr, sriov: {}}\n"
        "        - {name: sr2, sriov: {}, macAddress: \"52:54:00:ab:cd:ef\"}\n"
        "  networks:\n"
        "    - {name: net, network: natnet}\n"
        "    - {name: hostbr, host: {interface: br0}}\n"
        "    - {name: mnet, multus: {networkName: natnet}}\n"
        "    - {name: mlive, multus: {networkName: livenet}}\n"
        "    - {name: mbr, genie: {networkName: br-storage}}\n"
        "    - {name: dir, host: {interface: eno2}}\n"
        "    - {name: dirv, host: {interface: eno3}}\n"
        "    - {name: dirp, host: {interface: eno4}}\n"
        "    - {name: tap, macvtap: mvt-web}\n"
        "    - {name: sr, host: {pci: \"0000:81:00.1\"}}\n"
        "    - {name: sr2, host: {interface: enp129s0f1}}\n"
        "---\n" HDR("VirtualMachine", "bootvm")
        "spec:\n"
        "  domain:\n"
        "    type: qemu\n"
        "    cpu: {cores: 2, threads: 2}\n"
        "    devices:\n"
        "      networkInterfaceMultiqueue: true\n"
        "      disks: [{name: root, size: 8Gi, bootOrder: 2}]\n"
        "      interfaces: [{name: pxe, bridge: {}, bootOrder: 1, model: e1000}, {name: lab, bridge: {}}]\n"
        "  networks: [{name: pxe, network: natnet}, {name: lab, network: natnet}]\n"
        "---\n" HDR("VirtualMachine", "slirpvm")
        "spec:\n"
        "  domain:\n"
        "    boot: [hd, cdrom, network]\n"
        "    devices:\n"
        "      interfaces: [{name: default, slirp: {}}]\n"
        "  networks: [{name: default, pod: {}}]\n"
        "---\n" HDR("VirtualMachine", "passtvm")
        "spec:\n"
        "  domain:\n"
        "    cpu: {cores: 2}\n"
        "    devices:\n"
        "      networkInterfaceMultiqueue: true\n"
        "      interfaces:\n"
        "        - name: red\n"
        "          masquerade: {}\n"
        "          ports: [{port: 80}, {name: dns, port: 53, protocol: UDP}]\n"
        "  networks: [{name: red, multus: {networkName: whatever, default: true}}]\n";

static const env_data VMS_ENV = {
        .live_net = "livenet", .pci_ifname = "enp129s0f1", .pci = { 0x0000, 0x81, 0x00, 0x2 },
};

static void test_domain_interfaces(void **state) {
        (void) state;
        fixture *f = fx_new(VMS, &VMS_ENV, NULL);
        xmlDocPtr doc = render_ok(f, "allnics");
        assert_xp(doc, "/domain/@type", "kvm");
        assert_xp(doc, "/domain/name", "allnics");
        assert_int_equal(xp_count(doc, "/domain/devices/interface"), 11);
#define IF(n) "/domain/devices/interface[" #n "]"
        assert_xp(doc, IF(1) "/@type", "network");
        assert_xp(doc, IF(1) "/source/@network", "natnet");
        assert_xp(doc, IF(1) "/model/@type", "virtio");
        assert_xp(doc, IF(1) "/address/@type", "pci");
        assert_xp(doc, IF(1) "/address/@domain", "0x0000");
        assert_xp(doc, IF(1) "/address/@bus", "0x00");
        assert_xp(doc, IF(1) "/address/@slot", "0x0a");
        assert_xp(doc, IF(1) "/address/@function", "0x0");
        assert_xp(doc, IF(2) "/@type", "bridge");
        assert_xp(doc, IF(2) "/source/@bridge", "br0");
        assert_xp(doc, IF(2) "/model/@type", "e1000");
        assert_xp(doc, IF(3) "/@type", "network");             /* multus: a declared Network */
        assert_xp(doc, IF(3) "/source/@network", "natnet");
        assert_xp(doc, IF(3) "/model/@type", "e1000e");
        assert_xp(doc, IF(4) "/@type", "network");             /* multus: a live network */
        assert_xp(doc, IF(4) "/source/@network", "livenet");
        assert_xp(doc, IF(5) "/@type", "bridge");              /* genie: neither, so a bridge */
        assert_xp(doc, IF(5) "/source/@bridge", "br-storage");
        assert_xp(doc, IF(5) "/model/@type", "ne2k_pci");
        assert_xp(doc, IF(6) "/@type", "direct");
        assert_xp(doc, IF(6) "/source/@dev", "eno2");
        assert_xp(doc, IF(6) "/model/@type", "pcnet");
        assert_xp(doc, "//interface[@type='direct'][source/@dev='eno2']/source/@mode", "bridge");
        assert_xp(doc, "//interface[@type='direct'][source/@dev='eno3']/source/@mode", "vepa");
        assert_xp(doc, IF(7) "/model/@type", "rtl8139");
        assert_xp(doc, "//interface[@type='direct'][source/@dev='eno4']/source/@mode", "passthrough");
        assert_xp(doc, IF(9) "/@type", "ethernet");
        assert_xp(doc, IF(9) "/target/@dev", "mvt-web");
        assert_xp(doc, IF(9) "/target/@managed", "no");
        assert_xp(doc, IF(10) "/@type", "hostdev");
        assert_xp(doc, IF(10) "/@managed", "yes");
        assert_xp(doc, IF(10) "/source/address/@type", "pci");
        assert_xp(doc, IF(10) "/source/address/@bus", "0x81");
        assert_xp(doc, IF(10) "/source/address/@function", "0x1");
        assert_int_equal(xp_count(doc, IF(10) "/model"), 0);
        assert_xp(doc, IF(11) "/source/address/@bus", "0x81");   /* from the host_pci callback */
        assert_xp(doc, IF(11) "/source/address/@function", "0x2");
        assert_xp(doc, IF(11) "/mac/@address", "52:54:00:ab:cd:ef");
        /* Multiqueue: queues = vCPUs, on virtio NICs backed by a tap only. */
        assert_xp(doc, "/domain/vcpu", "4");
        assert_xp(doc, IF(1) "/driver/@queues", "4");
        assert_xp(doc, IF(4) "/driver/@queues", "4");
        assert_xp(doc, IF(8) "/driver/@queues", "4");
        assert_xp(doc, IF(9) "/driver/@queues", "4");
        assert_int_equal(xp_count(doc, "//interface/driver"), 4);      /* not e1000..., not hostdev */
        /* Each interface's MAC is the one in the ownership metadata, in declared order. */
        assert_int_equal(xp_count(doc, "/domain/metadata/podform:vm/podform:interface"), 11);
        for (int i = 1; i <= 11; i++) {
                char a[160], b[160];
                snprintf(a, sizeof(a), "/domain/devices/interface[%d]/mac/@address", i);
                snprintf(b, sizeof(b), "/domain/metadata/podform:vm/podform:interface[%d]/@mac", i);
                char want[64];
                snprintf(want, sizeof(want), "%s", xp_str(doc, b));
                assert_int_equal(strlen(want), 17);
                assert_xp(doc, a, want);
        }
        assert_xp(doc, "/domain/metadata/podform:vm/podform:interface[3]/@name", "mnet");
#undef IF
        xmlFreeDoc(doc);
        fx_free(f);
}

static void test_domain_devices(void **state) {
        (void) state;
        fixture *f = fx_new(VMS, &VMS_ENV, NULL);
        xmlDocPtr doc = render_ok(f, "allnics");
        /* 1G = 10^9 bytes = 976562.5 KiB: rounded up. */
        assert_xp(doc, "/domain/memory", "976563");
        assert_xp(doc, "/domain/memory/@unit", "KiB");
        assert_xp(doc, "/domain/os/type", "hvm");
        assert_xp(doc, "/domain/os/type/@arch", "x86_64");
        assert_xp(doc, "/domain/os/type/@machine", "q35");
        assert_int_equal(xp_count(doc, "/domain/os/boot"), 2);
        assert_xp(doc, "/domain/os/boot[1]/@dev", "network");
        assert_xp(doc, "/domain/os/boot[2]/@dev", "hd");
        assert_int_equal(xp_count(doc, "/domain/features/acpi"), 1);
        assert_int_equal(xp_count(doc, "/domain/features/apic"), 1);
        assert_xp(doc, "/domain/cpu/topology/@sockets", "1");
        assert_xp(doc, "/domain/cpu/topology/@dies", "1");
        assert_xp(doc, "/domain/cpu/topology/@cores", "4");
        assert_xp(doc, "/domain/cpu/topology/@threads", "1");
        /* Disks: declared order, names per prefix. */
        assert_int_equal(xp_count(doc, "/domain/devices/disk"), 5);
        static const char *const devs[][4] = {
                { "vda", "virtio", "qcow2", "pool1" }, { "sda", "sata", "raw", "pool2" },
                { "sdb", "scsi", "qcow2", "pool1" }, { "hda", "ide", "qcow2", "pool1" },
                { "vdb", "virtio", "qcow2", "pool1" },
        };
        static const char *const names[] = { "root", "data", "logs", "old", "scratch" };
        for (int i = 0; i < 5; i++) {
                char x[128], vol[64];
#define DISK(sub) (snprintf(x, sizeof(x), "/domain/devices/disk[%d]%s", i + 1, sub), x)
                assert_xp(doc, DISK("/@type"), "volume");
                assert_xp(doc, DISK("/@device"), "disk");
                assert_xp(doc, DISK("/target/@dev"), devs[i][0]);
                assert_xp(doc, DISK("/target/@bus"), devs[i][1]);
                assert_xp(doc, DISK("/driver/@name"), "qemu");
                assert_xp(doc, DISK("/driver/@type"), devs[i][2]);
                assert_xp(doc, DISK("/source/@pool"), devs[i][3]);
                snprintf(vol, sizeof(vol), "allnics-%s", names[i]);
                assert_xp(doc, DISK("/source/@volume"), vol);
                assert_int_equal(xp_count(doc, DISK("/boot")), 0);
                snprintf(x, sizeof(x), "/domain/metadata/podform:vm/podform:disk[%d]/@volume", i + 1);
                assert_xp(doc, x, vol);
#undef DISK
        }
        assert_xp(doc, "/domain/metadata/podform:vm/podform:disk[2]/@pool", "pool2");
        assert_xp(doc, "/domain/metadata/podform:vm/podform:disk[2]/@name", "data");
        assert_xp(doc, "/domain/devices/serial/@type", "pty");
        assert_xp(doc, "/domain/devices/serial/target/@port", "0");
        assert_xp(doc, "/domain/devices/console/target/@type", "serial");
        /* Ownership metadata: the file and a hash of everything else, right after <name>. */
        assert_xp(doc, "name(/domain/*[2])", "metadata");
        assert_xp(doc, "/domain/metadata/podform:vm/@config", "inline.yaml");
        assert_int_equal(xp_count(doc, "/domain/metadata/*"), 1);
        const char *hash = xp_str(doc, "/domain/metadata/podform:vm/@hash");
        assert_int_equal(strlen(hash), 16);
        assert_int_equal(strspn(hash, "0123456789abcdef"), 16);
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

static void test_domain_boot_order(void **state) {
        (void) state;
        fixture *f = fx_new(VMS, &VMS_ENV, NULL);
        xmlDocPtr doc = render_ok(f, "bootvm");
        assert_xp(doc, "/domain/@type", "qemu");
        assert_int_equal(xp_count(doc, "/domain/os/boot"), 0);
        assert_int_equal(xp_count(doc, "/domain/os/type/@machine"), 0);
        assert_xp(doc, "/domain/devices/disk/boot/@order", "2");
        assert_xp(doc, "/domain/devices/interface[1]/boot/@order", "1");
        assert_int_equal(xp_count(doc, "/domain/devices/interface[2]/boot"), 0);
        /* 2 cores x 2 threads: multiqueue on the virtio NIC only. */
        assert_xp(doc, "/domain/vcpu", "4");
        assert_xp(doc, "/domain/cpu/topology/@threads", "2");
        assert_xp(doc, "/domain/cpu/topology/@sockets", "1");
        assert_int_equal(xp_count(doc, "/domain/devices/interface[1]/driver"), 0);
        assert_xp(doc, "/domain/devices/interface[2]/driver/@queues", "4");
        assert_xp(doc, "/domain/memory", "2097152");           /* the 2Gi default */
        xmlFreeDoc(doc);

        doc = render_ok(f, "slirpvm");
        assert_xp(doc, "/domain/devices/interface/@type", "user");
        assert_int_equal(xp_count(doc, "/domain/devices/interface/backend"), 0);
        assert_int_equal(xp_count(doc, "/domain/os/boot"), 3);
        assert_xp(doc, "/domain/os/boot[1]/@dev", "hd");
        assert_xp(doc, "/domain/os/boot[2]/@dev", "cdrom");
        assert_xp(doc, "/domain/os/boot[3]/@dev", "network");
        assert_int_equal(xp_count(doc, "/domain/cpu"), 0);     /* only cores: no topology */
        assert_int_equal(xp_count(doc, "/domain/devices/disk"), 0);
        xmlFreeDoc(doc);

        doc = render_ok(f, "passtvm");
        assert_xp(doc, "/domain/devices/interface/@type", "user");
        assert_xp(doc, "/domain/devices/interface/backend/@type", "passt");
        assert_int_equal(xp_count(doc, "/domain/devices/interface/portForward"), 2);
        assert_xp(doc, "/domain/devices/interface/portForward[1]/@proto", "tcp");
        assert_xp(doc, "/domain/devices/interface/portForward[1]/range/@start", "80");
        assert_xp(doc, "/domain/devices/interface/portForward[2]/@proto", "udp");
        assert_xp(doc, "/domain/devices/interface/portForward[2]/range/@start", "53");
        assert_int_equal(xp_count(doc, "/domain/devices/interface/driver"), 0);    /* not a tap */
        xmlFreeDoc(doc);
        fx_free(f);
}

static void test_domain_examples(void **state) {
        (void) state;
        /* db1 of the MAAS example renders once its constraints are replaced; pool defaults. */
        static const char text[] =
                HDR("Host", "kvm01") "spec: {defaultStoragePool: pool1}\n---\n"
                HDR("VirtualMachine", "db1")
                "spec:\n"
                "  domain:\n"
                "    machine: q35\n"
                "    cpu: {cores: 4, sockets: 1, threads: 2}\n"
                "    memory: 8Gi\n"
                "    devices:\n"
                "      disks:\n"
                "        - {name: root, size: 40Gi, pool: pool1, bootOrder: 2}\n"
                "        - {name: data, size: 200Gi, pool: pool2, format: raw, bus: scsi}\n"
                "        - {name: wal, size: 20Gi}\n"
                "      interfaces:\n"
                "        - {name: pxe, bridge: {}, macAddress: \"52:54:00:d6:00:01\", bootOrder: 1}\n"
                "        - {name: lab, macvtap: {mode: private}, model: e1000e}\n"
                "      networkInterfaceMultiqueue: true\n"
                "  networks:\n"
                "    - {name: pxe, host: {interface: br-pxe}}\n"
                "    - {name: lab, host: {interface: eno2}}\n";
        fixture *f = fx_new(text, NULL, NULL);
        xmlDocPtr doc = render_ok(f, "db1");
        assert_xp(doc, "/domain/memory", "8388608");
        assert_xp(doc, "/domain/vcpu", "8");
        assert_xp(doc, "/domain/devices/interface[1]/driver/@queues", "8");
        assert_xp(doc, "/domain/devices/interface[1]/mac/@address", "52:54:00:d6:00:01");
        assert_xp(doc, "/domain/devices/interface[2]/source/@mode", "private");
        assert_xp(doc, "/domain/devices/disk[2]/target/@dev", "sda");
        assert_xp(doc, "/domain/devices/disk[3]/target/@dev", "vdb");
        assert_xp(doc, "/domain/devices/disk[3]/source/@pool", "pool1");
        assert_int_equal(xp_count(doc, "/domain/os/boot"), 0);
        xmlFreeDoc(doc);
        fx_free(f);
}

static void quiet(void *ctx, xmlErrorPtr err) {
        (void) ctx, (void) err;
}

/* The schema check can fail: the spellings it guards are real (a negative control). */
static void test_schema_rejects(void **state) {
        (void) state;
        fixture *f = fx_new(VMS, &VMS_ENV, NULL);
        xmlDocPtr doc = render_ok(f, "allnics");
        xmlXPathObjectPtr o = xp_eval(doc, "//interface[@type='direct'][source/@dev='eno4']/source");
        assert_int_equal(o->nodesetval ? o->nodesetval->nodeNr : 0, 1);
        xmlSetProp(o->nodesetval->nodeTab[0], BAD_CAST "mode", BAD_CAST "passthru");     /* podform's spelling */
        xmlXPathFreeObject(o);
        xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schemas[RNG_DOMAIN]);
        xmlRelaxNGSetValidStructuredErrors(v, quiet, NULL);
        assert_int_not_equal(xmlRelaxNGValidateDoc(v, doc), 0);
        xmlRelaxNGFreeValidCtxt(v);
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

/* ---- what this release cannot render ---- */

/* Render `vm`, which must fail with n errors. */
static void render_fails(fixture *f, const char *vm, size_t n) {
        size_t before = f->d.n_errors;
        xmlDocPtr doc = pf_render_domain(f->r, vm_named(f, vm), &f->d);
        if (doc) {
                xmlFreeDoc(doc);
                fail_msg("VM %s rendered, but should not", vm);
        }
        assert_int_equal(f->d.n_errors - before, n);
}

static void test_error_pod(void **state) {
        (void) state;
        static const char text[] =
                HDR("VirtualMachine", "explicit")
                "spec:\n  domain: {devices: {interfaces: [{name: default, bridge: {}}]}}\n"
                "  networks:\n    - name: default\n      pod: {}\n---\n"
                HDR("VirtualMachine", "multusdefault")
                "spec:\n  domain: {devices: {interfaces: [{name: m, bridge: {}}]}}\n"
                "  networks:\n    - name: m\n      multus: {networkName: x, default: true}\n---\n"
                HDR("VirtualMachine", "implicit") "spec: {running: false}\n---\n"
                HDR("VirtualMachine", "implicit2")
                "spec:\n  domain: {devices: {autoattachPodInterface: true}}\n";
        /* Without the rules' result, a pod interface cannot be rendered: a renderer bug, said so. */
        fixture *f = fx_new(text, NULL, NULL);
        const char *msg = "interface 'default' is placed by the rules of spec 3.1/3.2, which were not run";
        render_fails(f, "explicit", 1);
        assert_error_at(&f->d, text, "pod: {}", msg);
        render_fails(f, "multusdefault", 1);
        assert_error_at(&f->d, text, "multus: {networkName: x",
                        "interface 'm' is placed by the rules of spec 3.1/3.2, which were not run");
        /* The implicit interface has no location of its own: the VM's name. */
        render_fails(f, "implicit", 1);
        assert_diag_at(&f->d, 2, text, "implicit}", msg);
        render_fails(f, "implicit2", 1);
        assert_diag_at(&f->d, 3, text, "implicit2}", msg);

        /* With a result that placed nothing (no host network, no Subnet), the rules reported
         * each interface once; the renderer fails them without saying it again. */
        fx_attach(f, NULL, 0, NULL);
        assert_int_equal(f->attach_d.n_errors, 4);
        assert_int_equal(f->attach.n, 0);
        size_t before = f->d.n;
        render_fails(f, "explicit", 0);
        render_fails(f, "multusdefault", 0);
        render_fails(f, "implicit", 0);
        render_fails(f, "implicit2", 0);
        assert_int_equal(f->d.n, before);
        fx_free(f);
}

static void test_error_misc(void **state) {
        (void) state;
        static const char text[] =
                HDR("Subnet", "prov") "spec: {cidr: 10.20.0.0/24, space: provisioning}\n---\n"
                HDR("Network", "n")
                "spec: {forward: nat, ips: [{address: 10.0.0.1, prefix: 24, dhcp: {ranges: [{start: 10.0.0.100, end: 10.0.0.200}]}}]}\n---\n"
                HDR("VirtualMachine", "cons")
                "spec:\n  domain: {devices: {interfaces: [{name: pxe, bridge: {}}]}}\n"
                "  networks:\n    - name: pxe\n      constraints: {space: provisioning}\n---\n"
                HDR("VirtualMachine", "bootopts")
                "spec:\n  domain:\n    devices:\n      interfaces:\n"
                "        - name: lab\n          bridge: {}\n          bootFileName: pxelinux.0\n          tftpServerName: 10.0.0.1\n"
                "  networks: [{name: lab, network: n}]\n---\n"
                HDR("VirtualMachine", "slirpports")
                "spec:\n  domain:\n    devices:\n      interfaces:\n"
                "        - name: default\n          slirp: {}\n          ports: [{port: 22}]\n"
                "  networks: [{name: default, pod: {}}]\n---\n"
                HDR("VirtualMachine", "srnopci")
                "spec:\n  domain: {devices: {interfaces: [{name: vf, sriov: {}}, {name: vf2, sriov: {}}]}}\n"
                "  networks:\n    - {name: vf, host: {interface: eth7}}\n    - {name: vf2, host: {interface: eth8}}\n---\n"
                HDR("VirtualMachine", "volumedisk")
                "spec:\n  domain:\n    devices:\n      disks:\n        - {name: root, size: 8Gi}\n"
                "        - name: cidata\n          disk: {bus: virtio}\n"
                "      interfaces: [{name: lab, bridge: {}}]\n"
                "  networks: [{name: lab, network: n}]\n"
                "  volumes: [{name: cidata, cloudInitNoCloud: {userData: hi}}]\n";
        /* eth8 is a PCI device, eth7 is not. */
        env_data data = { .pci_ifname = "eth8", .pci = { 0, 0x3b, 0x10, 0x1 } };
        fixture *f = fx_new(text, &data, NULL);
        /* Boot options are not the domain's: the Network serves them (test_network_bootp). */
        xmlDocPtr doc = render_ok(f, "bootopts");
        assert_xp(doc, "/domain/devices/interface/@type", "network");
        assert_xp(doc, "/domain/devices/interface/source/@network", "n");
        char *xml = pf_xml_dump(doc);
        assert_null(strstr(xml, "pxelinux.0"));
        assert_null(strstr(xml, "bootp"));
        free(xml);
        xmlFreeDoc(doc);
        render_fails(f, "cons", 1);
        assert_error_at(&f->d, text, "constraints: {space",
                        "interface 'pxe' is placed by the rules of spec 3.1/3.2, which were not run");
        render_fails(f, "slirpports", 1);
        assert_error_at(&f->d, text, "ports: [{port: 22}]",
                        "libvirt cannot forward ports on a slirp interface; use the masquerade binding (passt) for port forwarding");
        render_fails(f, "srnopci", 1);
        assert_error_at(&f->d, text, "eth7}",
                        "host interface 'eth7' is not a PCI network device on this host; sriov needs one (give host: {pci: ...})");
        render_fails(f, "volumedisk", 1);
        assert_error_at(&f->d, text, "name: cidata\n",
                        "disk 'cidata' is backed by a KubeVirt volume; podform creates only sized disks in this release (give it a size)");
        fx_free(f);

        /* Without a host_pci callback, both sriov interfaces fail. */
        f = fx_new(text, NULL, NULL);
        f->env.host_pci = NULL;
        render_fails(f, "srnopci", 2);
        assert_error_at(&f->d, text, "eth8}", "host interface 'eth8' is not a PCI network device");
        fx_free(f);
}

static void test_error_all_at_once(void **state) {
        (void) state;
        /* Every problem of a VM is reported in one run. */
        static const char text[] =
                HDR("Subnet", "prov") "spec: {cidr: 10.20.0.0/24, space: provisioning}\n---\n"
                HDR("Network", "n")
                "spec: {forward: nat, ips: [{address: 10.0.0.1, prefix: 24, dhcp: {ranges: [{start: 10.0.0.100, end: 10.0.0.200}]}}]}\n---\n"
                HDR("VirtualMachine", "bad")
                "spec:\n  domain:\n    devices:\n"
                "      disks: [{name: cidata}]\n"
                "      interfaces:\n"
                "        - {name: lab, bridge: {}, bootFileName: x.efi}\n"
                "        - {name: pxe, bridge: {}}\n"
                "        - {name: default, masquerade: {}}\n"
                "        - {name: vf, sriov: {}}\n"
                "  networks:\n"
                "    - {name: lab, network: n}\n"
                "    - {name: pxe, constraints: {space: provisioning}}\n"
                "    - {name: default, pod: {}}\n"
                "    - {name: vf, host: {interface: eth9}}\n"
                "  volumes: [{cloudInitNoCloud: {userData: hi}}]\n";
        fixture *f = fx_new(text, NULL, NULL);
        render_fails(f, "bad", 3);
        assert_error_at(&f->d, text, "{name: cidata}", "disk 'cidata' is backed by a KubeVirt volume");
        assert_error_at(&f->d, text, "constraints: {space", "interface 'pxe' is placed by the rules of spec 3.1/3.2");
        assert_error_at(&f->d, text, "eth9}", "host interface 'eth9'");
        /* no Subnet lists an interface: the rules report pxe, and the renderer only the rest */
        fx_attach(f, NULL, 0, NULL);
        assert_int_equal(f->attach_d.n_errors, 1);
        /* only the masquerade interface, which its binding places */
        assert_int_equal(f->attach.n, 1);
        assert_int_equal(f->attach.v[0].target, PF_TARGET_USER);
        assert_string_equal(f->attach.v[0].source, "passt");
        assert_int_equal(f->attach.n_bootps, 1);
        pf_diag_free(&f->d);
        f->d = (pf_diags) { 0 };
        render_fails(f, "bad", 2);
        assert_error_at(&f->d, text, "{name: cidata}", "disk 'cidata'");
        assert_error_at(&f->d, text, "eth9}", "host interface 'eth9'");
        fx_free(f);
}

/* ---- interfaces the rules placed (spec 3.1, 3.2) and boot options (3.4) ---- */

#define POD_VM(name)                                                                          \
        HDR("VirtualMachine", name)                                                           \
        "spec:\n  domain: {devices: {interfaces: [{name: default, bridge: {}}]}}\n"          \
        "  networks: [{name: default, pod: {}}]\n"

static void test_placed_network(void **state) {
        (void) state;
        /* rule (a): the live maas network, without libvirt DHCP */
        static const char text[] = POD_VM("web1") "---\n" HDR("VirtualMachine", "imp") "spec: {running: false}\n";
        static const pf_net_fact nets[] = {
                { .name = "default", .active = true, .managed = true, .dhcp = true, .bridge = "virbr0" },
                { .name = "maas", .active = true, .managed = true, .bridge = "virbr1" },
        };
        fixture *f = fx_new(text, NULL, NULL);
        fx_attach_ok(f, nets, 2, NULL);
        assert_int_equal(f->attach.n, 2);
        assert_int_equal(f->attach.v[0].rule, PF_RULE_A);
        for (int k = 0; k < 2; k++) {
                xmlDocPtr doc = render_ok(f, k ? "imp" : "web1");
                assert_int_equal(xp_count(doc, "/domain/devices/interface"), 1);
                assert_xp(doc, "/domain/devices/interface/@type", "network");
                assert_xp(doc, "/domain/devices/interface/source/@network", "maas");
                assert_int_equal(xp_count(doc, "/domain/devices/interface/source/@*"), 1);
                assert_xp(doc, "/domain/devices/interface/model/@type", "virtio");
                /* the metadata records no address: none was given */
                assert_xp(doc, "/domain/metadata/podform:vm/podform:interface/@name", "default");
                assert_int_equal(xp_count(doc, "/domain/metadata/podform:vm/podform:interface/@ip"), 0);
                assert_xp(doc, "/domain/metadata/podform:vm/podform:interface/@mac",
                          xp_str(doc, "/domain/devices/interface/mac/@address"));
                xmlFreeDoc(doc);
        }
        fx_free(f);
}

static void test_placed_bridge(void **state) {
        (void) state;
        /* rule (c1): no maas or default network; a host bridge of a DHCP-enabled VLAN */
        static const char text[] =
                HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: managed, interfaces: [br-pxe]}\n---\n"
                HDR("Subnet", "lab") "spec: {cidr: 10.40.0.0/24, space: lab, interfaces: [br-lab]}\n---\n"
                POD_VM("web1") "---\n"
                HDR("VirtualMachine", "db")
                "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}, model: e1000}]}}\n"
                "  networks: [{name: lab, constraints: {space: lab, ip: 10.40.0.9}}]\n";
        static const link_fact links[] = { { "br-pxe", "bridge" }, { "br-lab", "bridge" }, { NULL, NULL } };
        fixture *f = fx_new(text, NULL, NULL);
        fx_attach_ok(f, NULL, 0, links);
        xmlDocPtr doc = render_ok(f, "web1");
        assert_xp(doc, "/domain/devices/interface/@type", "bridge");
        assert_xp(doc, "/domain/devices/interface/source/@bridge", "br-pxe");
        assert_int_equal(xp_count(doc, "/domain/devices/interface/source/@*"), 1);
        assert_int_equal(xp_count(doc, "/domain/metadata/podform:vm/podform:interface/@ip"), 0);
        xmlFreeDoc(doc);
        /* constraints: a bridge, and the address in the metadata */
        doc = render_ok(f, "db");
        assert_xp(doc, "/domain/devices/interface/@type", "bridge");
        assert_xp(doc, "/domain/devices/interface/source/@bridge", "br-lab");
        assert_xp(doc, "/domain/devices/interface/model/@type", "e1000");
        assert_xp(doc, "/domain/metadata/podform:vm/podform:interface[@name='lab']/@ip", "10.40.0.9");
        xmlFreeDoc(doc);
        fx_free(f);
}

static void test_placed_direct(void **state) {
        (void) state;
        /* rule (c2) in the Host's mode; constraints macvtaps in the Host's mode, in the
         * constraint's mode (passthru is libvirt's "passthrough"), and an IPv6 address */
        static const char text[] =
                HDR("Host", "kvm01") "spec: {defaultMacvlanMode: vepa}\n---\n"
                HDR("Subnet", "pxe") "spec: {cidr: 10.20.0.0/24, dhcp: relay, interfaces: [eno1]}\n---\n"
                HDR("Subnet", "storage") "spec: {cidr: 10.30.0.0/24, interfaces: [eno2]}\n---\n"
                HDR("Subnet", "st6") "spec: {cidr: \"fd00:30::/64\", interfaces: [eno2]}\n---\n"
                POD_VM("web1") "---\n"
                HDR("VirtualMachine", "db")
                "spec:\n  domain:\n    devices:\n      interfaces:\n"
                "        - {name: st, bridge: {}}\n        - {name: pt, bridge: {}}\n"
                "        - {name: mv, macvtap: {mode: private}}\n        - {name: v6, bridge: {}}\n"
                "  networks:\n"
                "    - {name: st, constraints: {subnet: storage, ip: 10.30.0.20}}\n"
                "    - {name: pt, constraints: {subnet: storage, mode: passthru}}\n"
                "    - {name: mv, constraints: {subnet: storage}}\n"
                "    - {name: v6, constraints: {ip: \"fd00:30::20\"}}\n";
        static const link_fact links[] = { { "eno1", "device" }, { "eno2", "device" }, { NULL, NULL } };
        fixture *f = fx_new(text, NULL, NULL);
        fx_attach_ok(f, NULL, 0, links);
        xmlDocPtr doc = render_ok(f, "web1");
        assert_xp(doc, "/domain/devices/interface/@type", "direct");
        assert_xp(doc, "/domain/devices/interface/source/@dev", "eno1");
        assert_xp(doc, "/domain/devices/interface/source/@mode", "vepa");
        xmlFreeDoc(doc);
        doc = render_ok(f, "db");
        assert_int_equal(xp_count(doc, "/domain/devices/interface[@type='direct']"), 4);
#define IF(n) "/domain/devices/interface[" #n "]"
        assert_xp(doc, IF(1) "/source/@dev", "eno2");
        assert_xp(doc, IF(1) "/source/@mode", "vepa");
        assert_xp(doc, IF(2) "/source/@dev", "eno2");
        assert_xp(doc, IF(2) "/source/@mode", "passthrough");
        assert_xp(doc, IF(3) "/source/@mode", "private");
        assert_xp(doc, IF(4) "/source/@dev", "eno2");
#undef IF
#define MD(name) "/domain/metadata/podform:vm/podform:interface[@name='" name "']"
        assert_xp(doc, MD("st") "/@ip", "10.30.0.20");
        assert_int_equal(xp_count(doc, MD("pt") "/@ip"), 0);
        assert_int_equal(xp_count(doc, MD("mv") "/@ip"), 0);
        assert_xp(doc, MD("v6") "/@ip", "fd00:30::20");
#undef MD
        xmlFreeDoc(doc);
        fx_free(f);
}

static void test_network_bootp(void **state) {
        (void) state;
        static const char text[] =
                HDR("Network", "lan")
                "spec:\n  forward: nat\n  ips:\n"
                "    - {address: \"fd00:10::1\", prefix: 64, dhcp: {ranges: [{start: \"fd00:10::100\", end: \"fd00:10::1ff\"}]}}\n"
                "    - {address: 192.168.10.1, prefix: 24, dhcp: {ranges: [{start: 192.168.10.100, end: 192.168.10.200}]}}\n---\n"
                HDR("Network", "lan2")
                "spec: {forward: route, bridge: {name: virbr12}, ips: [{address: 192.168.12.1, prefix: 24, dhcp: {}}]}\n---\n"
                HDR("Network", "own")
                "spec:\n  forward: nat\n  ips:\n    - address: 192.168.14.1\n      prefix: 24\n"
                "      dhcp: {bootp: {file: ipxe.efi, server: 192.168.14.2}}\n---\n"
                HDR("Network", "quiet") "spec: {forward: nat, ips: [{address: 192.168.16.1, prefix: 24, dhcp: {}}]}\n---\n"
                HDR("VirtualMachine", "a")
                "spec:\n  domain: {devices: {interfaces: [{name: lab, bridge: {}, bootFileName: pxelinux.0, tftpServerName: 192.168.10.1},"
                " {name: l2, bridge: {}, bootFileName: grub.efi}, {name: o, bridge: {}, bootFileName: ipxe.efi}]}}\n"
                "  networks: [{name: lab, network: lan}, {name: l2, network: lan2}, {name: o, network: own}]\n";
        fixture *f = fx_new(text, NULL, NULL);
        fx_attach_ok(f, NULL, 0, NULL);
        assert_int_equal(f->attach.n_bootps, 3);
        const pf_network *lan = net_named(f, "lan"), *lan2 = net_named(f, "lan2"), *own = net_named(f, "own");
        const pf_bootp *b = pf_attach_bootp(&f->attach, lan);
        assert_non_null(b);
        assert_int_equal(b->ip_index, 1);
        /* into the IPv4 <ip> with <dhcp>, after its ranges, not into the IPv6 one */
        xmlDocPtr doc = pf_render_network_bootp(lan, b);
        assert_schema_valid(doc, RNG_NETWORK);
        assert_xp(doc, "/network/ip[2]/@address", "192.168.10.1");
        assert_xp(doc, "/network/ip[2]/dhcp/bootp/@file", "pxelinux.0");
        assert_xp(doc, "/network/ip[2]/dhcp/bootp/@server", "192.168.10.1");
        assert_xp(doc, "name(/network/ip[2]/dhcp/*[last()])", "bootp");
        assert_xp(doc, "/network/ip[2]/dhcp/range/@start", "192.168.10.100");
        assert_int_equal(xp_count(doc, "//bootp"), 1);
        xmlFreeDoc(doc);
        /* without them, or without a result, the Network has none */
        doc = pf_render_network(lan);
        assert_int_equal(xp_count(doc, "//bootp"), 0);
        xmlFreeDoc(doc);
        doc = pf_render_network_bootp(lan, NULL);
        assert_schema_valid(doc, RNG_NETWORK);
        assert_int_equal(xp_count(doc, "//bootp"), 0);
        xmlFreeDoc(doc);
        /* no tftpServerName: no server */
        doc = pf_render_network_bootp(lan2, pf_attach_bootp(&f->attach, lan2));
        assert_schema_valid(doc, RNG_NETWORK);
        assert_xp(doc, "/network/ip/dhcp/bootp/@file", "grub.efi");
        assert_int_equal(xp_count(doc, "/network/ip/dhcp/bootp/@server"), 0);
        xmlFreeDoc(doc);
        /* the Network's own bootp, which the interface agrees with, stays as declared */
        b = pf_attach_bootp(&f->attach, own);
        assert_non_null(b);
        doc = pf_render_network_bootp(own, b);
        assert_schema_valid(doc, RNG_NETWORK);
        assert_xp(doc, "/network/ip/dhcp/bootp/@file", "ipxe.efi");
        assert_xp(doc, "/network/ip/dhcp/bootp/@server", "192.168.14.2");
        assert_int_equal(xp_count(doc, "//bootp"), 1);
        xmlFreeDoc(doc);
        /* whatever the interfaces ask, a Network's own bootp wins (the rules refuse a conflict) */
        pf_bootp other = { .network = own, .ip_index = 0, .file = "other.efi", .server = "192.168.14.9" };
        doc = pf_render_network_bootp(own, &other);
        assert_xp(doc, "/network/ip/dhcp/bootp/@file", "ipxe.efi");
        assert_xp(doc, "/network/ip/dhcp/bootp/@server", "192.168.14.2");
        xmlFreeDoc(doc);
        /* nobody asked quiet for any */
        assert_null(pf_attach_bootp(&f->attach, net_named(f, "quiet")));
        /* the domain itself carries none of it */
        doc = render_ok(f, "a");
        assert_int_equal(xp_count(doc, "/domain/devices/interface[@type='network']"), 3);
        char *xml = pf_xml_dump(doc);
        assert_null(strstr(xml, "pxelinux.0"));
        assert_null(strstr(xml, "grub.efi"));
        free(xml);
        xmlFreeDoc(doc);
        fx_free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_network_nat), cmocka_unit_test(test_network_modes),
                cmocka_unit_test(test_network_maas), cmocka_unit_test(test_pool_and_volumes),
                cmocka_unit_test(test_domain_interfaces), cmocka_unit_test(test_domain_devices),
                cmocka_unit_test(test_domain_boot_order), cmocka_unit_test(test_domain_examples),
                cmocka_unit_test(test_schema_rejects),
                cmocka_unit_test(test_mac_stable), cmocka_unit_test(test_mac_live), cmocka_unit_test(test_mac_macvtap),
                cmocka_unit_test(test_mac_collisions), cmocka_unit_test(test_mac_many),
                cmocka_unit_test(test_error_pod), cmocka_unit_test(test_error_misc),
                cmocka_unit_test(test_error_all_at_once),
                cmocka_unit_test(test_placed_network), cmocka_unit_test(test_placed_bridge),
                cmocka_unit_test(test_placed_direct), cmocka_unit_test(test_network_bootp),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
