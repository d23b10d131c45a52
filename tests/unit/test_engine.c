/* test_engine.c: plan and apply against libvirt's in-process test driver, for real: every check
 * reads the host back through the libvirt API. Linked with -Wl,--wrap for every mutating
 * libvirt call podform makes, so a test can count those calls and make the N-th one fail. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "run/exit.h"
#include "config/load.h"
#include "config/validate.h"
#include "kinds/kind.h"
#include "records/owner.h"
#include "libvirt/conn.h"
#include "run/reconcile.h"
#include "util/xalloc.h"

/* ---- fault injection ---- */

/* Apply makes the calls from several threads at once (engine/apply.h): the count is atomic,
 * and exactly one call is the N-th. */
static _Atomic unsigned long mutating_calls;    /* since the last reset */
static unsigned long fail_at;                   /* 0: never; N: the N-th mutating call fails */

static const char *_Atomic failed_call;         /* the function that was made to fail */

static bool fault(const char *name) {
        if (++mutating_calls != fail_at)
                return false;
        failed_call = name;
        return true;
}

#define WRAP(ret, fail, name, params, args) \
        ret __real_##name params;            \
        ret __wrap_##name params;            \
        ret __wrap_##name params { return fault(#name) ? fail : __real_##name args; }

WRAP(virStoragePoolPtr, NULL, virStoragePoolDefineXML, (virConnectPtr c, const char *x, unsigned f), (c, x, f))
WRAP(int, -1, virStoragePoolBuild, (virStoragePoolPtr p, unsigned f), (p, f))
WRAP(int, -1, virStoragePoolCreate, (virStoragePoolPtr p, unsigned f), (p, f))
WRAP(int, -1, virStoragePoolSetAutostart, (virStoragePoolPtr p, int a), (p, a))
WRAP(int, -1, virStoragePoolDestroy, (virStoragePoolPtr p), (p))
WRAP(int, -1, virStoragePoolUndefine, (virStoragePoolPtr p), (p))
/* Also made to fail for one volume by name (fail_volume: "<name>NAME</name>"), whichever call
 * it is: which call is the N-th depends on how the workers interleave. */
static const char *fail_volume;
virStorageVolPtr __real_virStorageVolCreateXML(virStoragePoolPtr p, const char *x, unsigned f);
virStorageVolPtr __wrap_virStorageVolCreateXML(virStoragePoolPtr p, const char *x, unsigned f);
virStorageVolPtr __wrap_virStorageVolCreateXML(virStoragePoolPtr p, const char *x, unsigned f) {
        bool by_name = fail_volume && strstr(x, fail_volume);
        return fault("virStorageVolCreateXML") || by_name ? NULL : __real_virStorageVolCreateXML(p, x, f);
}
WRAP(int, -1, virStorageVolResize, (virStorageVolPtr v, unsigned long long c, unsigned f), (v, c, f))
WRAP(int, -1, virStorageVolDelete, (virStorageVolPtr v, unsigned f), (v, f))
WRAP(virNetworkPtr, NULL, virNetworkDefineXML, (virConnectPtr c, const char *x), (c, x))
WRAP(int, -1, virNetworkCreate, (virNetworkPtr n), (n))
WRAP(int, -1, virNetworkSetAutostart, (virNetworkPtr n, int a), (n, a))
WRAP(int, -1, virNetworkDestroy, (virNetworkPtr n), (n))
WRAP(int, -1, virNetworkUndefine, (virNetworkPtr n), (n))
WRAP(int, -1, virNetworkUpdate, (virNetworkPtr n, unsigned c, unsigned s, int i, const char *x, unsigned f), (n, c, s, i, x, f))
WRAP(virDomainPtr, NULL, virDomainDefineXML, (virConnectPtr c, const char *x), (c, x))
WRAP(int, -1, virDomainCreate, (virDomainPtr d), (d))
WRAP(int, -1, virDomainSetAutostart, (virDomainPtr d, int a), (d, a))
WRAP(int, -1, virDomainShutdown, (virDomainPtr d), (d))
WRAP(int, -1, virDomainDestroy, (virDomainPtr d), (d))
WRAP(int, -1, virDomainUndefine, (virDomainPtr d), (d))
WRAP(int, -1, virDomainUndefineFlags, (virDomainPtr d, unsigned f), (d, f))
WRAP(int, -1, virDomainAttachDeviceFlags, (virDomainPtr d, const char *x, unsigned f), (d, x, f))
WRAP(int, -1, virDomainDetachDeviceFlags, (virDomainPtr d, const char *x, unsigned f), (d, x, f))
WRAP(int, -1, virDomainUpdateDeviceFlags, (virDomainPtr d, const char *x, unsigned f), (d, x, f))
WRAP(int, -1, virDomainSetMetadata, (virDomainPtr d, int t, const char *m, const char *k, const char *u, unsigned f),
     (d, t, m, k, u, f))
WRAP(int, -1, virDomainBlockResize, (virDomainPtr d, const char *disk, unsigned long long size, unsigned f), (d, disk, size, f))

/* The test driver has no domain capabilities: a test hands out the host's answer. */
static const char *fake_domcaps;        /* NULL: the driver's own answer; "": refused (no kvm) */
static unsigned long domcaps_calls;
char *__real_virConnectGetDomainCapabilities(virConnectPtr c, const char *emu, const char *arch, const char *machine,
                                             const char *virttype, unsigned f);
char *__wrap_virConnectGetDomainCapabilities(virConnectPtr c, const char *emu, const char *arch, const char *machine,
                                             const char *virttype, unsigned f);
char *__wrap_virConnectGetDomainCapabilities(virConnectPtr c, const char *emu, const char *arch, const char *machine,
                                             const char *virttype, unsigned f) {
        domcaps_calls++;
        if (!fake_domcaps)
                return __real_virConnectGetDomainCapabilities(c, emu, arch, machine, virttype, f);
        virResetLastError();
        return *fake_domcaps ? strdup(fake_domcaps) : NULL;
}

/* ---- harness ---- */

static pf_nl_host *private_links;       /* set: the links of a namespace of the test's own */

/* The links of the test's own network namespace: observed, never changed (no test here
 * declares one outside a namespace of its own; tests/unit/test_links.c and
 * tests/integration/links.sh do). */
static pf_nl_host *test_links(void) {
        static pf_nl_host *links;
        char *err = NULL;
        if (private_links)
                return private_links;
        if (!links && !(links = pf_nl_open(NULL, false, &err)))
                fail_msg("%s", err);
        return links;
}

static bool write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool ok = write(fd, text, strlen(text)) == (ssize_t) strlen(text);
        return close(fd) == 0 && ok;
}

/* A fresh network namespace (only `lo`) for a test whose constraints need a host bridge:
 * the test declares a Bridge, and apply creates it there, never on the build host. Root
 * makes one; anyone else through a user namespace of their own. Skips the test when neither
 * can; leave_private_netns() closes the netlink host (the process stays in the namespace,
 * which the next test's own replaces; the other tests observe the first one's socket). */
static void enter_private_netns(void) {
        test_links();   /* opened first in the build's namespace, for the other tests */
        if (geteuid() != 0) {
                char map[64];
                uid_t uid = geteuid();
                gid_t gid = getegid();
                if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
                        print_message("[  SKIP    ] no user and network namespace: %s\n", strerror(errno));
                        skip();
                }
                snprintf(map, sizeof(map), "0 %u 1\n", (unsigned) uid);
                bool ok = write_file("/proc/self/setgroups", "deny") && write_file("/proc/self/uid_map", map);
                snprintf(map, sizeof(map), "0 %u 1\n", (unsigned) gid);
                if (!ok || !write_file("/proc/self/gid_map", map))
                        fail_msg("cannot map the user namespace: %s", strerror(errno));
        } else if (unshare(CLONE_NEWNET) < 0) {
                print_message("[  SKIP    ] no network namespace: unshare(CLONE_NEWNET): %s\n", strerror(errno));
                skip();
        }
        char *err = NULL;
        if (!(private_links = pf_nl_open(NULL, false, &err)))
                fail_msg("%s", err);
}

static int leave_private_netns(void **state) {
        (void) state;
        pf_nl_close(private_links);
        private_links = NULL;
        return 0;
}

static const char *host_uri(const char *file) {
        static char uri[1024];
        snprintf(uri, sizeof(uri), "test://%s/tests/data/hosts/%s", SRCDIR, file);
        return uri;
}

static pf_lv_host *open_host(const char *file) {
        pf_lv_opts lo = { .shutdown_timeout = 1 };
        char *err = NULL;
        pf_lv_host *h = pf_lv_open(host_uri(file), NULL, &lo, &err);
        if (!h)
                fail_msg("%s", err);
        return h;
}

typedef struct run_result {
        int code;
        char *out;              /* plan and results */
        char *err;              /* diagnostics */
        unsigned long calls;    /* mutating libvirt calls */
} run_result;

static void run_result_free(run_result *r) {
        free(r->out);
        free(r->err);
}

/* Replace one resource of the example: the example files, minus `skip`, plus `yaml`. */
static bool verbose;     /* the next run is `plan -v` or `apply -v` (run_v) */
static unsigned parallel;       /* --parallel of the next run (0: the default) */

static run_result run_variant(pf_lv_host *h, bool apply, const char *skip_kind, const char *skip_name, const char *yaml,
                              bool prune) {
        pf_config c;
        pf_config_init(&c);
        if (!yaml || strncmp(yaml, "#only", 5) != 0) {
                pf_config_load_path(&c, SRCDIR "/examples/maas-network.yaml");
                pf_config_load_path(&c, SRCDIR "/examples/libvirt-host");
        }
        /* drop the replaced resource from the loaded model */
        if (skip_kind && !strcmp(skip_kind, "Network")) {
                for (size_t i = 0; i < c.model.networks.n; i++)
                        if (!strcmp(c.model.networks.v[i].meta.name, skip_name))
                                c.model.networks.v[i] = c.model.networks.v[--c.model.networks.n];
        } else if (skip_kind && !strcmp(skip_kind, "VirtualMachine")) {
                for (size_t i = 0; i < c.model.vms.n; i++)
                        if (!strcmp(c.model.vms.v[i].meta.name, skip_name))
                                c.model.vms.v[i] = c.model.vms.v[--c.model.vms.n];
        }
        if (yaml)
                pf_config_load_buffer(&c, "extra.yaml", yaml, strlen(yaml));
        pf_run_check(&c);
        if (c.diags.n_errors) {
                pf_diag_print(&c.diags, stderr, false);
                fail_msg("test configuration is invalid");
        }
        run_result r = { 0 };
        size_t out_len, err_len;
        FILE *out = open_memstream(&r.out, &out_len), *err = open_memstream(&r.err, &err_len);
        pf_run_opts o = { .apply = apply, .prune = prune, .yes = true, .detailed_exitcode = true, .verbose = verbose,
                          .parallel = parallel, .host_name = pf_scope_host(&c, NULL), .out = out, .err = err };
        unsigned long before = pf_lv_mutations(h);
        r.code = pf_reconcile(&c, h, test_links(), &o);
        r.calls = pf_lv_mutations(h) - before;
        fclose(out);
        fclose(err);
        pf_config_free(&c);
        return r;
}

/* One plan or apply of the example, with `yaml` appended as an extra file when given ("#only"
 * at its start: instead of the example). */
static run_result run(pf_lv_host *h, bool apply, const char *yaml, bool prune) {
        return run_variant(h, apply, NULL, NULL, yaml, prune);
}

/* As run and run_variant, with -v: the plan lists every field. */
static run_result run_variant_v(pf_lv_host *h, bool apply, const char *skip_kind, const char *skip_name,
                                const char *yaml, bool prune) {
        verbose = true;
        run_result r = run_variant(h, apply, skip_kind, skip_name, yaml, prune);
        verbose = false;
        return r;
}

static run_result run_v(pf_lv_host *h, bool apply, const char *yaml, bool prune) {
        return run_variant_v(h, apply, NULL, NULL, yaml, prune);
}

static void expect_contains(const char *text, const char *needle) {
        if (!strstr(text, needle))
                fail_msg("expected \"%s\" in:\n%s", needle, text);
}

static void expect_clean(pf_lv_host *h) {
        run_result r = run(h, false, NULL, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("plan after apply is not empty (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "No changes");
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
}

static void expect_clean_with(pf_lv_host *h, const char *yaml) {
        run_result r = run(h, false, yaml, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("plan after apply is not empty (exit %d):\n%s%s", r.code, r.out, r.err);
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
}

static void apply_ok(pf_lv_host *h, const char *yaml, bool prune) {
        run_result r = run(h, true, yaml, prune);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply failed (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        run_result_free(&r);
}

/* ---- tests ---- */

static void test_apply_then_nothing(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        run_result r = run(h, true, NULL, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_int_equal(r.calls, 0);
        expect_contains(r.out, "No changes: the host matches the configuration.");
        expect_contains(r.out, "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions.");
        run_result_free(&r);
        pf_lv_close(h);
}


static char *net_xml(pf_lv_host *h, const char *name) {
        virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), name);
        if (!n)
                return NULL;
        char *x = virNetworkGetXMLDesc(n, 0);
        virNetworkFree(n);
        return x;
}

static char *dom_xml(pf_lv_host *h, const char *name) {
        virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), name);
        if (!d)
                return NULL;
        char *x = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
        virDomainFree(d);
        return x;
}

static int dom_active(pf_lv_host *h, const char *name) {
        virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), name);
        if (!d)
                return -1;
        int a = virDomainIsActive(d);
        virDomainFree(d);
        return a;
}

static bool volume_exists(pf_lv_host *h, const char *pool, const char *vol, unsigned long long *capacity) {
        virStoragePoolPtr p = virStoragePoolLookupByName(pf_lv_conn(h), pool);
        virStorageVolPtr v = p ? virStorageVolLookupByName(p, vol) : NULL;
        virStorageVolInfo info;
        if (v && capacity && virStorageVolGetInfo(v, &info) == 0)
                *capacity = info.capacity;
        bool ok = v != NULL;
        if (v)
                virStorageVolFree(v);
        if (p)
                virStoragePoolFree(p);
        return ok;
}

/* The example lands as declared: checked object by object through the API. */
static void test_apply_example(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run(h, true, NULL, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        expect_contains(r.out, "+ network maas\n");
        expect_contains(r.out, "Plan: 8 to create, 0 to change, 0 to delete.");
        run_result_free(&r);

        _cleanup_free_ char *maas = net_xml(h, "maas");
        assert_non_null(maas);
        expect_contains(maas, "<forward mode='nat'");
        expect_contains(maas, "<bridge name='virbr1' stp='off' delay='0'/>");
        assert_null(strstr(maas, "<dhcp>"));
        virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), "maas");
        int autostart = 0;
        assert_int_equal(virNetworkIsActive(n), 1);
        assert_int_equal(virNetworkGetAutostart(n, &autostart), 0);
        assert_int_equal(autostart, 1);
        virNetworkFree(n);
        _cleanup_free_ char *lab = net_xml(h, "lab");
        expect_contains(lab, "<host mac='52:54:00:77:00:10' name='db2' ip='10.77.0.10'/>");

        unsigned long long cap = 0;
        assert_true(volume_exists(h, "vms", "pxe1-root", &cap));
        assert_int_equal(cap, 8ULL << 30);
        assert_true(volume_exists(h, "vms", "db2-data", &cap));
        assert_int_equal(cap, 32000000000ULL == cap ? cap : 32ULL << 30);

        _cleanup_free_ char *pxe1 = dom_xml(h, "pxe1");
        expect_contains(pxe1, "<podform:vm xmlns:podform=\"https://podform.dev/xmlns/1\"");
        expect_contains(pxe1, "<memory unit='KiB'>524288</memory>");
        expect_contains(pxe1, "<source network='maas'/>");
        expect_contains(pxe1, "<mac address='52:54:00:");
        expect_contains(pxe1, "<boot dev='network'/>");
        assert_int_equal(dom_active(h, "pxe1"), 1);
        virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), "db2");
        assert_int_equal(virDomainGetAutostart(d, &autostart), 0);
        assert_int_equal(autostart, 1);
        virDomainFree(d);
        expect_clean(h);
        pf_lv_close(h);
}

/* The derived MAC of a NIC is the same on every host build and every run. */
static void test_stable_mac(void **state) {
        (void) state;
        char *first = NULL;
        for (int i = 0; i < 2; i++) {
                pf_lv_host *h = open_host("kvm01.xml");
                apply_ok(h, NULL, false);
                char *x = dom_xml(h, "pxe1");
                char *mac = strstr(x, "<mac address='");
                assert_non_null(mac);
                mac[strlen("<mac address='") + 17] = '\0';
                if (!first)
                        first = strdup(mac);
                else
                        assert_string_equal(first, mac);
                free(x);
                pf_lv_close(h);
        }
        free(first);
}

static const char web1_bigger[] =
        "#only\n"
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: pxe1}\nspec:\n"
        "  domain:\n    type: qemu\n    cpu: {cores: 2}\n    memory: 1Gi\n"
        "    devices:\n      disks: [{name: root, size: 8Gi, format: qcow2, pool: vms}]\n"
        "      interfaces: [{name: pxe, bridge: {}}]\n"
        "  networks: [{name: pxe, network: maas}]\n";

/* A memory change on a running VM goes to the persistent definition, marked !, and the VM keeps
 * running: podform never restarts it unasked. */
static void test_change_needs_restart(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        /* the example minus pxe1, plus the changed pxe1 */
        char yaml[4096];
        snprintf(yaml, sizeof(yaml), "%s", web1_bigger);
        run_result r = run(h, false, NULL, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        run_result_free(&r);

        r = run(h, false, yaml, false);
        /* only pxe1 declared now: the rest is owned and undeclared, listed as orphans */
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "! vm pxe1 (restart)  memory 512 MiB -> 1 GiB\n");
        expect_contains(r.out, "Notices:\n  vm db2 is podform's but no longer declared; --prune deletes it\n");
        expect_contains(r.out, "network maas is podform's but no longer declared; --prune deletes it");
        run_result_free(&r);
        r = run(h, true, yaml, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        run_result_free(&r);
        _cleanup_free_ char *x = dom_xml(h, "pxe1");
        expect_contains(x, "<memory unit='KiB'>1048576</memory>");
        assert_int_equal(dom_active(h, "pxe1"), 1);
        r = run(h, true, yaml, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
        pf_lv_close(h);
}

static const char lab_edit[] =
        "apiVersion: podform/v1\nkind: Network\nmetadata: {name: lab}\nspec:\n"
        "  forward: none\n  bridge: {name: virbr-lab}\n  domain: lab.example\n"
        "  ips:\n    - address: 10.77.0.1\n      prefix: 24\n      dhcp:\n"
        "        ranges: [{start: 10.77.0.100, end: 10.77.0.150}]\n"
        "        hosts: [{mac: \"52:54:00:77:00:10\", ip: 10.77.0.11, name: db2},\n"
        "                {mac: \"52:54:00:77:00:20\", ip: 10.77.0.20}]\n";

static char *net_uuid(pf_lv_host *h, const char *name) {
        virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), name);
        char *u = calloc(1, VIR_UUID_STRING_BUFLEN);
        if (n)
                virNetworkGetUUIDString(n, u);
        if (n)
                virNetworkFree(n);
        return u;
}

/* DHCP hosts and ranges change in place (virNetworkUpdate): the network is not recreated. */
static void test_dhcp_edit_is_live(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        _cleanup_free_ char *uuid = net_uuid(h, "lab");
        run_result r = run_variant_v(h, false, "Network", "lab", lab_edit, false);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "~ network lab (live)\n");
        expect_contains(r.out, "    ip[10.77.0.1].dhcp.host[52:54:00:77:00:10]: ip=10.77.0.10 name=db2 -> ip=10.77.0.11 name=db2  [live]\n");
        expect_contains(r.out, "    ip[10.77.0.1].dhcp.host[52:54:00:77:00:20]: (none) -> ip=10.77.0.20  [live]\n");
        expect_contains(r.out, "    ip[10.77.0.1].dhcp.range[10.77.0.100]: 10.77.0.199 -> 10.77.0.150  [live]\n");
        assert_null(strstr(r.out, "!"));
        run_result_free(&r);
        r = run_variant(h, true, "Network", "lab", lab_edit, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        /* old entries out first, then the new in: host db2 and the range are replaced (2 + 2),
         * the new host added (1) */
        assert_int_equal(r.calls, 5);
        run_result_free(&r);
        _cleanup_free_ char *uuid2 = net_uuid(h, "lab");
        assert_string_equal(uuid, uuid2);
        _cleanup_free_ char *x = net_xml(h, "lab");
        expect_contains(x, "ip='10.77.0.11'");
        expect_contains(x, "<host mac='52:54:00:77:00:20' ip='10.77.0.20'/>");
        expect_contains(x, "end='10.77.0.150'");
        pf_lv_close(h);
}

static const char maas_routed[] =
        "apiVersion: podform/v1\nkind: Network\nmetadata: {name: maas}\nspec:\n"
        "  forward: route\n  bridge: {name: virbr1, stp: false, forwardDelay: 0}\n  domain: testnet\n"
        "  ips: [{address: 172.16.99.1, prefix: 24}]\n";

/* A structural change redefines and restarts the network, marked ! because guests lose their
 * link; the network keeps its UUID. */
static void test_structural_change_recreates(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        _cleanup_free_ char *uuid = net_uuid(h, "maas");
        run_result r = run_variant_v(h, false, "Network", "maas", maas_routed, false);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "! network maas (recreate)\n");
        expect_contains(r.out, "    forward: nat -> route  [recreate]\n");
        expect_contains(r.out, "    nat.ports: 1024-65535 -> (none)  [recreate]\n");
        run_result_free(&r);
        r = run_variant(h, true, "Network", "maas", maas_routed, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("exit %d:\n%s%s", r.code, r.out, r.err);
        run_result_free(&r);
        _cleanup_free_ char *x = net_xml(h, "maas");
        expect_contains(x, "<forward mode='route'/>");
        _cleanup_free_ char *uuid2 = net_uuid(h, "maas");
        assert_string_equal(uuid, uuid2);
        virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), "maas");
        assert_int_equal(virNetworkIsActive(n), 1);
        virNetworkFree(n);
        pf_lv_close(h);
}

/* Drift: a network deleted by hand shows in the plan and comes back. */
static void test_deleted_by_hand_comes_back(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), "maas");
        assert_int_equal(virNetworkDestroy(n), 0);
        assert_int_equal(virNetworkUndefine(n), 0);
        virNetworkFree(n);
        run_result r = run(h, false, NULL, false);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "+ network maas\nPlan: 1 to create, 0 to change, 0 to delete.\n");
        run_result_free(&r);
        apply_ok(h, NULL, false);
        _cleanup_free_ char *x = net_xml(h, "maas");
        assert_non_null(x);
        expect_clean(h);
        pf_lv_close(h);
}

/* Prune deletes what podform created and the configuration dropped (the VM and its volume),
 * and nothing else: the hand-made network and VM are left exactly as they were. */
static void test_prune_leaves_foreign_alone(void **state) {
        (void) state;
        pf_lv_host *h = open_host("foreign.xml");
        _cleanup_free_ char *net_before = net_xml(h, "handmade"), *dom_before = dom_xml(h, "handmade-vm");
        apply_ok(h, NULL, true);
        run_result r = run_variant(h, false, "VirtualMachine", "pxe1", NULL, true);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "! vm pxe1 (running: it is stopped first)\n");
        expect_contains(r.out, "- volume vms/pxe1-root (capacity 8 GiB)\n");
        expect_contains(r.out, "Plan: 0 to create, 0 to change, 2 to delete;");
        assert_null(strstr(r.out, "handmade"));
        run_result_free(&r);
        r = run_variant(h, true, "VirtualMachine", "pxe1", NULL, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        run_result_free(&r);
        assert_int_equal(dom_active(h, "pxe1"), -1);
        assert_false(volume_exists(h, "vms", "pxe1-root", NULL));
        assert_true(volume_exists(h, "vms", "db2-root", NULL));
        _cleanup_free_ char *net_after = net_xml(h, "handmade"), *dom_after = dom_xml(h, "handmade-vm");
        assert_string_equal(net_before, net_after);
        assert_string_equal(dom_before, dom_after);
        assert_int_equal(dom_active(h, "handmade-vm"), 1);
        pf_lv_close(h);
}

static const char web1_shrunk[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: pxe1}\nspec:\n"
        "  domain:\n    type: qemu\n    cpu: {cores: 2}\n    memory: 512Mi\n"
        "    devices:\n      disks: [{name: root, size: 4Gi, format: qcow2}]\n"
        "      interfaces: [{name: pxe, bridge: {}}]\n"
        "  networks: [{name: pxe, network: maas}]\n";

/* Shrinking a volume is refused at plan time, at the size's position, and nothing is changed. */
static void test_shrink_refused(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        run_result r = run_variant(h, true, "VirtualMachine", "pxe1", web1_shrunk, false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "extra.yaml:10:34: error: volume vms/pxe1-root would shrink from 8589934592 to 4294967296 bytes;");
        expect_contains(r.err, "podform: 1 error; nothing was changed");
        run_result_free(&r);
        pf_lv_close(h);
}

static const char huge_vm[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: huge}\nspec:\n"
        "  domain:\n    type: qemu\n    cpu: {cores: 40}\n    memory: 1Gi\n"
        "    devices:\n      interfaces: [{name: pxe, bridge: {}}]\n"
        "  networks: [{name: pxe, network: maas}]\n";

/* Capacity (podform.yaml(5), Capacity): 16 CPUs x 2.0 = 32 vCPUs; pxe1 and db2 use 3. */
static void test_capacity_refused(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run_variant(h, true, NULL, NULL, huge_vm, false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "extra.yaml:3:18: error: VM huge does not fit: its 40 vCPUs would bring running VMs to 43 vCPUs, "
                               "over the host's 16 CPUs x overcommit cpu 2 = 32;");
        run_result_free(&r);
        pf_lv_close(h);
}

static const char web1_stopped[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: pxe1}\nspec:\n  running: false\n"
        "  domain:\n    type: qemu\n    cpu: {cores: 2}\n    memory: 512Mi\n"
        "    devices:\n      disks: [{name: root, size: 8Gi, format: qcow2}]\n"
        "      interfaces: [{name: pxe, bridge: {}}]\n"
        "  networks: [{name: pxe, network: maas}]\n";

static void test_running_false_shuts_down(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        run_result r = run_variant_v(h, true, "VirtualMachine", "pxe1", web1_stopped, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        expect_contains(r.out, "! vm pxe1 (live, stops it)\n    running: yes -> no  [live]\n");
        run_result_free(&r);
        assert_int_equal(dom_active(h, "pxe1"), 0);
        pf_lv_close(h);
}

/* test:///default: libvirt's own test host, whose network `default` has libvirt DHCP on. */
static pf_lv_host *open_uri(const char *uri) {
        pf_lv_opts lo = { .shutdown_timeout = 1 };
        char *err = NULL;
        pf_lv_host *h = pf_lv_open(uri, NULL, &lo, &err);
        if (!h)
                fail_msg("%s", err);
        return h;
}

static bool net_exists(pf_lv_host *h, const char *name) {
        virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), name);
        if (n)
                virNetworkFree(n);
        return n != NULL;
}

/* A VM with only the implicit `default` interface on the pod network (podform.yaml(5)). Stopped:
 * test:///default's running domain `test` already takes more memory than the host has. */
static const char pod_vm[] =
        "#only\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: podvm}\nspec:\n"
        "  running: false\n  domain: {type: qemu, memory: 128Mi}\n";

/* No `maas` network and a `default` one with libvirt DHCP, no Subnets: nothing qualifies for
 * the pod network. A plan error that names every candidate and why, and nothing changed. */
static void test_pod_network_is_a_plan_error(void **state) {
        (void) state;
        pf_lv_host *h = open_uri("test:///default");
        _cleanup_free_ char *default_before = net_xml(h, "default");
        assert_non_null(default_before);
        run_result r = run_variant(h, true, NULL, NULL, pod_vm, false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "extra.yaml:4:18: error: no target for the pod network of interface 'default' (see podform.yaml(5), RESOLUTION, The pod network): "
                               "no libvirt network maas or default qualifies (a, b), and no host bridge or NIC is on a "
                               "DHCP-enabled VLAN (c):\n");
        expect_contains(r.err, "  - libvirt network 'maas': (a) no such libvirt network on the host, and none is declared\n");
        expect_contains(r.err, "  - libvirt network 'default': (a) its libvirt DHCP is on (an <ip> with <dhcp>), which "
                               "breaks PXE from MAAS\n");
        expect_contains(r.err, "podform: 1 error; nothing was changed");
        assert_null(strstr(r.out, "Applying"));
        run_result_free(&r);
        assert_int_equal(dom_active(h, "podvm"), -1);
        assert_false(net_exists(h, "maas"));
        _cleanup_free_ char *default_after = net_xml(h, "default");
        assert_string_equal(default_before, default_after);
        pf_lv_close(h);
}

static const char pod_vm_maas[] =
        "#only\napiVersion: podform/v1\nkind: Network\nmetadata: {name: maas}\nspec:\n"
        "  forward: nat\n  bridge: {name: virbr1, stp: false, forwardDelay: 0}\n"
        "  ips: [{address: 172.16.99.1, prefix: 24}]\n---\n"
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: podvm}\nspec:\n"
        "  running: false\n  domain: {type: qemu, memory: 128Mi}\n";

/* Rule (a): a declared Network `maas` without DHCP (planned for creation) is the pod network,
 * ahead of `default` and its libvirt DHCP. */
static void test_pod_network_on_declared_maas(void **state) {
        (void) state;
        pf_lv_host *h = open_uri("test:///default");
        run_result r = run_variant(h, false, NULL, NULL, pod_vm_maas, false);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        assert_int_equal(r.calls, 0);
        expect_contains(r.out, "Attachments (see podform.yaml(5), RESOLUTION):\n"
                               "  vm podvm interface default: network maas  [pod network, rules a, b]\n"
                               "      why: libvirt network 'maas' (declared): it exists and its libvirt DHCP is off (a), and libvirt manages it (b)\n");
        expect_contains(r.out, "+ network maas\n");
        expect_contains(r.out, "+ vm podvm\n");
        expect_contains(r.out, "Plan: 2 to create, 0 to change, 0 to delete.");
        run_result_free(&r);
        r = run_variant(h, true, NULL, NULL, pod_vm_maas, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply failed (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        run_result_free(&r);
        _cleanup_free_ char *maas = net_xml(h, "maas");
        assert_non_null(maas);
        assert_null(strstr(maas, "<dhcp>"));
        _cleanup_free_ char *x = dom_xml(h, "podvm");
        assert_non_null(x);
        expect_contains(x, "<interface type='network'>");
        expect_contains(x, "<source network='maas'/>");
        assert_null(strstr(x, "network='default'"));
        assert_int_equal(dom_active(h, "podvm"), 0);
        r = run_variant(h, true, NULL, NULL, pod_vm_maas, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_int_equal(r.calls, 0);
        expect_contains(r.out, "No changes: the host matches the configuration.");
        expect_contains(r.out, "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions.");
        run_result_free(&r);
        pf_lv_close(h);
}

static const char dangling[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: lost}\nspec:\n"
        "  domain:\n    type: qemu\n    memory: 512Mi\n"
        "    devices:\n      disks: [{name: root, size: 1Gi, pool: nowhere}]\n"
        "      interfaces: [{name: a, bridge: {}}]\n"
        "  networks: [{name: a, network: nosuchnet}]\n";

/* References that resolve neither to the configuration nor to the host are plan errors. */
static void test_dangling_references(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run_variant(h, true, NULL, NULL, dangling, false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "extra.yaml:9:45: error: storage pool 'nowhere' is neither declared nor defined in libvirt");
        expect_contains(r.err, "extra.yaml:11:33: error: network 'nosuchnet' is neither declared nor defined in libvirt");
        run_result_free(&r);
        pf_lv_close(h);
}

/* A misspelt reference gets a "did you mean" from the names declared (maas, vms, br-lab) and,
 * below, from those live on the host. */
static const char near_misses[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: typo}\nspec:\n"
        "  domain:\n    type: qemu\n    memory: 512Mi\n"
        "    devices:\n      disks: [{name: root, size: 1Gi, pool: vmss}]\n"
        "      interfaces: [{name: a, bridge: {}}, {name: b, bridge: {}}]\n"
        "  networks: [{name: a, network: maaas}, {name: b, host: {interface: br-lb}}]\n"
        "---\napiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br-lab}\nspec: {}\n";

static void test_near_miss_references(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run(h, false, near_misses, false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        expect_contains(r.err, "extra.yaml:9:45: error: storage pool 'vmss' is neither declared nor defined in libvirt on "
                               "this host; declare a StoragePool of that name, or name an existing one; did you mean "
                               "\"vms\"?\n");
        expect_contains(r.err, "extra.yaml:11:33: error: network 'maaas' is neither declared nor defined in libvirt on this "
                               "host; declare a Network of that name, or name an existing one; did you mean \"maas\"?\n");
        expect_contains(r.err, "extra.yaml:11:69: error: network 'b' attaches to host link 'br-lb', which is neither on this "
                               "host nor declared as a Bridge, Macvtap, Macvlan or Vxlan; create the link, declare it, or "
                               "fix the name; did you mean \"br-lab\"?\n");
        run_result_free(&r);
        /* live only: the example applied, then a configuration that declares none of it */
        r = run(h, true, NULL, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        run_result_free(&r);
        r = run(h, false, "#only\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: typo}\nspec:\n"
                          "  domain: {type: qemu, memory: 512Mi, devices: {disks: [{name: root, size: 1Gi, pool: vmz}],\n"
                          "    interfaces: [{name: a, bridge: {}}]}}\n  networks: [{name: a, network: labb}]\n", false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        expect_contains(r.err, "extra.yaml:6:87: error: storage pool 'vmz' is neither declared nor defined in libvirt on "
                               "this host; declare a StoragePool of that name, or name an existing one; did you mean "
                               "\"vms\"?\n");
        expect_contains(r.err, "extra.yaml:8:33: error: network 'labb' is neither declared nor defined in libvirt on this "
                               "host; declare a Network of that name, or name an existing one; did you mean \"lab\"?\n");
        run_result_free(&r);
        pf_lv_close(h);
}

static const char adopt_handmade[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: handmade-vm}\nspec:\n"
        "  domain:\n    type: qemu\n    memory: 1Gi\n"
        "    devices:\n      interfaces: [{name: nic, bridge: {}, macAddress: \"52:54:00:09:09:09\"}]\n"
        "  networks: [{name: nic, network: handmade}]\n";

/* A declared VM podform did not create is managed on its declared fields, matched NIC by MAC,
 * and stays someone else's: dropped from the configuration, prune leaves it alone. */
static void test_adopted_vm_is_never_pruned(void **state) {
        (void) state;
        pf_lv_host *h = open_host("foreign.xml");
        run_result r = run_variant(h, false, NULL, NULL, adopt_handmade, false);
        expect_contains(r.out, "! vm handmade-vm (restart; not created by podform: only declared fields are managed)  ");
        /* the NIC is the same NIC (same MAC): no hot-plug of a second one */
        assert_null(strstr(r.out, "+iface nic"));
        run_result_free(&r);
        r = run_variant(h, true, NULL, NULL, adopt_handmade, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        run_result_free(&r);
        _cleanup_free_ char *x = dom_xml(h, "handmade-vm");
        expect_contains(x, "<memory unit='KiB'>1048576</memory>");
        assert_null(strstr(x, "podform.dev"));
        /* what podform does not manage is kept */
        expect_contains(x, "<title>made by hand</title>");
        expect_contains(x, "<on_reboot>destroy</on_reboot>");
        expect_contains(x, "<source file='/srv/iso/install.iso'/>");
        expect_contains(x, "<uuid>4b3f0a4e-1d1c-4c4e-9d6a-2f5b2f0c0a02</uuid>");
        r = run_variant(h, true, NULL, NULL, NULL, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_null(strstr(r.out, "handmade"));
        run_result_free(&r);
        assert_int_equal(dom_active(h, "handmade-vm"), 1);
        pf_lv_close(h);
}

static const char db2_one_disk_stopped[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: db2}\nspec:\n  running: false\n"
        "  domain:\n    type: qemu\n    memory: 1Gi\n    boot: [hd]\n"
        "    devices:\n      disks: [{name: root, size: 16Gi}]\n"
        "      interfaces: [{name: lab, bridge: {}, macAddress: \"52:54:00:77:00:10\"}]\n"
        "  networks: [{name: lab, network: lab}]\n";

/* A disk removed from a VM leaves a volume podform still knows as its own (the ownership
 * record), so it stays listed, and prune deletes it once the VM no longer runs with it. */
static void test_removed_disk_volume_stays_owned(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        for (int i = 0; i < 2; i++) {
                run_result r = run_variant(h, true, "VirtualMachine", "db2", db2_one_disk_stopped, false);
                assert_int_equal(r.code, PF_EXIT_OK);
                expect_contains(r.out, "volume vms/db2-data is podform's but no longer declared; --prune deletes it");
                run_result_free(&r);
        }
        assert_true(volume_exists(h, "vms", "db2-data", NULL));
        run_result r = run_variant(h, true, "VirtualMachine", "db2", db2_one_disk_stopped, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        expect_contains(r.out, "- volume vms/db2-data (capacity 32 GiB)\n");
        run_result_free(&r);
        assert_false(volume_exists(h, "vms", "db2-data", NULL));
        pf_lv_close(h);
}

static const char masquerade_vm[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: masq}\nspec:\n"
        "  domain:\n    type: qemu\n    memory: 512Mi\n"
        "    devices:\n      interfaces: [{name: default, masquerade: {}, ports: [{port: 80}]}]\n"
        "  networks: [{name: default, pod: {}}]\n";

/* libvirt 9.0.0 rejects passt: a masquerade interface goes on podform's NAT network instead,
 * planned before the VM, and the VM's NAT rules after it. A plan only: the rules would land in
 * the kernel this test runs on (tests/integration/masquerade.sh applies them, in a namespace). */
static void test_masquerade_without_passt(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        unsigned long v = 0;
        assert_int_equal(virConnectGetLibVersion(pf_lv_conn(h), &v), 0);
        run_result r = run_variant_v(h, false, NULL, NULL, masquerade_vm, false);
        if (r.code != PF_EXIT_CHANGES)
                fail_msg("the plan exits %d:\n%s%s", r.code, r.out, r.err);
        assert_int_equal(r.calls, 0);
        if (v >= 9001000) {
                expect_contains(r.out, "+ vm masq\n");
        } else {
                const char *net = strstr(r.out, "+ network podform-masq\n"), *vm = strstr(r.out, "+ vm masq\n"),
                           *nat = strstr(r.out, "+ nat masq\n");
                if (!net || !vm || !nat || !(net < vm && vm < nat))
                        fail_msg("wanted the network, the VM, then its NAT rules:\n%s", r.out);
                expect_contains(r.out, "    iface[default]: network podform-masq, virtio, ");
                expect_contains(r.out, "    port[default].tcp/80: 10.0.2.");
        }
        run_result_free(&r);
        pf_lv_close(h);
}

static const char lab_swap_before[] =
        "apiVersion: podform/v1\nkind: Network\nmetadata: {name: lab}\nspec:\n"
        "  forward: none\n  bridge: {name: virbr-lab}\n  domain: lab.example\n"
        "  ips:\n    - address: 10.77.0.1\n      prefix: 24\n      dhcp:\n"
        "        ranges: [{start: 10.77.0.100, end: 10.77.0.199}]\n"
        "        hosts: [{mac: \"52:54:00:77:00:20\", ip: 10.77.0.11, name: b},\n"
        "                {mac: \"52:54:00:77:00:10\", ip: 10.77.0.10, name: db2}]\n";
static const char lab_swap_after[] =
        "apiVersion: podform/v1\nkind: Network\nmetadata: {name: lab}\nspec:\n"
        "  forward: none\n  bridge: {name: virbr-lab}\n  domain: lab.example\n"
        "  ips:\n    - address: 10.77.0.1\n      prefix: 24\n      dhcp:\n"
        "        ranges: [{start: 10.77.0.100, end: 10.77.0.199}]\n"
        "        hosts: [{mac: \"52:54:00:77:00:10\", ip: 10.77.0.11, name: db2},\n"
        "                {mac: \"52:54:00:77:00:05\", ip: 10.77.0.10, name: c}]\n";

/* Leases that trade addresses: every old entry leaves before a new one comes, so libvirt
 * never sees two entries with one address, and the network ends exactly as declared. */
static void test_dhcp_swap_converges(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run_variant(h, true, "Network", "lab", lab_swap_before, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        run_result_free(&r);
        r = run_variant(h, true, "Network", "lab", lab_swap_after, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("exit %d:\n%s%s", r.code, r.out, r.err);
        run_result_free(&r);
        _cleanup_free_ char *x = net_xml(h, "lab");
        expect_contains(x, "<host mac='52:54:00:77:00:10' name='db2' ip='10.77.0.11'/>");
        expect_contains(x, "<host mac='52:54:00:77:00:05' name='c' ip='10.77.0.10'/>");
        assert_null(strstr(x, "52:54:00:77:00:20"));
        r = run_variant(h, true, "Network", "lab", lab_swap_after, false);
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
        pf_lv_close(h);
}

/* A podform network that a hand-made VM uses is not pruned: a plan error names both. */
static void test_prune_spares_network_in_foreign_use(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        static const char byhand[] =
                "<domain type='test'><name>byhand</name><memory>131072</memory><os><type>hvm</type></os>"
                "<devices><interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='lab'/>"
                "</interface></devices></domain>";
        virDomainPtr d = virDomainDefineXML(pf_lv_conn(h), byhand);
        assert_non_null(d);
        virDomainFree(d);
        /* the example without lab, and without db2 which used it */
        run_result r = run_variant(h, true, "Network", "lab",
                                   "#only\napiVersion: podform/v1\nkind: Host\nmetadata: {name: kvm02}\n"
                                   "spec: {defaultStoragePool: vms}\n", true);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "prune would delete network lab, but vm byhand (not podform's) still uses it");
        run_result_free(&r);
        pf_lv_close(h);
}

/* A copy of a podform VM made by hand (virt-clone copies <metadata>) is not podform's. */
static void test_clone_is_not_owned(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, NULL, false);
        char *x = dom_xml(h, "pxe1");
        char *name = strstr(x, "<name>pxe1</name>"), *uuid = strstr(x, "<uuid>");
        assert_non_null(name);
        assert_non_null(uuid);
        memcpy(name, "<name>pxe9</name>", strlen("<name>pxe9</name>"));
        char *end = strstr(uuid, "</uuid>");
        memmove(uuid, end + strlen("</uuid>"), strlen(end + strlen("</uuid>")) + 1);
        virDomainPtr d = virDomainDefineXML(pf_lv_conn(h), x);
        free(x);
        assert_non_null(d);
        virDomainFree(d);
        run_result r = run(h, false, NULL, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_null(strstr(r.out, "pxe9"));
        run_result_free(&r);
        pf_lv_close(h);
}

/* A host bridge (podform creates it, in the test's own network namespace) on the VLAN of Subnet
 * pxe; VMs whose interface pxe the constraints place there, with an address. */
#define PXE_LINKS                                                                                         \
        "#only\napiVersion: podform/v1\nkind: Bridge\nmetadata: {name: br-pf}\nspec: {state: up}\n---\n" \
        "apiVersion: podform/v1\nkind: Subnet\nmetadata: {name: pxe}\nspec:\n"                           \
        "  cidr: 10.20.0.0/24\n  vlan: 0\n  dhcp: managed\n  gateway: 10.20.0.1\n  interfaces: [br-pf]\n"
#define CONS_VM(name, memory, nic_extra, ip)                                                           \
        "---\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: " name "}\nspec:\n"        \
        "  running: true\n  domain:\n    type: qemu\n    memory: " memory "\n"                         \
        "    devices:\n      interfaces: [{name: pxe, bridge: {}" nic_extra "}]\n"                     \
        "  networks: [{name: pxe, constraints: {ip: " ip "}}]\n"

static const char orig_only[] = PXE_LINKS CONS_VM("orig", "128Mi", "", "10.20.0.9");
static const char orig_and_copy[] = PXE_LINKS CONS_VM("orig", "128Mi", "", "10.20.0.9")
        CONS_VM("copy", "256Mi", ", macAddress: \"52:54:00:c0:91:e5\"", "10.20.0.20");

/* Replaces the first `from` in the heap string *x by `to`. */
static void replace_in(char **x, const char *from, const char *to) {
        char *at = strstr(*x, from);
        if (!at) {
                fail_msg("no \"%s\" in:\n%s", from, *x);
                return;         /* not reached; tells the compiler so */
        }
        size_t head = (size_t) (at - *x), tail = strlen(at + strlen(from));
        char *y = malloc(head + strlen(to) + tail + 1);
        memcpy(y, *x, head);
        strcpy(y + head, to);
        strcat(y, at + strlen(from));
        free(*x);
        *x = y;
}

/* The podform metadata of a domain: from <podform:vm to its end (a copy). */
static char *record_of(const char *xml) {
        const char *a = strstr(xml, "<podform:vm "), *b = a ? strstr(a, "</podform:vm>") : NULL;
        return a && b ? strndup(a, (size_t) (b - a) + strlen("</podform:vm>")) : NULL;
}

/* A copy of a podform VM as virt-clone makes it (new name, UUID and MAC, the metadata of its
 * original, running), then declared with an address of its own: the copied record's address
 * is no field of the copy, and apply, which redefines the copy (memory), leaves the record as
 * it is (naming orig): the copy stays someone else's; the next apply has nothing to do. */
static void test_copy_keeps_its_originals_record(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, orig_only, false);
        char *x = dom_xml(h, "orig");
        _cleanup_free_ char *orig_record = record_of(x);
        assert_non_null(orig_record);
        expect_contains(orig_record, "name=\"orig\"");
        expect_contains(orig_record, "ip=\"10.20.0.9\"");
        /* virt-clone: another name, no UUID (libvirt makes one), another MAC */
        replace_in(&x, "<name>orig</name>", "<name>copy</name>");
        char *uuid = strstr(x, "<uuid>"), *end = uuid ? strstr(uuid, "</uuid>") : NULL;
        assert_non_null(end);
        memmove(uuid, end + strlen("</uuid>"), strlen(end + strlen("</uuid>")) + 1);
        char *mac = strstr(x, "<mac address='");
        assert_non_null(mac);
        memcpy(mac + strlen("<mac address='"), "52:54:00:c0:91:e5", 17);
        virDomainPtr d = virDomainDefineXML(pf_lv_conn(h), x);
        free(x);
        assert_non_null(d);
        assert_int_equal(virDomainCreate(d), 0);
        virDomainFree(d);
        _cleanup_free_ char *copy_before = dom_xml(h, "copy");
        _cleanup_free_ char *copy_record = record_of(copy_before);
        assert_string_equal(copy_record, orig_record);

        run_result r = run_v(h, false, orig_and_copy, false);
        if (r.code != PF_EXIT_CHANGES)
                fail_msg("plan (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "  vm copy interface pxe: bridge br-pf, ip 10.20.0.20  [constraints]\n");
        expect_contains(r.out, "! vm copy (restart; not created by podform: only declared fields are managed)\n");
        expect_contains(r.out, "    memory: 128 MiB -> 256 MiB  [restart]\n");
        /* the copied record's address is orig's, not a field of copy */
        assert_null(strstr(r.out, "ip["));
        expect_contains(r.out, "Plan: 0 to create, 1 to change, 0 to delete;");
        run_result_free(&r);

        r = run(h, true, orig_and_copy, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply failed (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        run_result_free(&r);
        _cleanup_free_ char *copy_after = dom_xml(h, "copy");
        expect_contains(copy_after, "<memory unit='KiB'>262144</memory>");
        expect_contains(copy_after, "<mac address='52:54:00:c0:91:e5'/>");
        _cleanup_free_ char *copy_record_after = record_of(copy_after);
        assert_non_null(copy_record_after);
        assert_string_equal(copy_record_after, orig_record);
        assert_null(strstr(copy_after, "name=\"copy\""));
        assert_null(strstr(copy_after, "10.20.0.20"));
        assert_int_equal(dom_active(h, "copy"), 1);
        _cleanup_free_ char *orig_after = dom_xml(h, "orig");
        _cleanup_free_ char *orig_record_after = record_of(orig_after);
        assert_string_equal(orig_record_after, orig_record);

        r = run(h, true, orig_and_copy, false);
        if (r.code != PF_EXIT_OK || r.calls != 0)
                fail_msg("second apply (exit %d, %lu calls):\n%s%s", r.code, r.calls, r.out, r.err);
        expect_contains(r.out, "Applied nothing: 0 mutating libvirt calls, 0 netlink changes, 0 nftables transactions.");
        run_result_free(&r);
        /* with prune too: the copy is not podform's */
        r = run(h, false, orig_and_copy, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_null(strstr(r.out, "- vm copy"));
        run_result_free(&r);
        pf_lv_close(h);
}

/* The same copy made with `virsh dumpxml orig | sed | virsh define`, which keeps orig's MAC: the
 * borrowed record must not name the copy's card either, or podform would take that card over
 * as its interface pxe and change its MAC. It is someone else's card; podform's pxe is new. */
static void test_copy_with_the_same_mac(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, orig_only, false);
        char *x = dom_xml(h, "orig");
        replace_in(&x, "<name>orig</name>", "<name>copy</name>");
        char *uuid = strstr(x, "<uuid>"), *end = uuid ? strstr(uuid, "</uuid>") : NULL;
        assert_non_null(end);
        memmove(uuid, end + strlen("</uuid>"), strlen(end + strlen("</uuid>")) + 1);
        virDomainPtr d = virDomainDefineXML(pf_lv_conn(h), x);
        free(x);
        assert_non_null(d);
        virDomainFree(d);

        run_result r = run_v(h, false, orig_and_copy, false);
        if (r.code != PF_EXIT_CHANGES)
                fail_msg("plan (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "    + iface pxe (bridge br-pf, virtio, 52:54:00:c0:91:e5)  [live]\n");
        if (strstr(r.out, "iface[pxe].mac: 52:54:00"))
                fail_msg("the copy's card was taken for podform's interface pxe:\n%s", r.out);
        assert_null(strstr(r.out, "ip["));
        run_result_free(&r);
        pf_lv_close(h);
}

/* A Network maas podform created, then dropped from the configuration while a VM's pod
 * interface is on it. With prune, maas is about to go, so it is no pod network: no "declare it
 * again" deadlock, but the error that nothing qualifies, naming maas as gone, and nothing
 * changed. Without prune, maas stays, listed as podform's and undeclared, and the VM stays. */
static void test_prune_drops_maas_from_the_pod_rules(void **state) {
        (void) state;
        pf_lv_host *h = open_uri("test:///default");
        run_result r = run(h, true, pod_vm_maas, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply failed (exit %d):\n%s%s", r.code, r.out, r.err);
        run_result_free(&r);
        _cleanup_free_ char *maas_before = net_xml(h, "maas"), *vm_before = dom_xml(h, "podvm");
        expect_contains(vm_before, "<source network='maas'/>");

        for (int apply = 0; apply < 2; apply++) {
                r = run(h, apply, pod_vm, true);
                if (r.code != PF_EXIT_ERROR)
                        fail_msg("prune %s (exit %d):\n%s%s", apply ? "apply" : "plan", r.code, r.out, r.err);
                assert_int_equal(r.calls, 0);
                assert_null(strstr(r.err, "declare it again"));
                expect_contains(r.err, "extra.yaml:4:18: error: no target for the pod network of interface 'default' "
                                       "(see podform.yaml(5), RESOLUTION, The pod network): no libvirt network maas or default qualifies (a, b), and no host "
                                       "bridge or NIC is on a DHCP-enabled VLAN (c):\n");
                expect_contains(r.err, "  - libvirt network 'maas': (a) podform created it and the configuration no longer "
                                       "declares it: this run prunes it\n");
                expect_contains(r.err, "  - libvirt network 'default': (a) its libvirt DHCP is on");
                expect_contains(r.err, "podform: 1 error; nothing was changed");
                run_result_free(&r);
        }
        _cleanup_free_ char *maas_after = net_xml(h, "maas"), *vm_after = dom_xml(h, "podvm");
        assert_non_null(maas_after);
        assert_string_equal(maas_before, maas_after);
        assert_string_equal(vm_before, vm_after);

        /* without prune: maas is still the pod network (rule a, on the host), an orphan */
        r = run_v(h, false, pod_vm, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("plan (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "  vm podvm interface default: network maas  [pod network, rules a, b]\n"
                               "      why: libvirt network 'maas' (on the host): it exists and its libvirt DHCP is off (a), and "
                               "libvirt manages it (b)\n");
        expect_contains(r.out, "network maas is podform's but no longer declared; --prune deletes it");
        expect_contains(r.out, "No changes: the host matches the configuration.");
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
        /* without -v: podvm's interface is already on maas, nothing to say about it */
        r = run(h, false, pod_vm, false);
        assert_null(strstr(r.out, "Attachments"));
        run_result_free(&r);
        r = run(h, true, pod_vm, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply (exit %d):\n%s%s", r.code, r.out, r.err);
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
        assert_true(net_exists(h, "maas"));
        pf_lv_close(h);
}

static const char vm_a[] = PXE_LINKS CONS_VM("a", "128Mi", "", "10.20.0.30");
static const char vm_b[] = PXE_LINKS CONS_VM("b", "128Mi", "", "10.20.0.30");

/* An address recorded on a VM podform created and the configuration dropped: taken, unless
 * this run prunes that VM; then b gets it, and records it. */
static void test_prune_frees_a_recorded_address(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, vm_a, false);
        _cleanup_free_ char *a = dom_xml(h, "a");
        expect_contains(a, "ip=\"10.20.0.30\"");

        run_result r = run(h, true, vm_b, false);
        if (r.code != PF_EXIT_ERROR)
                fail_msg("apply without prune (exit %d):\n%s%s", r.code, r.out, r.err);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "constraint ip: 10.20.0.30 is recorded on VM a (interface pxe), which podform created and "
                               "the configuration no longer declares; delete that VM (apply --prune) or pick another "
                               "address");
        run_result_free(&r);
        assert_int_equal(dom_active(h, "b"), -1);

        r = run(h, false, vm_b, true);
        if (r.code != PF_EXIT_CHANGES)
                fail_msg("plan with prune (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "  vm b interface pxe: bridge br-pf, ip 10.20.0.30  [constraints]\n");
        expect_contains(r.out, "+ vm b\n");
        expect_contains(r.out, "! vm a (running: it is stopped first)\n");
        expect_contains(r.out, "Plan: 1 to create, 0 to change, 1 to delete;");
        run_result_free(&r);

        r = run(h, true, vm_b, true);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply with prune (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        run_result_free(&r);
        assert_int_equal(dom_active(h, "a"), -1);
        assert_int_equal(dom_active(h, "b"), 1);
        _cleanup_free_ char *b = dom_xml(h, "b");
        _cleanup_free_ char *record = record_of(b);
        assert_non_null(record);
        expect_contains(record, "name=\"b\"");
        expect_contains(record, "<podform:interface name=\"pxe\"");
        expect_contains(record, "ip=\"10.20.0.30\"");
        expect_contains(b, "<source bridge='br-pf'/>");
        r = run(h, true, vm_b, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
        pf_lv_close(h);
}

static const char vm_a_moved[] = PXE_LINKS CONS_VM("a", "128Mi", "", "10.20.0.31");

/* A new address of a running VM lands live: in its definition, then in the running VM's copy
 * of the record. When that second call fails, the next apply sees the running VM's old record
 * and makes the call again, instead of calling the job done. */
static void test_live_record_resumes(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, vm_a, false);
        assert_int_equal(dom_active(h, "a"), 1);

        /* the calls of the change: redefine (1), then the live record (2) */
        fail_at = 2;
        mutating_calls = 0;
        run_result r = run(h, true, vm_a_moved, false);
        fail_at = 0;
        if (r.code != PF_EXIT_ERROR && r.code != PF_EXIT_PARTIAL)
                fail_msg("apply with a failing virDomainSetMetadata (exit %d):\n%s%s", r.code, r.out, r.err);
        assert_string_equal(failed_call, "virDomainSetMetadata");
        run_result_free(&r);
        _cleanup_free_ char *persistent = dom_xml(h, "a");
        expect_contains(persistent, "ip=\"10.20.0.31\"");

        r = run_v(h, false, vm_a_moved, false);
        if (r.code != PF_EXIT_CHANGES)
                fail_msg("plan after the failure (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "    ip[pxe]: 10.20.0.30 -> 10.20.0.31  [live]\n");
        run_result_free(&r);

        r = run(h, true, vm_a_moved, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("apply again (exit %d):\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "Verify: observed the host again; no changes remain.");
        run_result_free(&r);
        virDomainPtr d = virDomainLookupByName(pf_lv_conn(h), "a");
        assert_non_null(d);
        char *live = virDomainGetXMLDesc(d, 0);
        virDomainFree(d);
        assert_non_null(live);
        expect_contains(live, "ip=\"10.20.0.31\"");
        free(live);
        r = run(h, true, vm_a_moved, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_int_equal(r.calls, 0);
        run_result_free(&r);
        pf_lv_close(h);
}

static const char pool_slashes[] =
        "apiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: p2}\n"
        "spec: {type: dir, path: /var/lib/libvirt/images//p2/}\n";
static const char pool_moved[] =
        "apiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: p2}\n"
        "spec: {type: dir, path: /srv/p2}\n";

/* Paths compare as libvirt stores them; a pool is never moved (its volumes would vanish). */
static void test_pool_path(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, pool_slashes, false);
        expect_clean_with(h, pool_slashes);
        run_result r = run(h, true, pool_moved, false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "pool p2: path cannot change from /var/lib/libvirt/images/p2 to /srv/p2 without losing its data");
        run_result_free(&r);
        pf_lv_close(h);
}

static const char decimal_disk[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: dec}\nspec:\n  running: false\n"
        "  domain:\n    type: qemu\n    memory: 1G\n"
        "    devices:\n      disks: [{name: root, size: 1G}]\n"
        "      interfaces: [{name: a, bridge: {}}]\n"
        "  networks: [{name: a, network: maas}]\n";

static const char storage_shorthand[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: dec}\nspec:\n  running: false\n"
        "  storage: \"root:1(vms)\"\n"
        "  domain:\n    type: qemu\n    memory: 1G\n"
        "    devices:\n      interfaces: [{name: a, bridge: {}}]\n"
        "  networks: [{name: a, network: maas}]\n";

/* A volume as podform made it before it wrote exact sizes, and as libvirt makes a qcow2 one
 * (qemu-img create PATH SIZEK): 1 GB rounded up to whole KiB. */
static const char decimal_disk_in_kib[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: dec}\nspec:\n  running: false\n"
        "  domain:\n    type: qemu\n    memory: 1G\n"
        "    devices:\n      disks: [{name: root, size: 976563Ki}]\n"
        "      interfaces: [{name: a, bridge: {}}]\n"
        "  networks: [{name: a, network: maas}]\n";

/* Decimal sizes are exact: 1G and the shorthand's bare 1 are 1,000,000,000 bytes. */
static void test_decimal_sizes(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, decimal_disk, false);
        unsigned long long cap = 0;
        assert_true(volume_exists(h, "vms", "dec-root", &cap));
        assert_int_equal(cap, 1000000000ULL);
        expect_clean_with(h, decimal_disk);
        expect_clean_with(h, storage_shorthand);
        pf_lv_close(h);

        h = open_host("kvm01.xml");
        apply_ok(h, storage_shorthand, false);
        assert_true(volume_exists(h, "vms", "dec-root", &cap));
        assert_int_equal(cap, 1000000000ULL);
        expect_clean_with(h, storage_shorthand);
        pf_lv_close(h);
}

/* A volume at the whole KiB above the size asked is that size: no change, and no shrink. */
static void test_volume_in_whole_kib_is_the_size_asked(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, decimal_disk_in_kib, false);
        unsigned long long cap = 0;
        assert_true(volume_exists(h, "vms", "dec-root", &cap));
        assert_int_equal(cap, 1000000512ULL);
        expect_clean_with(h, decimal_disk);
        expect_clean_with(h, storage_shorthand);
        pf_lv_close(h);
}

static const char untyped_vm[] =
        "apiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: %s}\nspec:\n  running: false\n"
        "  domain:\n%s    memory: 1Gi\n"
        "    devices:\n      interfaces: [{name: a, bridge: {}}]\n"
        "  networks: [{name: a, network: maas}]\n";

static char *untyped(const char *name, const char *type_line) {
        return pf_xasprintf(untyped_vm, name, type_line);
}

static char *data_file(const char *name) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/tests/data/%s", SRCDIR, name);
        FILE *f = fopen(path, "r");
        if (!f)
                fail_msg("cannot open %s", path);
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        for (int c; (c = fgetc(f)) != EOF;)
                fputc(c, m);
        fclose(m);
        fclose(f);
        return text;
}

/* A VM without type runs on what the host offers: the test driver's capabilities list no kvm
 * (only i686 "test" guests) and it has no domain capabilities, so qemu, and the plan says so. */
static void test_type_from_the_host_without_kvm(void **state) {
        (void) state;
        fake_domcaps = NULL;
        pf_lv_host *h = open_host("kvm01.xml");
        _cleanup_free_ char *vm = untyped("notype", "");
        run_result r = run(h, false, vm, false);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "\n+ vm notype (type qemu: this host offers no kvm for x86_64)\n");
        run_result_free(&r);
        apply_ok(h, vm, false);
        _cleanup_free_ char *x = dom_xml(h, "notype");
        expect_contains(x, "<domain type='qemu'>");
        expect_clean_with(h, vm);
        pf_lv_close(h);
}

/* Where the domain capabilities offer kvm, kvm, asked once per arch however many VMs; where
 * libvirt refuses them for kvm, qemu. An explicit type is kept as written, and says nothing. */
static void test_type_from_the_domain_capabilities(void **state) {
        (void) state;
        _cleanup_free_ char *domcaps = data_file("hosts/domcaps-kvm.xml");
        _cleanup_free_ char *a = untyped("vm-a", ""), *b = untyped("vm-b", ""), *q = untyped("vm-q", "    type: qemu\n");
        _cleanup_free_ char *three = pf_xasprintf("%s---\n%s---\n%s", a, b, q);
        fake_domcaps = domcaps;
        domcaps_calls = 0;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run(h, true, three, false);
        assert_int_equal(r.code, PF_EXIT_OK);
        expect_contains(r.out, "\n+ vm vm-a (type kvm: this host offers kvm for x86_64)\n");
        expect_contains(r.out, "\n+ vm vm-b (type kvm: this host offers kvm for x86_64)\n");
        expect_contains(r.out, "\n+ vm vm-q\n");
        run_result_free(&r);
        assert_int_equal(domcaps_calls, 1);
        _cleanup_free_ char *xa = dom_xml(h, "vm-a"), *xq = dom_xml(h, "vm-q");
        expect_contains(xa, "<domain type='kvm'>");
        expect_contains(xq, "<domain type='qemu'>");

        pf_lv_close(h);

        /* a host where libvirt refuses kvm: qemu; and a VM that exists keeps its type, since a
         * default redefines nothing (here one made kvm before, as the old default did) */
        fake_domcaps = "";
        domcaps_calls = 0;
        h = open_host("kvm01.xml");
        _cleanup_free_ char *k = untyped("vm-a", "    type: kvm\n");
        apply_ok(h, k, false);
        expect_clean_with(h, a);
        _cleanup_free_ char *c = untyped("vm-c", "");
        r = run(h, false, c, false);
        expect_contains(r.out, "+ vm vm-c (type qemu: this host offers no kvm for x86_64)\n");
        run_result_free(&r);
        assert_int_equal(domcaps_calls, 1);
        pf_lv_close(h);
        fake_domcaps = NULL;
}

/* The documents the answer comes from, as libvirt writes them. */
static void test_capabilities_documents(void **state) {
        (void) state;
        _cleanup_free_ char *caps = data_file("hosts/caps-kvm.xml"), *domcaps = data_file("hosts/domcaps-kvm.xml");
        xmlDocPtr c = xmlReadMemory(caps, (int) strlen(caps), NULL, NULL, XML_PARSE_NONET);
        xmlDocPtr d = xmlReadMemory(domcaps, (int) strlen(domcaps), NULL, NULL, XML_PARSE_NONET);
        assert_true(pf_lv_caps_offer(c, "x86_64", "kvm"));
        assert_true(pf_lv_caps_offer(c, "i686", "qemu"));
        assert_false(pf_lv_caps_offer(c, "i686", "kvm"));
        assert_false(pf_lv_caps_offer(c, "aarch64", "kvm"));
        assert_false(pf_lv_caps_offer(NULL, "x86_64", "kvm"));
        assert_true(pf_lv_domcaps_offer(d, "kvm"));
        assert_false(pf_lv_domcaps_offer(d, "qemu"));
        assert_false(pf_lv_domcaps_offer(c, "kvm"));
        assert_false(pf_lv_domcaps_offer(NULL, "kvm"));
        xmlFreeDoc(c);
        xmlFreeDoc(d);
}

static char *stp_net(const char *bridge) {
        return pf_xasprintf("#only\napiVersion: podform/v1\nkind: Network\nmetadata: {name: stpnet}\nspec:\n"
                            "  forward: nat\n  bridge: {name: virbr50%s}\n  ips: [{address: 192.168.50.1, prefix: 24}]\n",
                            bridge);
}

/* bridge.stp is off unless written, as on a Bridge; a network made when the default was on
 * (libvirt's) keeps it, so that the changed default recreates nothing. The forward delay reads
 * alike in both spellings. */
static void test_network_stp_default(void **state) {
        (void) state;
        _cleanup_free_ char *unset = stp_net(""), *on = stp_net(", stp: true"), *off = stp_net(", stp: false");
        _cleanup_free_ char *old_delay = stp_net(", stp: true, delay: 3"), *new_delay = stp_net(", stp: true, forwardDelay: 3");
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, unset, false);
        _cleanup_free_ char *x = net_xml(h, "stpnet");
        expect_contains(x, "<bridge name='virbr50' stp='off' delay='0'/>");
        pf_lv_close(h);

        h = open_host("kvm01.xml");
        apply_ok(h, on, false);         /* as podform made it under the old default */
        expect_clean_with(h, unset);
        run_result r = run(h, false, off, false);
        assert_int_equal(r.code, PF_EXIT_CHANGES);
        expect_contains(r.out, "! network stpnet (recreate)  bridge.stp on -> off\n");
        run_result_free(&r);
        apply_ok(h, old_delay, false);
        _cleanup_free_ char *y = net_xml(h, "stpnet");
        expect_contains(y, "<bridge name='virbr50' stp='on' delay='3'/>");
        expect_clean_with(h, new_delay);
        pf_lv_close(h);
}

static const char adopt_handmade_net[] =
        "apiVersion: podform/v1\nkind: Network\nmetadata: {name: handmade}\nspec:\n"
        "  forward: route\n  bridge: {name: virbr9}\n"
        "  ips:\n    - address: 192.168.209.1\n      prefix: 24\n      dhcp:\n"
        "        ranges: [{start: 192.168.209.2, end: 192.168.209.254}]\n";

/* A declared network podform did not create: restructured in place, its DNS entries kept. */
static void test_adopted_network_keeps_the_rest(void **state) {
        (void) state;
        pf_lv_host *h = open_host("foreign.xml");
        _cleanup_free_ char *uuid = net_uuid(h, "handmade");
        run_result r = run_variant(h, true, NULL, NULL, adopt_handmade_net, false);
        if (r.code != PF_EXIT_OK)
                fail_msg("exit %d:\n%s%s", r.code, r.out, r.err);
        expect_contains(r.out, "! network handmade (recreate; not created by podform: only declared fields are managed)");
        run_result_free(&r);
        _cleanup_free_ char *x = net_xml(h, "handmade"), *uuid2 = net_uuid(h, "handmade");
        expect_contains(x, "<forward mode='route'/>");
        expect_contains(x, "<hostname>printer</hostname>");
        assert_string_equal(uuid, uuid2);
        /* still not podform's: pruned never */
        r = run_variant(h, true, NULL, NULL, NULL, true);
        assert_int_equal(r.code, PF_EXIT_OK);
        assert_null(strstr(r.out, "handmade"));
        run_result_free(&r);
        pf_lv_close(h);
}

/* Fault injection: the N-th mutating call of a representative sequence fails, for every N:
 * apply the example from scratch (creations), edit DHCP leases in place and restructure a
 * network, then prune a running VM and its volumes. The failed run reports the failure (exit 3
 * when something else was applied); the next run converges; the one after makes no call; the
 * hand-made network and VM are untouched throughout. */
typedef struct step { const char *skip_kind, *skip_name, *yaml; bool prune; } step;

static const step fault_steps[] = {
        { NULL, NULL, NULL, false },
        { "Network", "lab", lab_edit, false },
        { "Network", "maas", maas_routed, false },
        { "VirtualMachine", "db2", NULL, true },
};
#define N_FAULT_STEPS (sizeof(fault_steps) / sizeof(fault_steps[0]))

static run_result run_step(pf_lv_host *h, const step *s) {
        return run_variant(h, true, s->skip_kind, s->skip_name, s->yaml, s->prune);
}

static void test_every_fault_converges(void **state) {
        (void) state;
        /* the clean sequence: how many calls there are to fail */
        pf_lv_host *h = open_host("foreign.xml");
        mutating_calls = 0;
        for (size_t i = 0; i < N_FAULT_STEPS; i++) {
                run_result r = run_step(h, &fault_steps[i]);
                if (r.code != PF_EXIT_OK)
                        fail_msg("clean step %zu failed (exit %d):\n%s%s", i, r.code, r.out, r.err);
                run_result_free(&r);
        }
        unsigned long total = mutating_calls;
        pf_lv_close(h);
        assert_true(total > 30);

        const step *last = &fault_steps[N_FAULT_STEPS - 1];
        for (unsigned long n = 1; n <= total; n++) {
                h = open_host("foreign.xml");
                _cleanup_free_ char *net_before = net_xml(h, "handmade"), *dom_before = dom_xml(h, "handmade-vm");
                mutating_calls = 0;
                fail_at = n;
                bool reported = false;
                for (size_t i = 0; i < N_FAULT_STEPS; i++) {
                        run_result r = run_step(h, &fault_steps[i]);
                        if (r.code != PF_EXIT_OK) {
                                if (!strstr(r.out, "FAILED"))
                                        fail_msg("call %lu: the failure is not reported:\n%s%s", n, r.out, r.err);
                                /* partly applied: exit 3; nothing applied: exit 1 */
                                assert_int_equal(r.code, strstr(r.out, "  done ") ? PF_EXIT_PARTIAL : PF_EXIT_ERROR);
                                reported = true;
                        }
                        run_result_free(&r);
                        if (reported)
                                break;
                }
                fail_at = 0;
                /* a refused ACPI shutdown is no failure: podform powers the VM off instead */
                if (!reported && strcmp(failed_call, "virDomainShutdown") != 0)
                        fail_msg("call %lu of %lu (%s) failed and no run reported it", n, total, failed_call);
                run_result c = run_step(h, last);
                if (c.code != PF_EXIT_OK)
                        fail_msg("call %lu: the next apply did not converge (exit %d):\n%s%s", n, c.code, c.out, c.err);
                run_result d = run_step(h, last);
                assert_int_equal(d.code, PF_EXIT_OK);
                if (d.calls != 0)
                        fail_msg("call %lu: the apply after convergence still made %lu calls:\n%s", n, d.calls, d.out);
                assert_int_equal(dom_active(h, "db2"), -1);
                _cleanup_free_ char *net_after = net_xml(h, "handmade"), *dom_after = dom_xml(h, "handmade-vm");
                assert_string_equal(net_before, net_after);
                assert_string_equal(dom_before, dom_after);
                run_result_free(&c);
                run_result_free(&d);
                pf_lv_close(h);
        }
}

/* Errors that list the link kinds a configuration may declare name every one of them, and no
 * other kind: a new link kind that is missing from the list fails here. */
static void test_link_kinds_named(void **state) {
        (void) state;
        const char *list = PF_LINK_KINDS_TEXT;
        PF_EACH_KIND(ops) {
                const char *title = pf_kind_title(ops);
                size_t len = strlen(title);
                bool named = false;
                for (const char *p = strstr(list, title); p; p = strstr(p + 1, title))
                        if ((p == list || p[-1] == ' ') && strchr(", ", p[len]))
                                named = true;
                if (named != ((ops->flags & PF_KIND_LINK) != 0))
                        fail_msg("%s is %s link kind, and \"%s\" %s it", title, named ? "no" : "a", list,
                                 named ? "names" : "does not name");
        }
}

/* The ownership record holds names of any length, and reads back what it wrote: a volume of
 * 5,000 characters stays one entry (a line buffer once cut such a line in two), and two long
 * URIs that differ only at their end get records of their own. */
static void test_owner_record_long_names(void **state) {
        (void) state;
        char dir[] = "/tmp/podform-owner-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *vol = malloc(5001), *uri_a = malloc(2101), *uri_b = malloc(2101);
        memset(vol, 'v', 5000);
        vol[0] = 'p', vol[1] = '/';
        vol[5000] = '\0';
        memset(uri_a, 'u', 2100);
        memcpy(uri_a, "test:///", 8);
        uri_a[2100] = '\0';
        memcpy(uri_b, uri_a, 2101);
        uri_b[2099] = 'b';
        char *err = NULL;
        pf_owner *o = pf_owner_open(dir, uri_a, &err);
        assert_non_null(o);
        pf_owner_set(o, PF_R_VOLUME, vol, "0000-1");
        pf_owner_set(o, PF_R_VOLUME, "p/short", "0000-2");
        assert_int_equal(pf_owner_save(o, &err), 0);
        pf_owner_free(o);
        o = pf_owner_open(dir, uri_a, &err);
        if (!o)
                fail_msg("the record does not read back: %s", err);
        assert_true(pf_owner_has(o, PF_R_VOLUME, vol, "0000-1"));
        assert_true(pf_owner_has(o, PF_R_VOLUME, "p/short", "0000-2"));
        pf_owner_free(o);
        o = pf_owner_open(dir, uri_b, &err);
        assert_non_null(o);
        assert_false(pf_owner_has(o, PF_R_VOLUME, "p/short", "0000-2"));
        pf_owner_free(o);

        /* The names podform always used stay as they were, up to the longest that fits NAME_MAX
         * with ".lock" (236 bytes); one byte more is cut to 120 and ends with a hash. */
        char *fits = malloc(300), *over = malloc(300), *path;
        snprintf(fits, 300, "qemu+ssh://h/system?keyfile=%0194d", 0);
        snprintf(over, 300, "qemu+ssh://h/system?keyfile=%0195d", 0);
        const char *const all[] = { "qemu:///system", fits, over };
        for (size_t i = 0; i < 3; i++) {
                assert_non_null(o = pf_owner_open(dir, all[i], &err));
                pf_owner_set(o, PF_R_POOL, "p", "0000-3");
                assert_int_equal(pf_owner_save(o, &err), 0);
                pf_owner_free(o);
        }
        const char *escaped = "qemu_2bssh_3a_2f_2fh_2fsystem_3fkeyfile_3d";
        assert_true(asprintf(&path, "%s/libvirt-qemu_3a_2f_2f_2fsystem.owned", dir) > 0);
        assert_int_equal(access(path, F_OK), 0);
        free(path);
        assert_true(asprintf(&path, "%s/libvirt-%s%0194d.owned", dir, escaped, 0) > 0);
        if (access(path, F_OK) != 0)
                fail_msg("a record name of 236 bytes is not the one podform always used: %s", path);
        free(path);
        char *cut;
        assert_true(asprintf(&cut, "%s%0195d", escaped, 0) > 0);
        cut[120] = '\0';
        glob_t g;
        assert_true(asprintf(&path, "%s/libvirt-%s_????????????????.owned", dir, cut) > 0);
        if (glob(path, 0, NULL, &g) != 0 || g.gl_pathc != 1)
                fail_msg("no single record %s for a name of 237 bytes", path);
        globfree(&g);
        free(path);
        free(cut);
        free(fits);
        free(over);
        char *cmd;
        assert_true(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        free(vol);
        free(uri_a);
        free(uri_b);
}

/* A dhcp without a range or a host would be sent on every apply and dropped by libvirt every
 * time: a plan error, at the dhcp key, and nothing is changed. */
static void test_empty_dhcp_refused(void **state) {
        (void) state;
        pf_lv_host *h = open_host("kvm01.xml");
        run_result r = run(h, true, "#only\napiVersion: podform/v1\nkind: Network\nmetadata: {name: quiet}\n"
                                    "spec:\n  forward: nat\n  ips:\n    - address: 192.168.16.1\n      prefix: 24\n"
                                    "      dhcp: {}\n", false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "extra.yaml:10:7: error: network 'quiet': dhcp on 192.168.16.1 has no range or host, "
                               "and libvirt drops a <dhcp> without one (boot options and all)");
        run_result_free(&r);
        /* boot options alone are dropped with it (checked on the test driver and libvirtd 9.0) */
        r = run(h, true, "#only\napiVersion: podform/v1\nkind: Network\nmetadata: {name: quiet}\n"
                         "spec:\n  forward: nat\n  ips:\n    - address: 192.168.16.1\n      prefix: 24\n"
                         "      dhcp: {bootp: {file: pxelinux.0}}\n", false);
        assert_int_equal(r.code, PF_EXIT_ERROR);
        assert_int_equal(r.calls, 0);
        expect_contains(r.err, "extra.yaml:10:7: error: network 'quiet': dhcp on 192.168.16.1 has no range or host");
        run_result_free(&r);
        pf_lv_close(h);
}

/* `podform show` of a host, as one process would run it. */
static char *show_host(pf_lv_host *h) {
        char *text = NULL, *err_text = NULL;
        size_t len, err_len;
        FILE *out = open_memstream(&text, &len), *err = open_memstream(&err_text, &err_len);
        pf_run_opts o = { .host_name = "kvm01", .out = out, .err = err };
        int code = pf_show(h, test_links(), &o);
        fclose(out);
        fclose(err);
        if (code != PF_EXIT_OK)
                fail_msg("show exits %d:\n%s", code, err_text);
        free(err_text);
        if (getenv("PODFORM_TEST_SHOW"))
                fputs(text, stderr);
        return text;
}

/* ---- apply side by side (--parallel) ---- */

/* The example plus n VMs with a disk each, on the example's networks: steps of many actions,
 * so that the workers interleave. */
static char *many_vms(unsigned n) {
        char *y = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&y, &len);
        for (unsigned i = 0; i < n; i++)
                fprintf(f, "---\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: par%02u}\nspec:\n"
                           "  running: %s\n  domain:\n    type: qemu\n    memory: 64Mi\n    devices:\n"
                           "      disks:\n        - {name: root, size: %uMi, format: qcow2}\n"
                           "      interfaces:\n        - {name: lan, bridge: {}}\n"
                           "  networks:\n    - {name: lan, network: %s}\n",
                        i, i % 3 ? "false" : "true", 64 + i, i % 2 ? "lab" : "maas");
        fclose(f);
        return y;
}

static run_result run_parallel(pf_lv_host *h, unsigned n, const char *yaml, bool prune) {
        parallel = n;
        run_result r = run(h, true, yaml, prune);
        parallel = 0;
        return r;
}

/* One at a time and four at once: the same report, the same calls, the same host. */
static void test_parallel_same_as_one_at_a_time(void **state) {
        (void) state;
        /* what apply creates beside what: volumes after pools, VMs after all, links before */
        unsigned vol = pf_kind_needs(pf_kinds[PF_R_VOLUME]), net = pf_kind_needs(pf_kinds[PF_R_NETWORK]),
                 dom = pf_kind_needs(pf_kinds[PF_R_DOMAIN]);
        assert_int_equal(vol, 1u << PF_R_POOL);
        assert_true(net & (1u << PF_R_BRIDGE));
        assert_false(net & (1u << PF_R_VOLUME | 1u << PF_R_POOL));
        assert_int_equal(dom, (1u << PF_R_DOMAIN) - 1);
        assert_int_equal(pf_kind_needs(pf_kinds[PF_R_POOL]), 0);
        _cleanup_free_ char *yaml = many_vms(24);
        pf_lv_host *one = open_host("kvm01.xml"), *four = open_host("kvm01.xml");
        run_result a = run_parallel(one, 1, yaml, false), b = run_parallel(four, 4, yaml, false);
        if (a.code != PF_EXIT_OK || b.code != PF_EXIT_OK)
                fail_msg("apply exits %d and %d:\n%s%s\n%s%s", a.code, b.code, a.out, a.err, b.out, b.err);
        expect_contains(a.out, "Apply: 56 done, 0 failed, 0 skipped.");
        assert_string_equal(a.out, b.out);
        assert_string_equal(a.err, b.err);
        assert_int_equal(a.calls, b.calls);
        _cleanup_free_ char *shown_one = show_host(one), *shown_four = show_host(four);
        assert_string_equal(shown_one, shown_four);
        expect_contains(shown_four, "name: par23");
        run_result_free(&a);
        run_result_free(&b);
        /* and pruned again, at once, in the reverse order of kinds */
        run_result c = run_parallel(one, 1, "#only\n", true), d = run_parallel(four, 4, "#only\n", true);
        if (c.code != PF_EXIT_OK)
                fail_msg("prune exits %d:\n%s%s", c.code, c.out, c.err);
        expect_contains(c.out, "Apply: 56 done, 0 failed, 0 skipped.");
        assert_string_equal(c.out, d.out);
        run_result_free(&c);
        run_result_free(&d);
        _cleanup_free_ char *left_one = show_host(one), *left_four = show_host(four);
        assert_string_equal(left_one, left_four);
        pf_lv_close(one);
        pf_lv_close(four);
}

/* A fault under --parallel: the failed volume's VM is skipped, every other action is carried
 * out, the report is the one an apply one at a time gives, and the next apply converges. */
static void test_parallel_fault_skips_dependents(void **state) {
        (void) state;
        _cleanup_free_ char *yaml = many_vms(12);
        pf_lv_host *one = open_host("kvm01.xml"), *four = open_host("kvm01.xml");
        fail_volume = "<name>par05-root</name>";
        run_result a = run_parallel(one, 1, yaml, false), b = run_parallel(four, 4, yaml, false);
        fail_volume = NULL;
        assert_int_equal(a.code, PF_EXIT_PARTIAL);
        assert_int_equal(b.code, PF_EXIT_PARTIAL);
        expect_contains(b.out, "  FAILED  + volume vms/par05-root: cannot create volume vms/par05-root: ");
        expect_contains(b.out, "  skipped + vm par05: it needs volume vms/par05-root, which was not applied\n");
        expect_contains(b.out, "  done    + vm par06\n");
        expect_contains(b.out, "Apply: 30 done, 1 failed, 1 skipped.");
        assert_string_equal(a.out, b.out);
        run_result_free(&a);
        run_result_free(&b);
        parallel = 4;
        apply_ok(four, yaml, false);
        expect_clean_with(four, yaml);
        parallel = 0;
        pf_lv_close(one);
        pf_lv_close(four);
}

/* What show printed, applied as it is: no change, no mutating call. */
static void expect_show_applies_clean(pf_lv_host *h, const char *shown) {
        char *again;
        assert_true(asprintf(&again, "#only\n%s", shown) > 0);
        run_result r = run(h, true, again, false);
        if (r.code != PF_EXIT_OK || r.calls != 0)
                fail_msg("applying what show printed exits %d with %lu mutating calls:\n%s%s", r.code, r.calls, r.out, r.err);
        expect_contains(r.out, "No changes: the host matches the configuration.");
        run_result_free(&r);
        free(again);
}

/* Networks of every shape and a storage pool read back from `show` as a configuration under
 * which an apply changes nothing; what the format cannot say (a <dns> added by hand) is a
 * comment, and someone else's network is adopted as it is. */
static void test_show_networks_round_trip(void **state) {
        (void) state;
        enter_private_netns();  /* show reads the host's links too: none but lo here */
        pf_lv_host *h = open_host("kvm01.xml");
        static const char networks[] =
                "#only\napiVersion: podform/v1\nkind: Network\nmetadata: {name: natnet}\nspec:\n"
                "  forward: nat\n  nat: {ports: {start: 1024, end: 65000}}\n  bridge: {name: virbr10, stp: true, forwardDelay: 2}\n"
                "  mtu: 9000\n  domain: example.test\n  ips:\n"
                "    - address: 192.168.50.1\n      prefix: 24\n      dhcp:\n"
                "        ranges: [{start: 192.168.50.100, end: 192.168.50.200}, {start: 192.168.50.210, end: 192.168.50.220}]\n"
                "        hosts:\n          - {mac: \"52:54:00:00:00:01\", ip: 192.168.50.10, name: web1}\n"
                "          - {ip: 192.168.50.11, name: db1}\n"
                "        bootp: {file: pxelinux.0, server: 192.168.50.1}\n"
                "    - {address: \"fd00:50::1\", prefix: 64, dhcp: {ranges: [{start: \"fd00:50::100\", end: \"fd00:50::1ff\"}]}}\n"
                "---\napiVersion: podform/v1\nkind: Network\nmetadata: {name: routed}\n"
                "spec: {forward: route, bridge: {name: virbr12}, autostart: false,\n"
                "  ips: [{address: 192.168.12.1, prefix: 24, dhcp: {hosts: [{ip: 192.168.12.9, name: pxe}]}}]}\n"
                "---\napiVersion: podform/v1\nkind: Network\nmetadata: {name: isolated}\nspec: {forward: none, active: false}\n"
                "---\napiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: images}\n"
                "spec: {type: dir, path: /srv/images//, autostart: false}\n";
        apply_ok(h, networks, false);
        /* the kernel bridge libvirt would make for natnet: shown as natnet's, not as a Bridge too
         * (which would not load beside it) */
        assert_int_equal(system("ip link add virbr10 type bridge"), 0);
        /* someone else's network, with what podform's format has no key for and a netmask */
        virNetworkPtr net = virNetworkDefineXML(pf_lv_conn(h),
                "<network><name>handmade</name><forward mode='nat'/><bridge name='virbr20' stp='off' delay='0'/>"
                "<dns><host ip='192.168.20.5'><hostname>repo</hostname></host></dns><portgroup name='eng' default='yes'/>"
                "<ip address='192.168.20.1' netmask='255.255.255.0'><dhcp><range start='192.168.20.100' "
                "end='192.168.20.200'/></dhcp></ip></network>");
        assert_non_null(net);
        assert_int_equal(virNetworkCreate(net), 0);
        virNetworkFree(net);
        char *shown = show_host(h);
        static const char *const expected[] = {
                "kind: Network\nmetadata:\n  name: natnet\nspec:\n  forward: nat\n  nat:\n    ports:\n      start: 1024\n"
                "      end: 65000\n  bridge:\n    name: virbr10\n    stp: true\n    forwardDelay: 2\n  mtu: 9000\n"
                "  domain: example.test\n  ips:\n    - address: 192.168.50.1\n      prefix: 24\n      dhcp:\n"
                "        ranges:\n          - start: 192.168.50.100\n            end: 192.168.50.200\n",
                "        hosts:\n          - mac: \"52:54:00:00:00:01\"\n            ip: 192.168.50.10\n            name: web1\n",
                "        bootp:\n          file: pxelinux.0\n          server: 192.168.50.1\n",
                "    - address: \"fd00:50::1\"\n      prefix: 64\n",
                "  name: routed\nspec:\n  forward: route\n  bridge:\n    name: virbr12\n    stp: false\n    forwardDelay: 0\n"
                "  ips:\n    - address: 192.168.12.1\n      prefix: 24\n      dhcp:\n        hosts:\n"
                "          - ip: 192.168.12.9\n            name: pxe\n  autostart: false\n  active: true\n",
                "  name: isolated\nspec:\n  forward: none\n",
                "# not podform's: applied, podform adopts it, manages what this declares and never deletes it\n"
                "apiVersion: podform/v1\nkind: Network\nmetadata:\n  name: handmade\nspec:\n  forward: nat\n"
                "  bridge:\n    name: virbr20\n    stp: false\n    forwardDelay: 0\n  ips:\n    - address: 192.168.20.1\n"
                "      prefix: 24\n",
                "  autostart: false\n  active: true\n  # <dns> is kept as it is: podform's format has no key for it\n"
                "  # <portgroup name='eng' default='yes'> is kept as it is: podform's format has no key for it\n",
                "kind: StoragePool\nmetadata:\n  name: images\nspec:\n  type: dir\n  path: /srv/images\n  autostart: false\n",
                "# bridge virbr10 is libvirt network natnet's own: shown as its bridge.name\n",
        };
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
                expect_contains(shown, expected[i]);
        if (strstr(shown, "kind: Bridge"))
                fail_msg("natnet's bridge is shown as a Bridge too:\n%s", shown);
        expect_show_applies_clean(h, shown);
        free(shown);
        pf_lv_close(h);
}

/* VMs read back from `show`: podform's own (disks in a pool, NICs on a network, a bridge and a
 * macvtap, multiqueue, PCI addresses, boot orders) and one made by hand (a file disk, a volume,
 * a user-mode NIC, graphics), as a configuration under which an apply changes nothing; what the
 * format cannot say is a comment. */
static void test_show_vms_round_trip(void **state) {
        (void) state;
        enter_private_netns();
        assert_int_equal(system("ip link add br-lan type bridge && ip link add eth9 type veth peer name eth9p"), 0);
        pf_lv_host *h = open_host("kvm01.xml");
        static const char vms[] =
                "#only\napiVersion: podform/v1\nkind: StoragePool\nmetadata: {name: images}\n"
                "spec: {type: dir, path: /srv/images}\n"
                "---\napiVersion: podform/v1\nkind: Network\nmetadata: {name: lan}\n"
                "spec: {forward: nat, bridge: {name: virbr30}, ips: [{address: 192.168.30.1, prefix: 24}]}\n"
                "---\napiVersion: podform/v1\nkind: VirtualMachine\nmetadata: {name: web1}\nspec:\n  running: false\n"
                "  domain:\n    cpu: {sockets: 1, cores: 2, threads: 1}\n    memory: 1536Mi\n    devices:\n"
                "      disks:\n        - {name: root, size: 2Gi, pool: images, format: qcow2, bus: virtio, bootOrder: 2}\n"
                "        - {name: data, size: 1Gi, pool: images, format: raw, bus: sata}\n"
                "      interfaces:\n"
                "        - {name: lan, bridge: {}, pciAddress: \"0000:00:05.0\", bootOrder: 1}\n"
                "        - {name: up, bridge: {}, model: e1000}\n"
                "        - {name: tap, macvtap: {mode: private}}\n"
                "      networkInterfaceMultiqueue: true\n"
                "  networks:\n    - {name: lan, network: lan}\n    - {name: up, host: {interface: br-lan}}\n"
                "    - {name: tap, host: {interface: eth9}}\n";
        apply_ok(h, vms, false);
        virStoragePoolPtr pool = virStoragePoolLookupByName(pf_lv_conn(h), "images");
        assert_non_null(pool);
        virStorageVolPtr vol = virStorageVolCreateXML(pool, "<volume><name>hand-root</name><capacity unit='MiB'>512</capacity>"
                                                            "<target><format type='qcow2'/></target></volume>", 0);
        assert_non_null(vol);
        virStorageVolFree(vol);
        virStoragePoolFree(pool);
        virDomainPtr dom = virDomainDefineXML(pf_lv_conn(h),
                "<domain type='kvm'><name>hand</name><memory unit='KiB'>524288</memory>"
                "<currentMemory unit='KiB'>262144</currentMemory><vcpu cpuset='0'>1</vcpu>"
                "<os><type arch='x86_64'>hvm</type><boot dev='hd'/><boot dev='network'/></os>"
                "<features><acpi/><pae/></features><cpu mode='host-passthrough'/><devices>"
                "<disk type='file' device='disk'><source file='/srv/images/hand.img'/><target dev='vda' bus='virtio'/></disk>"
                "<disk type='volume' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source pool='images' volume='hand-root'/>"
                "<target dev='vdb' bus='virtio'/><serial>R1</serial></disk>"
                "<interface type='network'><mac address='52:54:00:aa:00:01'/><source network='lan'/><model type='rtl8139'/>"
                "<bandwidth><inbound average='1000'/></bandwidth></interface>"
                "<interface type='user'><mac address='52:54:00:aa:00:02'/><model type='virtio'/></interface>"
                "<serial type='pty'><target port='0'/></serial><graphics type='vnc'/></devices></domain>");
        assert_non_null(dom);
        virDomainFree(dom);
        char *shown = show_host(h);
        static const char *const expected[] = {
                "kind: VirtualMachine\nmetadata:\n  name: hand\nspec:\n  running: false\n  autostart: false\n  domain:\n"
                "    type: kvm\n    arch: x86_64\n",
                "    cpu:\n      cores: 1\n    memory: 512Mi\n    boot: [hd, network]\n",
                "    devices:\n"
                "      # <disk type='file' device='disk'> vda (/srv/images/hand.img) is kept as it is: podform's disks are "
                "volumes named hand-DISK in a pool\n      disks:\n        - name: root\n          size: 512Mi\n"
                "          pool: images\n          format: qcow2\n          bus: virtio\n",
                "      interfaces:\n        - name: net0\n          bridge: {}\n          model: rtl8139\n"
                "          macAddress: \"52:54:00:aa:00:01\"\n",
                "          # kept as it is: <bandwidth>\n",
                "    # kept as they are: <clock>, <on_poweroff>, <on_reboot>, <on_crash>; in <features> <pae>; in <cpu> "
                "mode='host-passthrough'\n    # <vcpu cpuset='0'>: podform's format has no key for it, and podform's next "
                "change to this VM's definition drops it\n    # <currentMemory> 262144 KiB: podform's next change to this "
                "VM's definition makes it the memory\n",
                "          # kept as they are: <serial>, <driver cache='none'>\n",
                "        - name: net1\n          slirp: {}\n          model: virtio\n          macAddress: \"52:54:00:aa:00:02\"\n",
                "      # kept as they are: <graphics>, <video>\n",
                "  networks:\n    - name: net0\n      network: lan\n    - name: net1\n      pod: {}\n",
                "  name: web1\nspec:\n  running: false\n  autostart: false\n  domain:\n    type: qemu\n    arch: x86_64\n",
                "    cpu:\n      sockets: 1\n      cores: 2\n      threads: 1\n    memory: 1536Mi\n"
                "    # kept as they are: <clock>, <on_poweroff>, <on_reboot>, <on_crash>\n    devices:\n",
                "      disks:\n        - name: root\n          size: 2Gi\n          pool: images\n          format: qcow2\n"
                "          bus: virtio\n          bootOrder: 2\n        - name: data\n          size: 1Gi\n"
                "          pool: images\n          format: raw\n          bus: sata\n",
                "        - name: lan\n          bridge: {}\n          model: virtio\n",
                "          pciAddress: \"0000:00:05.0\"\n          bootOrder: 1\n",
                "        - name: tap\n          macvtap:\n            mode: private\n          model: virtio\n",
                "      networkInterfaceMultiqueue: true\n",
                "  networks:\n    - name: lan\n      network: lan\n    - name: up\n      host:\n        interface: br-lan\n"
                "    - name: tap\n      host:\n        interface: eth9\n",
        };
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
                expect_contains(shown, expected[i]);
        expect_show_applies_clean(h, shown);
        free(shown);
        /* a disk where podform would not put it: said, since the next apply moves it */
        pool = virStoragePoolLookupByName(pf_lv_conn(h), "images");
        vol = virStorageVolCreateXML(pool, "<volume><name>odd-root</name><capacity unit='MiB'>64</capacity></volume>", 0);
        assert_non_null(vol);
        virStorageVolFree(vol);
        virStoragePoolFree(pool);
        dom = virDomainDefineXML(pf_lv_conn(h),
                "<domain type='qemu'><name>odd</name><memory unit='KiB'>524288</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64'>hvm</type></os><devices><disk type='volume' device='disk'>"
                "<driver name='qemu' type='raw'/><source pool='images' volume='odd-root'/><target dev='vdc' bus='virtio'/>"
                "</disk></devices></domain>");
        assert_non_null(dom);
        shown = show_host(h);
        expect_contains(shown, "        - name: root\n          size: 64Mi\n          pool: images\n          format: raw\n"
                               "          bus: virtio\n"
                               "          # libvirt calls it vdc; podform numbers a bus's disks in order and calls it vda\n");
        expect_contains(shown, "      autoattachPodInterface: false\n");
        free(shown);
        assert_int_equal(virDomainUndefine(dom), 0);
        virDomainFree(dom);
        pf_lv_close(h);
}

/* Define someone else's network from XML, as a hand or another tool would. */
static void define_network(pf_lv_host *h, const char *xml) {
        virNetworkPtr net = virNetworkDefineXML(pf_lv_conn(h), xml);
        if (!net)
                fail_msg("the test driver refuses %s", xml);
        virNetworkFree(net);
}

/* What `show` cannot write as a key is a comment naming the element or the value, never
 * dropped; a network whose compared values the format cannot say (a forward mode it lacks, a
 * NAT port 0, a DHCP host known by its DUID alone) is shown wholly as comments, saying why, so
 * that the rest loads and an apply leaves it as it is. */
static void test_show_says_what_it_cannot_write(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        define_network(h, "<network><name>extras</name><forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.10'/>"
                          "<port start='1024' end='65535'/></nat></forward><bridge name='virbr21' stp='on' delay='0' "
                          "macTableManager='libvirt'/><mac address='52:54:00:0a:0b:0c'/><domain name='hm.test' "
                          "localOnly='yes'/><bandwidth><inbound average='1000'/></bandwidth><port isolated='yes'/>"
                          "<ip address='192.168.21.1' prefix='24' localPtr='yes'><tftp root='/srv/tftp'/><dhcp>"
                          "<range start='192.168.21.100' end='192.168.21.200'><lease expiry='2' unit='hours'/></range>"
                          "</dhcp></ip><route address='10.1.0.0' prefix='16' gateway='192.168.21.2'/></network>");
        define_network(h, "<network><name>duid</name><ip family='ipv6' address='fd00:61::1' prefix='64'><dhcp>"
                          "<host id='0:3:0:1:0:16:3e:11:22:33' name='vm6' ip='fd00:61::10'/></dhcp></ip></network>");
        define_network(h, "<network><name>hostdevs</name><forward mode='hostdev' managed='yes'><pf dev='eno9'/>"
                          "</forward></network>");
        define_network(h, "<network><name>duidonly</name><ip family='ipv6' address='fd00:62::1' prefix='64'><dhcp>"
                          "<host id='0:3:0:1:0:16:3e:11:22:44' ip='fd00:62::10'/></dhcp></ip></network>");
        define_network(h, "<network><name>port0</name><forward mode='nat'><nat><port start='0' end='1023'/></nat>"
                          "</forward><ip address='192.168.31.1' prefix='24'/></network>");
        char *shown = show_host(h);
        if (getenv("PODFORM_TEST_SHOW"))
                fputs(shown, stderr);
        static const char *const expected[] = {
                "  name: extras\nspec:\n  forward: nat\n  nat:\n    ports:\n      start: 1024\n      end: 65535\n",
                "  # <forward mode='nat'><nat><address start='1.2.3.4' end='1.2.3.10'>: podform's format has no key for it, and "
                "podform redefining the network drops it\n",
                "  # <bridge name='virbr21' macTableManager='libvirt'>: podform's format has no key for it, and podform "
                "redefining the network drops it\n",
                "  # <mac address='52:54:00:0a:0b:0c'> is kept as it is: podform's format has no key for it\n",
                "  # <domain name='hm.test' localOnly='yes'>: podform's format",
                "  # <bandwidth> is kept as it is",
                "  # <port isolated='yes'> is kept as it is",
                "  # <ip address='192.168.21.1' localPtr='yes'>: podform's format has no key for it",
                "  # <ip address='192.168.21.1'><tftp root='/srv/tftp'>: podform's format",
                "  # <ip address='192.168.21.1'><dhcp><range start='192.168.21.100'><lease expiry='2' unit='hours'>: "
                "podform's format",
                "  # <route address='10.1.0.0' prefix='16' gateway='192.168.21.2'> is kept as it is",
                "        hosts:\n          - ip: \"fd00:61::10\"\n            name: vm6\n",
                "  # <ip address='fd00:61::1'><dhcp><host ip='fd00:61::10' id='0:3:0:1:0:16:3e:11:22:33'>: podform's",
                "# Network hostdevs is shown as comments, as it is on the host: podform's format cannot say it (",
                "# kind: Network\n# metadata:\n#   name: hostdevs\n# spec:\n#   forward: hostdev\n",
                "# Network duidonly is shown as comments, as it is on the host: podform's format cannot say it (DHCP host "
                "needs \"mac\" or \"name\"",
                "# Network port0 is shown as comments, as it is on the host: podform's format cannot say it (",
                "#   nat:\n#     ports:\n#       start: 0\n#       end: 1023\n",
        };
        for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
                expect_contains(shown, expected[i]);
        expect_show_applies_clean(h, shown);
        free(shown);
        pf_lv_close(h);
}

/* A podform VM whose interface took its address from constraints: the shown backend no longer
 * asks for it, so show says how to keep it. */
static void test_show_says_a_constraint_address(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        apply_ok(h, orig_only, false);
        char *shown = show_host(h);
        expect_contains(shown, "    # interface pxe holds 10.20.0.9 from its constraints: applied as shown, podform forgets it; "
                               "give network pxe constraints: {ip: 10.20.0.9} to keep it\n");
        free(shown);
        pf_lv_close(h);
}

/* Two VMs libvirt accepts with one MAC: each document loads alone, not both together, so the
 * second is written as comments saying why, and what show prints loads and changes nothing. */
static void test_show_refuses_a_clash(void **state) {
        (void) state;
        enter_private_netns();
        pf_lv_host *h = open_host("kvm01.xml");
        for (int i = 1; i <= 2; i++) {
                char *xml;
                assert_true(asprintf(&xml, "<domain type='qemu'><name>twin%d</name><memory unit='KiB'>131072</memory>"
                                           "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>"
                                           "<interface type='user'><mac address='52:54:00:77:00:01'/><model type='virtio'/>"
                                           "</interface><serial type='pty'/></devices></domain>", i) > 0);
                virDomainPtr dom = virDomainDefineXML(pf_lv_conn(h), xml);
                assert_non_null(dom);
                virDomainFree(dom);
                free(xml);
        }
        char *shown = show_host(h);
        expect_contains(shown, "  name: twin1\n");
        expect_contains(shown, "# VirtualMachine twin2 is shown as comments, as it is on the host: podform's format cannot "
                               "say it (macAddress 52:54:00:77:00:01 is already used; MAC addresses must be unique)\n");
        expect_show_applies_clean(h, shown);
        free(shown);
        pf_lv_close(h);
}

/* The engine knows the kinds by pf_rkind alone (it includes nothing of kinds/): its view must
 * be the table's. Each entry sits at its own pf_rkind, and creation order follows the order
 * classes; a link kind is a link to the engine. */
static void test_kinds_table_and_engine_agree(void **state) {
        (void) state;
        pf_order previous = PF_ORDER_LINK;
        for (pf_rkind r = 0; r < _PF_R_MAX; r++) {
                const pf_kind_ops *ops = pf_kinds[r];
                assert_non_null(ops);
                if (ops->rkind != r)
                        fail_msg("pf_kinds[%s] holds the kind %s", pf_rkind_name(r), pf_rkind_name(ops->rkind));
                if (pf_rkind_is_link(r) != ((ops->flags & PF_KIND_LINK) != 0))
                        fail_msg("%s: the engine and the table disagree on whether it is a host link", pf_rkind_name(r));
                if ((ops->flags & PF_KIND_LINK) != (ops->link != NULL))
                        fail_msg("%s: a link kind has link operations, and only a link kind", pf_rkind_name(r));
                if (ops->order < previous)
                        fail_msg("%s comes after a kind of a later order class", pf_rkind_name(r));
                if (!ops->show)
                        fail_msg("%s: podform show would leave its objects out", pf_rkind_name(r));
                previous = ops->order;
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_link_kinds_named),
                cmocka_unit_test(test_empty_dhcp_refused),
                cmocka_unit_test_teardown(test_show_networks_round_trip, leave_private_netns),
                cmocka_unit_test_teardown(test_show_vms_round_trip, leave_private_netns),
                cmocka_unit_test_teardown(test_show_says_a_constraint_address, leave_private_netns),
                cmocka_unit_test_teardown(test_show_refuses_a_clash, leave_private_netns),
                cmocka_unit_test_teardown(test_show_says_what_it_cannot_write, leave_private_netns),
                cmocka_unit_test(test_owner_record_long_names),
                cmocka_unit_test(test_kinds_table_and_engine_agree),
                cmocka_unit_test(test_apply_then_nothing),
                cmocka_unit_test(test_parallel_same_as_one_at_a_time),
                cmocka_unit_test(test_parallel_fault_skips_dependents),
                cmocka_unit_test(test_apply_example),
                cmocka_unit_test(test_stable_mac),
                cmocka_unit_test(test_change_needs_restart),
                cmocka_unit_test(test_dhcp_edit_is_live),
                cmocka_unit_test(test_structural_change_recreates),
                cmocka_unit_test(test_deleted_by_hand_comes_back),
                cmocka_unit_test(test_prune_leaves_foreign_alone),
                cmocka_unit_test(test_shrink_refused),
                cmocka_unit_test(test_capacity_refused),
                cmocka_unit_test(test_running_false_shuts_down),
                cmocka_unit_test(test_pod_network_is_a_plan_error),
                cmocka_unit_test(test_pod_network_on_declared_maas),
                cmocka_unit_test(test_dangling_references),
                cmocka_unit_test(test_near_miss_references),
                cmocka_unit_test(test_masquerade_without_passt),
                cmocka_unit_test(test_adopted_vm_is_never_pruned),
                cmocka_unit_test(test_removed_disk_volume_stays_owned),
                cmocka_unit_test(test_dhcp_swap_converges),
                cmocka_unit_test(test_adopted_network_keeps_the_rest),
                cmocka_unit_test(test_prune_spares_network_in_foreign_use),
                cmocka_unit_test(test_clone_is_not_owned),
                cmocka_unit_test_teardown(test_copy_keeps_its_originals_record, leave_private_netns),
                cmocka_unit_test_teardown(test_copy_with_the_same_mac, leave_private_netns),
                cmocka_unit_test(test_prune_drops_maas_from_the_pod_rules),
                cmocka_unit_test_teardown(test_prune_frees_a_recorded_address, leave_private_netns),
                cmocka_unit_test_teardown(test_live_record_resumes, leave_private_netns),
                cmocka_unit_test(test_pool_path),
                cmocka_unit_test(test_decimal_sizes),
                cmocka_unit_test(test_type_from_the_host_without_kvm),
                cmocka_unit_test(test_type_from_the_domain_capabilities),
                cmocka_unit_test(test_capabilities_documents),
                cmocka_unit_test(test_network_stp_default),
                cmocka_unit_test(test_volume_in_whole_kib_is_the_size_asked),
                cmocka_unit_test(test_every_fault_converges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
